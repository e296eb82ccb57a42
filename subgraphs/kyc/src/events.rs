//! What the KYC context publishes, on `kyc.events` through the outbox in the transaction of the
//! change (keyed by user id): `kyc.submitted.v1`, `kyc.verified.v1`, `kyc.rejected.v1`,
//! `kyc.expired.v1`. It consumes nothing.

/// Publisher of this context's events: `tenor_events::Publisher::new(sources::KYC, topic)`.
pub use tenor_events::{PublishError, Publisher};
