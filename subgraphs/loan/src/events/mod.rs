//! What the loan context publishes and consumes (docs/conventions.md § Events).
//!
//! [`publish`]: on `loan.events` through the outbox, in the transaction of the change —
//! `loan.submitted`, `loan.approved`, `loan.rejected`, `loan.activated`, `loan.paid`,
//! `loan.status.changed` (every transition), `loan.installment.due`/`.overdue` (daily job).
//!
//! [`consume`]: in one consumer group through the inbox — `credit.decision.made` (applies the
//! decision, see [`crate::service::decisions`]), `kyc.*` (eligibility projection) and
//! `user.status.changed` (only ACTIVE accounts may apply).
//!
//! [`live`]: every process's own, uncommitted read of `loan.status.changed` and
//! `auth.session.revoked`, fanned out to its subscribers.

pub mod consume;
pub mod live;
pub mod publish;

pub use consume::{CONSUMER_GROUP, IncomingEvents};
pub use publish::Publisher;
