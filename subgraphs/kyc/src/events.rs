//! What the KYC context publishes, on `kyc.events` through the outbox in the transaction of the
//! change (keyed by user id): `kyc.submitted.v1`, `kyc.verified.v1`, `kyc.rejected.v1`,
//! `kyc.expired.v1`. It consumes nothing.

use diesel_async::AsyncPgConnection;
use tenor_contracts::sources;
use tenor_events::{DomainEvent, Envelope, enqueue};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("building the event: {0}")]
    Envelope(#[from] tenor_events::EnvelopeError),
    #[error("writing the outbox: {0}")]
    Outbox(#[from] diesel::result::Error),
}

/// Where events go; the topic comes from configuration so tests can use their own.
#[derive(Debug, Clone)]
pub struct Publisher {
    topic: String,
}

impl Publisher {
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
        }
    }

    /// Enqueue `event` about `user_id` inside the caller's open transaction.
    pub async fn publish<E: DomainEvent>(
        &self,
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        event: &E,
    ) -> Result<(), PublishError> {
        let envelope = Envelope::new(sources::KYC, user_id.to_string(), event, None)?;
        enqueue(conn, &self.topic, &envelope).await?;
        Ok(())
    }
}
