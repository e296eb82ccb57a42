//! Auth and Kafka: what it publishes (through the transactional outbox, in the transaction that
//! makes the event true) and what it consumes.

pub mod consume;
pub mod publish;
