//! Tenor's event plumbing (docs/conventions.md § Events): the CloudEvents envelope, the
//! transactional outbox and its Kafka relay, and the consumer runner with inbox de-duplication,
//! retries and DLQ.

pub mod aggregates;
pub mod consumer;
pub mod envelope;
pub mod inbox;
pub mod kafka;
pub mod live;
pub mod mongo_outbox;
pub mod outbox;
pub mod progress;
pub mod startup;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod trace;

pub use consumer::{ConsumerConfig, EventConsumer, EventHandler, HandlerError};
pub use envelope::{DomainEvent, Envelope, EnvelopeError};
pub use inbox::{PgInbox, TransactionalHandler};
pub use mongo_outbox::{
    MongoOutboxRelay, MongoPublisher, MongoRelayConfig, MongoRelayError, PendingEvents,
};
pub use outbox::{OutboxRelay, PublishError, Publisher, RelayConfig, enqueue};
pub use startup::{migrated_pool, start_consumer, start_outbox_relay};
pub use trace::TraceParent;

/// The outbox and inbox tables. A PostgreSQL-backed service runs these next to its own
/// migrations through [`migrated_pool`] (and its tests through `testing::service_database`).
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations");
