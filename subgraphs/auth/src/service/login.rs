//! Password login, with per-account and per-source throttling. Unknown account and wrong
//! password give the same answer after the same work.

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_platform::graphql::ClientInfo;
use tenor_platform::refusal::{ServiceError, refuse};

use super::{AuthService, IssuedTokens, Outcome, PendingTokens, SessionOrigin};
use crate::domain::account::AccountStatus;
use crate::domain::device::login_device;
use crate::domain::identity;
use crate::domain::password;
use crate::domain::refusal::AuthRefusal;
use crate::domain::session::AuthMethod;
use crate::domain::throttle::{after_failure, refused};
use crate::store::accounts;

impl AuthService {
    /// Sign in with email or phone number and password; the device (if given) names the
    /// session in the session list.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        identifier: &str,
        password: String,
        device_id: Option<&str>,
        device_name: Option<&str>,
        client: &ClientInfo,
    ) -> Outcome<IssuedTokens> {
        let device_name = match login_device(device_id, device_name) {
            Ok(name) => name,
            Err(refusal) => return refuse(refusal),
        };
        if password.chars().count() > password::MAX_CHARS {
            return refuse(AuthRefusal::InvalidCredentials);
        }
        let mut conn = self.conn().await?;
        if let Some(ip) = client.ip.as_deref() {
            let window =
                chrono::Duration::from_std(self.throttle.source_window).expect("window fits");
            let failures =
                accounts::recent_failures_from(&mut conn, ip, Utc::now() - window).await?;
            if failures >= self.throttle.max_failures_per_source {
                return refuse(AuthRefusal::SourceThrottled);
            }
        }
        let Ok(identifier) = identity::normalise_login_identifier(identifier) else {
            password::verify_async(password, None).await;
            return refuse(AuthRefusal::InvalidCredentials);
        };
        let throttle = self.throttle.clone();
        let ip = client.ip.as_deref();
        let outcome = conn
            .transaction::<Outcome<PendingTokens>, ServiceError, _>(async |conn| {
                let now = Utc::now();
                let account = accounts::find_for_login(conn, &identifier).await?;
                let Some(account) = account else {
                    password::verify_async(password, None).await;
                    accounts::record_attempt(conn, None, ip, false, AuthMethod::Password).await?;
                    return Ok(refuse(AuthRefusal::InvalidCredentials));
                };
                if let Some(wait) = refused(account.locked_until, now) {
                    return Ok(refuse(
                        if account.failed_login_count as u32 >= throttle.lock_after {
                            AuthRefusal::AccountLocked {
                                minutes: wait.as_secs().div_ceil(60),
                            }
                        } else {
                            AuthRefusal::LoginDelayed {
                                seconds: wait.as_secs().max(1),
                            }
                        },
                    ));
                }
                let verified =
                    password::verify_async(password, account.password_hash.clone()).await;
                if !verified {
                    let after = after_failure(&throttle, account.failed_login_count, now);
                    accounts::record_failure(
                        conn,
                        account.auth_id,
                        after.failed_count,
                        after.refused_until,
                    )
                    .await?;
                    accounts::record_attempt(
                        conn,
                        Some(account.auth_id),
                        ip,
                        false,
                        AuthMethod::Password,
                    )
                    .await?;
                    if after.locked {
                        tracing::warn!(user_id = %account.auth_id, "account locked after repeated login failures");
                    }
                    return Ok(refuse(AuthRefusal::InvalidCredentials));
                }
                if account.status != AccountStatus::Active {
                    return Ok(refuse(AuthRefusal::AccountBlockedContactSupport));
                }
                accounts::record_success(conn, account.auth_id).await?;
                accounts::record_attempt(conn, Some(account.auth_id), ip, true, AuthMethod::Password)
                    .await?;
                let origin = SessionOrigin {
                    method: AuthMethod::Password,
                    device_id,
                    device_name: device_name.as_deref(),
                    user_agent: client.user_agent.as_deref(),
                    ip,
                };
                Ok(Ok(self.open_session(conn, &account, &origin).await?))
            })
            .await?;
        Ok(self.finish(outcome?).await?)
    }
}
