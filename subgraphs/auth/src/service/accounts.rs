//! Registration, staff accounts (created by the operator command) and password change.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use tenor_contracts::identity::{AccountKind, UserRegisteredV1};
use tenor_platform::refusal::{Failure, ServiceError, refuse};
use uuid::Uuid;

use super::{AuthService, Outcome};
use crate::domain::password;
use crate::domain::refusal::AuthRefusal;
use crate::domain::registration::validate;
pub use crate::domain::registration::{MAX_FULLNAME_CHARS, Registration};
use crate::domain::session::RevokeReason;
use crate::events::publish;
use crate::store::accounts::{self, NewAccount, Taken};
use crate::store::sessions::Revoke;

fn taken(which: Taken) -> AuthRefusal {
    match which {
        Taken::Email => AuthRefusal::EmailTaken,
        Taken::Phone => AuthRefusal::PhoneTaken,
    }
}

impl AuthService {
    /// Create a customer account and announce it (`user.registered`) in the same transaction.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: Registration) -> Outcome<Uuid> {
        let valid = validate(&input).map_err(Failure::Refused)?;
        let mut conn = self.conn().await?;
        // Cheap check first, so a duplicate does not cost an argon2 hash; the unique indexes
        // below remain the real guard against a concurrent duplicate.
        let (email_taken, phone_taken) =
            accounts::exists(&mut conn, &valid.email, &valid.phone).await?;
        let mut refusals = Vec::new();
        if email_taken {
            refusals.push(taken(Taken::Email));
        }
        if phone_taken {
            refusals.push(taken(Taken::Phone));
        }
        if !refusals.is_empty() {
            return Err(Failure::Refused(refusals));
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
    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn create_account(
        &self,
        conn: &mut AsyncPgConnection,
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
        let publisher = self.publisher();
        let inserted = conn
            .transaction::<Result<(), Taken>, ServiceError, _>(async |conn| {
                let inserted = accounts::insert(
                    conn,
                    NewAccount {
                        auth_id: user_id,
                        email,
                        phone_number: phone,
                        password_hash: hash,
                        kind: kind.into(),
                        scopes,
                    },
                )
                .await?;
                if inserted.is_ok() {
                    publish::user_registered(conn, &publisher, &event).await?;
                }
                Ok(inserted)
            })
            .await?;
        inserted.or_else(|which| refuse(taken(which)))
    }

    /// Change the password after checking the current one; every other session is logged out.
    /// The change, `auth.password.changed` and (when other sessions ended) `auth.sessions.ended`
    /// commit together; a refused change publishes nothing.
    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn change_password(
        &self,
        user_id: Uuid,
        session_id: Option<Uuid>,
        current: String,
        new: String,
    ) -> Outcome<()> {
        let mut conn = self.conn().await?;
        let Some(account) = accounts::find(&mut conn, user_id).await? else {
            return refuse(AuthRefusal::AccountNotFound);
        };
        let unchanged = new == current;
        if current.chars().count() > password::MAX_CHARS
            || !password::verify_async(current, account.password_hash.clone()).await
        {
            return refuse(AuthRefusal::CurrentPasswordWrong);
        }
        if unchanged {
            return refuse(AuthRefusal::Password {
                rejection: password::PasswordRejection::Unchanged,
                field: "newPassword",
            });
        }
        let personal: Vec<&str> = [account.email.as_deref(), account.phone_number.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if let Err(rejection) = password::check_policy(&new, &personal) {
            return refuse(AuthRefusal::Password {
                rejection,
                field: "newPassword",
            });
        }
        let hash = password::hash_async(new).await;
        let publisher = self.publisher();
        // Verified above, so present (a deleted account has none and never gets here).
        let verified = account.password_hash.as_deref().unwrap_or_default();
        let ended = conn
            .transaction::<_, ServiceError, _>(async |conn| {
                let Some(changed_at) =
                    accounts::set_password(conn, user_id, verified, &hash).await?
                else {
                    // Changed by another request since it was verified: nothing written.
                    return Ok(None);
                };
                publish::password_changed(conn, &publisher, user_id, changed_at).await?;
                let reason = RevokeReason::PasswordChanged;
                let which = Revoke::AllOf {
                    auth_id: user_id,
                    except: session_id,
                };
                let ended = self.revoke_sessions(conn, which, reason).await?;
                publish::all_sessions_ended(conn, &publisher, user_id, &ended, reason).await?;
                Ok(Some(ended))
            })
            .await?;
        let Some(ended) = ended else {
            return refuse(AuthRefusal::CurrentPasswordWrong);
        };
        self.revoked(&ended).await;
        Ok(())
    }
}
