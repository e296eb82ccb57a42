//! Kafka: what notification reacts to ([`consume`]: loan, KYC, security and user events), what
//! it announces ([`publish`]: `notification.inbox.added.v1`, through the MongoDB outbox) and
//! the per-process live feed of new inbox items for subscriptions ([`live`]).

pub mod consume;
pub mod live;
pub mod publish;

pub use consume::{CONSUMER_GROUP, IncomingEvents};
