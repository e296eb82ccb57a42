//! What the user context publishes and consumes.
//!
//! Publishes on `user.events` through the outbox, in the transaction of the change
//! ([`publish`]): `user.profile.updated.v1` after a profile or preference change,
//! `user.status.changed.v1` after a block, unblock or deletion (auth revokes sessions on
//! BLOCKED/DELETED).
//!
//! Consumes `user.registered.v1` from `auth.events` and creates the profile with the same id,
//! and `loan.status.changed.v1` from `loan.events` to know which of an account's loans are
//! open ([`consume`]).

pub mod consume;
pub mod publish;

pub use consume::IncomingEvents;
pub use publish::Publisher;
pub use tenor_events::PublishError;

/// The consumer group, also this handler's name in the inbox.
pub const CONSUMER_GROUP: &str = "tenor-user";
