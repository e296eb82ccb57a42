//! What auth consumes: `user.status.changed` from the user context. Blocking or deleting an
//! account revokes every session at once — refresh stops working, and each ended session is
//! announced (`auth.session.revoked`) in the same transaction, so the router refuses its access
//! tokens and its live subscriptions end (see [`crate::revocation`]) — and login is refused
//! until the account is ACTIVE again.
//!
//! What auth publishes (`user.registered`, `auth.session.revoked`) is written by the use cases
//! through the outbox.

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_events::{Envelope, HandlerError, Publisher, TransactionalHandler};

use crate::revocation::revoke_sessions;
use crate::store::accounts;
use crate::store::sessions::Revoke;

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
        let status = match change.status {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Inactive => "INACTIVE",
            AccountStatus::Blocked => "BLOCKED",
            AccountStatus::Deleted => "DELETED",
        };
        let updated = accounts::set_status(conn, change.user_id, status).await?;
        if updated == 0 {
            // A profile without credentials cannot exist; a wrong id is a producer bug.
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "no account {} for status change",
                change.user_id
            )));
        }
        if matches!(
            change.status,
            AccountStatus::Blocked | AccountStatus::Deleted | AccountStatus::Inactive
        ) {
            let reason = format!("ACCOUNT_{status}");
            let revoked = revoke_sessions(
                conn,
                &self.publisher,
                Revoke::AllOf {
                    auth_id: change.user_id,
                    except: None,
                },
                &reason,
            )
            .await?
            .len();
            tracing::info!(user_id = %change.user_id, status, revoked, "account status changed; sessions revoked");
        }
        Ok(())
    }
}
