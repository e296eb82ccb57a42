//! Applying a decision to a PENDING submission inside the caller's transaction, shared by the
//! verification worker (automatic) and staff review (manual): the new state, the claim, and the
//! event, together or not at all.

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use tenor_contracts::kyc::KycDecisionSource;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::{chrono_duration, now};
use crate::domain::{KycStatus, VerificationStage};
use crate::events::{Publisher, publish};
use crate::store::{self, Submission};

/// PENDING → VERIFIED, valid for `validity`; `kyc.verified`.
pub(super) async fn verify(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    submission: &mut Submission,
    source: KycDecisionSource,
    decided_by: Option<Uuid>,
    validity: Duration,
) -> Result<(), ServiceError> {
    let at = now();
    let expires_at = at + chrono_duration(validity);
    submission.status = KycStatus::Verified;
    submission.verification_stage = VerificationStage::Decided;
    submission.decision_source = Some(source.into());
    submission.decided_by = decided_by;
    submission.decided_at = Some(at);
    submission.expires_at = Some(expires_at);
    submission.updated_at = at;
    store::save_submission(conn, submission).await?;
    let event = publish::verified(submission, source, at, expires_at);
    publish::publish(publisher, conn, submission, &event).await?;
    Ok(())
}

/// PENDING → REJECTED with a reason; the document number is released; `kyc.rejected`.
pub(super) async fn reject(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    submission: &mut Submission,
    source: KycDecisionSource,
    decided_by: Option<Uuid>,
    code: &str,
    reason: &str,
) -> Result<(), ServiceError> {
    let at = now();
    submission.status = KycStatus::Rejected;
    submission.verification_stage = VerificationStage::Decided;
    submission.decision_source = Some(source.into());
    submission.decided_by = decided_by;
    submission.decided_at = Some(at);
    submission.rejection_reason_code = Some(code.to_owned());
    submission.rejection_reason = Some(reason.to_owned());
    submission.updated_at = at;
    store::save_submission(conn, submission).await?;
    store::release_claim(conn, submission.id).await?;
    let event = publish::rejected(submission, source, code, reason, at);
    publish::publish(publisher, conn, submission, &event).await?;
    Ok(())
}
