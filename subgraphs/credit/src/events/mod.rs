//! What the credit context publishes and consumes (docs/conventions.md § Events).
//!
//! [`publish`]: `credit.decision.made.v1` (and `credit.referred.v1` when the rules refer a loan
//! to a person) on `credit.events` through the outbox, in the transaction of the decision.
//!
//! [`consume`]: one consumer group through the inbox — `user.registered` (auth), `user.status.
//! changed` (user), `kyc.*`, `loan.*` (projections; `loan.submitted` also seeds the score) and
//! `risk.evaluated` / `risk.evaluation.failed`.

pub mod consume;
pub mod publish;

pub use consume::{CONSUMER_GROUP, IncomingEvents, WakingInbox};
pub use publish::Publisher;
