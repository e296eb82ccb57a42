//! What KYC reacts to: an account deleted in the user context (`user.status.changed` with
//! status DELETED) erases that person's KYC PII (docs/conventions.md § Data-subject requests).
//! Applied once through the inbox (docs/conventions.md § Events); every other event on the
//! topic is ignored.

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_events::{Envelope, HandlerError, TransactionalHandler};

use crate::service::erasure::erase_person;
use crate::storage::ObjectVault;

/// The consumer group, also the handler's name in the inbox.
pub const CONSUMER_GROUP: &str = "tenor-kyc";

/// The `user.events` handler.
pub struct AccountEvents {
    objects: ObjectVault,
}

impl AccountEvents {
    pub fn new(objects: ObjectVault) -> Self {
        Self { objects }
    }
}

#[async_trait]
impl TransactionalHandler for AccountEvents {
    #[tracing::instrument(skip_all, fields(event_id = %event.id(), event_type = %event.event_type()))]
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if !event.is::<UserStatusChangedV1>() {
            return Ok(());
        }
        let change: UserStatusChangedV1 = event.decode().map_err(HandlerError::permanent)?;
        if change.status != AccountStatus::Deleted {
            return Ok(());
        }
        let erased = erase_person(conn, &self.objects, change.user_id)
            .await
            .map_err(HandlerError::retryable)?;
        tracing::info!(
            user_id = %change.user_id,
            submissions = erased.submissions,
            objects = erased.objects,
            "deleted account's KYC data erased"
        );
        Ok(())
    }
}
