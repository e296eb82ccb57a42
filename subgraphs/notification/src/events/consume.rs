//! What notification reacts to, on one consumer group over `loan.events`, `kyc.events`,
//! `auth.events`, `user.events` and `credit.events` (referrals only): the contact projection (`user.registered`,
//! `user.profile.updated`, `user.status.changed`) and every event of the templates catalog
//! (intake). Nothing is sent on the consumer: a slow or absent provider never holds a partition.
//! Both effects are idempotent (time guards, unique indexes), so at-least-once delivery has
//! effect once.

use async_trait::async_trait;
use tenor_contracts::identity::{UserProfileUpdatedV1, UserRegisteredV1, UserStatusChangedV1};
use tenor_events::{Envelope, EventHandler, HandlerError};

use crate::service::NotificationService;
use crate::service::intake::IntakeError;

/// The consumer group (`consumer.group_id`, overridable like every subgraph's).
pub const CONSUMER_GROUP: &str = "tenor-notification";

pub struct IncomingEvents {
    service: NotificationService,
}

impl IncomingEvents {
    pub fn new(service: NotificationService) -> Self {
        Self { service }
    }
}

#[async_trait]
impl EventHandler for IncomingEvents {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let service = &self.service;
        if event.is::<UserRegisteredV1>() {
            let registered = event.decode().map_err(HandlerError::permanent)?;
            service
                .registered(&registered)
                .await
                .map_err(HandlerError::retryable)?;
        } else if event.is::<UserProfileUpdatedV1>() {
            let updated = event.decode().map_err(HandlerError::permanent)?;
            service
                .profile_updated(&updated)
                .await
                .map_err(HandlerError::retryable)?;
        } else if event.is::<UserStatusChangedV1>() {
            let changed = event.decode().map_err(HandlerError::permanent)?;
            service
                .status_changed(&changed)
                .await
                .map_err(HandlerError::retryable)?;
        } else {
            service.accept(event).await.map_err(|error| match error {
                IntakeError::Malformed(_) => HandlerError::permanent(error),
                IntakeError::Unavailable(_) => HandlerError::retryable(error),
            })?;
        }
        Ok(())
    }
}
