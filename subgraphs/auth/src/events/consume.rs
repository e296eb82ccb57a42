//! What auth consumes.
//!
//! - `user.status.changed` from the user context ([`UserStatusHandler`]): blocking or deleting an
//!   account revokes every session at once — refresh stops working, and each ended session is
//!   announced (`auth.session.revoked`) in the same transaction, so the router refuses its
//!   access tokens and its live subscriptions end (see `service::revocation`) — and login is
//!   refused until the account is ACTIVE again.
//! - its own `auth.session.revoked` ([`RevocationMirror`]): mirrored into the Redis revocation
//!   set the router checks.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{SessionRevokedV1, UserStatusChangedV1};
use tenor_events::{Envelope, EventHandler, HandlerError, Publisher, TransactionalHandler};
use tokio_util::sync::CancellationToken;

use crate::domain::account::AccountStatus;
use crate::service::revocation::revoke_sessions;
use crate::store::accounts;
use crate::store::revocations::RevocationCache;
use crate::store::sessions::Revoke;

/// Mirrors the user context's account status; ends the sessions of an account that is no
/// longer ACTIVE.
pub struct UserStatusHandler {
    publisher: Publisher,
}

impl UserStatusHandler {
    /// `publisher`: where the `auth.session.revoked` events of ended sessions go.
    pub fn new(publisher: Publisher) -> Self {
        Self { publisher }
    }
}

#[async_trait]
impl TransactionalHandler for UserStatusHandler {
    #[tracing::instrument(skip_all, fields(event_id = %event.id()))]
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        // Other events on user.events are not ours to act on.
        if !event.is::<UserStatusChangedV1>() {
            return Ok(());
        }
        let change: UserStatusChangedV1 = event.decode().map_err(HandlerError::permanent)?;
        let status = AccountStatus::from(change.status);
        let updated = accounts::set_status(conn, change.user_id, status).await?;
        if updated == 0 {
            // A profile without credentials cannot exist; a wrong id is a producer bug.
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "no account {} for status change",
                change.user_id
            )));
        }
        if let Some(reason) = status.ends_sessions() {
            let revoked = revoke_sessions(
                conn,
                &self.publisher,
                Revoke::AllOf {
                    auth_id: change.user_id,
                    except: None,
                },
                reason,
            )
            .await
            .map_err(HandlerError::retryable)?
            .len();
            tracing::info!(user_id = %change.user_id, status = status.as_db(), revoked, "account status changed; sessions revoked");
        }
        Ok(())
    }
}

/// Consumer of `auth.events`: mirrors every `auth.session.revoked` into Redis. It never gives
/// up on a revocation while running (retrying with backoff until Redis answers), so a long
/// Redis outage delays revocations instead of dead-lettering them.
pub struct RevocationMirror {
    cache: Arc<RevocationCache>,
    shutdown: CancellationToken,
}

impl RevocationMirror {
    pub fn new(cache: Arc<RevocationCache>, shutdown: CancellationToken) -> Self {
        Self { cache, shutdown }
    }
}

#[async_trait]
impl EventHandler for RevocationMirror {
    #[tracing::instrument(skip_all, fields(event_id = %event.id()))]
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        // user.registered and whatever else shares the topic is not ours.
        if !event.is::<SessionRevokedV1>() {
            return Ok(());
        }
        let revoked: SessionRevokedV1 = event.decode().map_err(HandlerError::permanent)?;
        let age = (Utc::now() - revoked.revoked_at)
            .to_std()
            .unwrap_or_default();
        if age >= self.cache.ttl() {
            // Every access token of that session has expired by now: nothing left to refuse.
            return Ok(());
        }
        let session_id = revoked.session_id;
        let sessions = [session_id];
        let mut backoff = Duration::from_millis(100);
        loop {
            let attempt = tokio::time::timeout(
                self.cache.timeout().max(Duration::from_secs(2)),
                self.cache.mark(&sessions),
            );
            let failure = tokio::select! {
                // Not applied: the runner does not store the offset (the consumer is configured
                // with at least two attempts), so the event comes back after the restart.
                () = self.shutdown.cancelled() => {
                    return Err(HandlerError::retryable(anyhow::anyhow!("shutting down before Redis answered")));
                }
                result = attempt => match result {
                    Ok(Ok(())) => {
                        tracing::debug!(%session_id, "revoked session mirrored to Redis");
                        return Ok(());
                    }
                    Ok(Err(error)) => error.to_string(),
                    Err(_) => "timed out".to_owned(),
                },
            };
            tracing::warn!(error = %failure, %session_id, "mirroring a revoked session to Redis failed; retrying");
            tokio::select! {
                () = self.shutdown.cancelled() => {
                    return Err(HandlerError::retryable(anyhow::anyhow!("shutting down before Redis answered")));
                }
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}
