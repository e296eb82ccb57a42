//! What auth consumes: `user.status.changed` from the user context. Blocking or deleting an
//! account revokes every session at once (refresh stops working; access tokens die within
//! their short TTL) and login is refused until the account is ACTIVE again.
//!
//! What auth publishes (`user.registered`) is written by [`crate::accounts`] through the outbox.

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_events::{Envelope, HandlerError, TransactionalHandler};

use crate::store::sessions::Revoke;
use crate::store::{accounts, sessions};

pub struct UserStatusHandler;

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
            let revoked = sessions::revoke(
                conn,
                Revoke::AllOf {
                    auth_id: change.user_id,
                    except: None,
                },
                &reason,
            )
            .await?;
            tracing::info!(user_id = %change.user_id, status, revoked, "account status changed; sessions revoked");
        }
        Ok(())
    }
}
