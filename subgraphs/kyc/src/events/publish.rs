//! What the KYC context publishes, on `kyc.events` through the outbox in the transaction of the
//! change, keyed by the customer's user id so one customer's events stay in order:
//! `kyc.submitted.v1`, `kyc.verified.v1`, `kyc.rejected.v1`, `kyc.expired.v1`. No event carries
//! the document number or an image.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tenor_contracts::kyc::{
    KycDecisionSource, KycExpiredV1, KycRejectedV1, KycSubmittedV1, KycVerifiedV1,
};
use tenor_events::DomainEvent;

/// Publisher of this context's events: `Publisher::new(sources::KYC, topic)`.
pub use tenor_events::{PublishError, Publisher};

use crate::store::Submission;

/// Enqueue `event` about `submission` in the caller's open transaction.
pub async fn publish(
    publisher: &Publisher,
    conn: &mut AsyncPgConnection,
    submission: &Submission,
    event: &impl DomainEvent,
) -> Result<(), PublishError> {
    publisher.publish(conn, submission.user_id, event).await
}

pub fn submitted(submission: &Submission) -> KycSubmittedV1 {
    KycSubmittedV1 {
        kyc_id: submission.id,
        user_id: submission.user_id,
        document_type: submission.document_type.into(),
        submitted_at: submission.submitted_at,
    }
}

pub fn verified(
    submission: &Submission,
    source: KycDecisionSource,
    verified_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> KycVerifiedV1 {
    KycVerifiedV1 {
        kyc_id: submission.id,
        user_id: submission.user_id,
        document_type: submission.document_type.into(),
        source,
        decided_by: submission.decided_by,
        verified_at,
        expires_at,
    }
}

pub fn rejected(
    submission: &Submission,
    source: KycDecisionSource,
    code: &str,
    reason: &str,
    rejected_at: DateTime<Utc>,
) -> KycRejectedV1 {
    KycRejectedV1 {
        kyc_id: submission.id,
        user_id: submission.user_id,
        document_type: submission.document_type.into(),
        source,
        decided_by: submission.decided_by,
        reason_code: code.to_owned(),
        reason: reason.to_owned(),
        rejected_at,
    }
}

pub fn expired(submission: &Submission, expired_at: DateTime<Utc>) -> KycExpiredV1 {
    KycExpiredV1 {
        kyc_id: submission.id,
        user_id: submission.user_id,
        expired_at,
    }
}
