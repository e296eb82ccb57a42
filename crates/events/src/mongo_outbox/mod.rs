//! The outbox for MongoDB-backed services (docs/conventions.md § Events).
//!
//! The local MongoDB-compatible server has no multi-document transactions, so an event cannot
//! go to an outbox collection in the same transaction as the state change. Instead the pending
//! event lives in the document it belongs to, written by the same single-document insert or
//! update as the change ([`PendingEvents`]): both are stored or neither is. The document gains
//!
//! ```text
//! outbox:         [ { id, topic, key, envelope, created_at }, … ]   in the order they were added
//! outbox_pending: true                                              indexed; what the relay polls
//! ```
//!
//! where `id` is the event id (a UUID as text), `key` the Kafka key (the aggregate id, the
//! envelope's subject) and `envelope` the CloudEvent's JSON text, byte for byte what Kafka gets.
//!
//! [`MongoOutboxRelay`] polls the documents with `outbox_pending: true` (there are no change
//! streams; the writer rings [`MongoPublisher::wake_relay`] to skip the wait), publishes each
//! document's events in order with the same idempotent producer and headers as the PostgreSQL
//! relay ([`crate::outbox`]), waits for the broker's acknowledgement, and only then removes
//! exactly those entries from the document (`$pullAll` by value: the local server's `$pull`
//! takes values, not conditions), clearing `outbox_pending` when nothing else arrived meanwhile.
//!
//! Crash points: before the acknowledgement nothing is marked; between the acknowledgement and
//! the removal the events stay pending and are published again with the same ids. Delivery is
//! at least once and consumers drop duplicates by event id (see [`crate::inbox`]); an event
//! leaves the document only after Kafka has it, so none is lost.
//!
//! Several relays (replicas) may run at once: each round, a relay claims a collection with a
//! lease document in `outbox_leases` (see `lease.rs`) and skips the collection while another
//! relay holds it, so normally each event is published once. Duplicates (same id) remain
//! possible after a relay died between publish and mark, or stalled past its lease
//! (`MongoRelayConfig::lease`) so another relay took over; consumers drop them.
//!
//! Caveat (FerretDB v1, the local server): it applies an update by reading the document,
//! changing it in the server and writing the whole document back by `_id`, without re-checking
//! the filter; 50 concurrent `$push`es to one document kept between 7 and 44 elements (SQLite
//! and PostgreSQL backends alike). Two updates of one document at the same instant can
//! therefore lose one of them — including a service's update (its change and its events)
//! racing the relay's removal, and a conditional update is no compare-and-set there. MongoDB applies each update atomically and in isolation,
//! which this design relies on; on FerretDB it holds only while one document is not updated
//! from two places at once.

mod lease;
mod relay;
mod write;

pub use relay::{MongoOutboxRelay, MongoRelayConfig, MongoRelayError};
pub use write::{MongoPublisher, PendingEvents};

/// The array of pending events inside a document.
pub const OUTBOX_FIELD: &str = "outbox";
/// `true` while the document may hold pending events; indexed, polled by the relay.
pub const PENDING_FIELD: &str = "outbox_pending";
/// The relays' leases, one document per relayed collection (see `lease.rs`).
pub const LEASE_COLLECTION: &str = "outbox_leases";
