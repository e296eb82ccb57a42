//! Registration, password login, password change, staff accounts.

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_contracts::identity::{AccountKind, UserRegisteredV1};
use tenor_contracts::sources;
use tenor_events::{Envelope, enqueue};
use tenor_platform::graphql::{ClientInfo, UserError};
use tenor_platform::text::TextPolicy;
use uuid::Uuid;

use crate::domain::identity::{self, IdentifierError};
use crate::domain::password;
use crate::domain::throttle::{after_failure, refused};
use crate::service::{AuthService, Failure, IssuedTokens, Outcome, SessionOrigin, reject};
use crate::store::accounts::{self, NewAccount, Taken};
use crate::store::sessions::Revoke;

pub const MAX_FULLNAME_CHARS: usize = 100;
pub const MAX_DEVICE_TEXT_CHARS: usize = 128;

pub struct Registration {
    pub fullname: String,
    pub email: String,
    pub phone_number: String,
    pub password: String,
}

/// Validated registration input.
#[derive(Debug)]
struct Valid {
    fullname: String,
    email: String,
    phone: String,
}

fn validate(input: &Registration) -> Result<Valid, Vec<UserError>> {
    let mut errors = Vec::new();
    // The platform text policy (NFC, no control/bidi/invisible/tag characters, whitespace
    // collapsed); every refusal keeps the published code FULLNAME_INVALID.
    let fullname = match TextPolicy::single_line(MAX_FULLNAME_CHARS)
        .clean("fullname", &input.fullname)
    {
        Ok(fullname) => fullname,
        Err(refusal) => {
            let message = if refusal.is_invalid_characters() {
                "Nama lengkap mengandung karakter yang tidak diizinkan. / Full name contains characters that are not allowed.".to_owned()
            } else {
                format!(
                    "Nama lengkap 1–{MAX_FULLNAME_CHARS} karakter. / Full name must be 1–{MAX_FULLNAME_CHARS} characters."
                )
            };
            errors.push(UserError::new(
                "FULLNAME_INVALID",
                Some("fullname"),
                message,
            ));
            String::new()
        }
    };
    let email = identity::normalise_email(&input.email);
    if email == Err(IdentifierError::EmailInvalid) {
        errors.push(UserError::new(
            "EMAIL_INVALID",
            Some("email"),
            "Alamat email tidak valid. / The email address is not valid.",
        ));
    }
    let phone = identity::normalise_phone(&input.phone_number);
    if phone.is_err() {
        errors.push(UserError::new(
            "PHONE_INVALID",
            Some("phoneNumber"),
            "Nomor HP Indonesia tidak valid (08…/+628…). / Not a valid Indonesian mobile number.",
        ));
    }
    let personal: Vec<&str> = [
        input.fullname.as_str(),
        input.email.as_str(),
        input.phone_number.as_str(),
    ]
    .into_iter()
    .chain(input.fullname.split_whitespace())
    .collect();
    if let Err(rejection) = password::check_policy(&input.password, &personal) {
        errors.push(UserError::new(
            rejection.code(),
            Some("password"),
            rejection.message(),
        ));
    }
    match (email, phone, errors.is_empty()) {
        (Ok(email), Ok(phone), true) => Ok(Valid {
            fullname,
            email,
            phone,
        }),
        _ => Err(errors),
    }
}

fn taken(which: Taken) -> UserError {
    match which {
        Taken::Email => UserError::new(
            "EMAIL_TAKEN",
            Some("email"),
            "Email sudah terdaftar. / This email is already registered.",
        ),
        Taken::Phone => UserError::new(
            "PHONE_TAKEN",
            Some("phoneNumber"),
            "Nomor HP sudah terdaftar. / This phone number is already registered.",
        ),
    }
}

/// One answer for unknown account, wrong password and malformed identifier.
fn invalid_credentials<T>() -> Outcome<T> {
    reject(
        "INVALID_CREDENTIALS",
        None,
        "Email/nomor HP atau kata sandi salah. / Wrong email/phone or password.",
    )
}

