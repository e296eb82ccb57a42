//! Kafka, through the transactional outbox: what the KYC context publishes ([`publish`]). It
//! consumes nothing (docs/conventions.md § Events).

pub mod publish;

pub use publish::{PublishError, Publisher};
