//! Where credit's events go: the outbox, under `/tenor/credit`, on a topic from configuration
//! (tests use their own), keyed by loan id.

use diesel_async::AsyncPgConnection;
use tenor_contracts::sources;
use tenor_events::{DomainEvent, PublishError};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Publisher {
    outbox: tenor_events::Publisher,
}

impl Publisher {
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            outbox: tenor_events::Publisher::new(sources::CREDIT, topic),
        }
    }

    /// Write `event` about `loan_id` to the outbox inside the caller's transaction.
    pub async fn publish<E: DomainEvent>(
        &self,
        conn: &mut AsyncPgConnection,
        loan_id: Uuid,
        event: &E,
    ) -> Result<(), PublishError> {
        self.outbox.publish(conn, loan_id, event).await
    }
}