impl AuthService {
    /// Create a customer account and announce it (`user.registered`) in the same transaction.
    pub async fn register(&self, input: Registration) -> Outcome<Uuid> {
        let valid = validate(&input).map_err(Failure::Rejected)?;
        let mut conn = self.conn().await?;
        // Cheap check first, so a duplicate does not cost an argon2 hash; the unique indexes
        // below remain the real guard against a concurrent duplicate.
        let (email_taken, phone_taken) =
            accounts::exists(&mut conn, &valid.email, &valid.phone).await?;
        let mut errors = Vec::new();
        if email_taken {
            errors.push(taken(Taken::Email));
        }
        if phone_taken {
            errors.push(taken(Taken::Phone));
        }
        if !errors.is_empty() {
            return Err(Failure::Rejected(errors));
        }
        let hash = password::hash_async(input.password).await;
        let user_id = Uuid::now_v7();
        self.create_account(
            &mut conn,
            user_id,
            &valid.email,
            Some(&valid.phone),
            &valid.fullname,
            &hash,
            AccountKind::Customer,
            vec![],
        )
        .await?;
        tracing::info!(%user_id, "account registered");
        Ok(user_id)
    }

    /// Insert the account and its `user.registered` event atomically.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_account(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        user_id: Uuid,
        email: &str,
        phone: Option<&str>,
        fullname: &str,
        hash: &str,
        kind: AccountKind,
        scopes: Vec<String>,
    ) -> Outcome<()> {
        let event = UserRegisteredV1 {
            user_id,
            email: email.to_owned(),
            phone_number: phone.map(str::to_owned),
            fullname: fullname.to_owned(),
            kind,
            registered_at: Utc::now(),
        };
        let envelope = Envelope::new(sources::AUTH, user_id.to_string(), &event, None)
            .map_err(|e| Failure::Internal(e.into()))?;
        let topic = self.auth_events_topic.clone();
        let kind = match kind {
            AccountKind::Customer => "CUSTOMER",
            AccountKind::Staff => "STAFF",
        };
        let inserted = conn
            .transaction::<Result<(), Taken>, diesel::result::Error, _>(async |conn| {
                let inserted = accounts::insert(
                    conn,
                    NewAccount {
                        auth_id: user_id,
                        email,
                        phone_number: phone,
                        password_hash: hash,
                        kind,
                        scopes,
                    },
                )
                .await?;
                if inserted.is_ok() {
                    enqueue(conn, &topic, &envelope).await?;
                }
                Ok(inserted)
            })
            .await?;
        inserted.map_err(|which| Failure::Rejected(vec![taken(which)]))
    }

    /// Password login with per-account and per-source throttling. Unknown account and wrong
    /// password give the same answer after the same work.
    pub async fn login(
        &self,
        identifier: &str,
        password: String,
        device_id: Option<&str>,
        device_name: Option<&str>,
        client: &ClientInfo,
    ) -> Outcome<IssuedTokens> {
        if password.chars().count() > password::MAX_CHARS {
            return invalid_credentials();
        }
        let mut conn = self.conn().await?;
        if let Some(ip) = client.ip.as_deref() {
            let window =
                chrono::Duration::from_std(self.throttle.source_window).expect("window fits");
            let failures =
                accounts::recent_failures_from(&mut conn, ip, Utc::now() - window).await?;
            if failures >= self.throttle.max_failures_per_source {
                return reject(
                    "LOGIN_THROTTLED",
                    None,
                    "Terlalu banyak percobaan. Coba lagi nanti. / Too many attempts, try again later.",
                );
            }
        }
        let Ok(identifier) = identity::normalise_login_identifier(identifier) else {
            password::verify_async(password, None).await;
            return invalid_credentials();
        };
        let throttle = self.throttle.clone();
        let outcome = conn
            .transaction::<Outcome<crate::service::PendingTokens>, diesel::result::Error, _>(async |conn| {
                let now = Utc::now();
                let account = accounts::find_for_login(conn, &identifier).await?;
                let Some(account) = account else {
                    password::verify_async(password, None).await;
                    accounts::record_attempt(conn, None, client.ip.as_deref(), false, "PASSWORD").await?;
                    return Ok(invalid_credentials());
                };
                if let Some(wait) = refused(account.locked_until, now) {
                    let minutes = wait.as_secs().div_ceil(60);
                    return Ok(if account.failed_login_count as u32 >= throttle.lock_after {
                        reject(
                            "ACCOUNT_LOCKED",
                            None,
                            format!("Akun dikunci sementara, coba lagi dalam {minutes} menit. / Account temporarily locked, try again in {minutes} min."),
                        )
                    } else {
                        reject(
                            "LOGIN_THROTTLED",
                            None,
                            format!("Tunggu {} detik sebelum mencoba lagi. / Wait {} s before trying again.", wait.as_secs().max(1), wait.as_secs().max(1)),
                        )
                    });
                }
                let verified = password::verify_async(password, account.password_hash.clone()).await;
                if !verified {
                    let after = after_failure(&throttle, account.failed_login_count, now);
                    accounts::record_failure(conn, account.auth_id, after.failed_count, after.refused_until).await?;
                    accounts::record_attempt(conn, Some(account.auth_id), client.ip.as_deref(), false, "PASSWORD").await?;
                    if after.locked {
                        tracing::warn!(user_id = %account.auth_id, "account locked after repeated login failures");
                    }
                    return Ok(invalid_credentials());
                }
                if account.status != "ACTIVE" {
                    return Ok(reject(
                        "ACCOUNT_BLOCKED",
                        None,
                        "Akun ini diblokir. Hubungi layanan pelanggan. / This account is blocked, please contact support.",
                    ));
                }
                accounts::record_success(conn, account.auth_id).await?;
                accounts::record_attempt(conn, Some(account.auth_id), client.ip.as_deref(), true, "PASSWORD").await?;
                let origin = SessionOrigin {
                    method: "PASSWORD",
                    device_id,
                    device_name,
                    user_agent: client.user_agent.as_deref(),
                    ip: client.ip.as_deref(),
                };
                Ok(Ok(self.open_session(conn, &account, &origin).await?))
            })
            .await?;
        let pending = outcome?;
        Ok(self.finish(pending).await?)
    }

    /// Change the password after checking the current one; every other session is logged out.
    pub async fn change_password(
        &self,
        user_id: Uuid,
        session_id: Option<Uuid>,
        current: String,
        new: String,
    ) -> Outcome<()> {
        let mut conn = self.conn().await?;
        let Some(account) = accounts::find(&mut conn, user_id).await? else {
            return reject(
                "ACCOUNT_NOT_FOUND",
                None,
                "Akun tidak ditemukan. / Account not found.",
            );
        };
        if current.chars().count() > password::MAX_CHARS
            || !password::verify_async(current, account.password_hash.clone()).await
        {
            return reject(
                "INVALID_CREDENTIALS",
                Some("currentPassword"),
                "Kata sandi saat ini salah. / The current password is wrong.",
            );
        }
        let personal: Vec<&str> = [account.email.as_deref(), account.phone_number.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if let Err(rejection) = password::check_policy(&new, &personal) {
            return reject(rejection.code(), Some("newPassword"), rejection.message());
        }
        let hash = password::hash_async(new).await;
        let ended = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                accounts::set_password(conn, user_id, &hash).await?;
                self.revoke_sessions(
                    conn,
                    Revoke::AllOf {
                        auth_id: user_id,
                        except: session_id,
                    },
                    "PASSWORD_CHANGED",
                )
                .await
            })
            .await?;
        self.revoked(&ended).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Registration {
        Registration {
            fullname: "Siti Rahayu".into(),
            email: "Siti@Example.id".into(),
            phone_number: "0812-3456-7890".into(),
            password: "kopi susu di pagi hari".into(),
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let valid = validate(&input()).unwrap();
        assert_eq!(valid.email, "siti@example.id");
        assert_eq!(valid.phone, "+6281234567890");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = validate(&Registration {
            fullname: " ".into(),
            email: "nope".into(),
            phone_number: "12345".into(),
            password: "password".into(),
        })
        .unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            vec![
                "FULLNAME_INVALID",
                "EMAIL_INVALID",
                "PHONE_INVALID",
                "PASSWORD_TOO_COMMON"
            ]
        );
    }

    #[test]
    fn oversize_fields_are_refused() {
        let mut long = input();
        long.fullname = "a".repeat(MAX_FULLNAME_CHARS + 1);
        assert_eq!(validate(&long).unwrap_err()[0].code, "FULLNAME_INVALID");
    }
}
