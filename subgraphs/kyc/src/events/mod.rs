//! Kafka: what the KYC context publishes ([`publish`], through the outbox) and what it reacts
//! to ([`consume`]: a deleted account, through the inbox) (docs/conventions.md § Events).

pub mod consume;
pub mod publish;

pub use consume::{AccountEvents, CONSUMER_GROUP};
pub use publish::{PublishError, Publisher};
