//! Kafka: what risk reacts to ([`consume`]: `loan.submitted`) and what it announces
//! ([`publish`]: `risk.evaluated` / `risk.evaluation.failed`, through the MongoDB outbox).

pub mod consume;
pub mod publish;

pub use consume::{CONSUMER_GROUP, LoanEvents};
