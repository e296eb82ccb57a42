//! Back office: staff decide submissions in the manual review queue (every decision stored in
//! `kyc_reviews`), and the expiry job ends verifications that outlived the configured validity.

use diesel_async::AsyncConnection;
use tenor_contracts::kyc::{KycDecisionSource, KycExpiredV1};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::{self, KycStatus, VerificationStage};
use crate::service::{KycService, ServiceError, now};
use crate::store::{self, Review, Submission};
use crate::verification::{reject, verify};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    Approve,
    Reject,
}

impl ReviewDecision {
    fn as_db(self) -> &'static str {
        match self {
            Self::Approve => "APPROVE",
            Self::Reject => "REJECT",
        }
    }
}

/// Why a review was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewRefusal {
    NotFound,
    NotInReview,
    OwnSubmission,
    ReasonRequired,
    ReasonLength,
    /// A character the platform text policy refuses (control, bidi, invisible, tag, …).
    ReasonCharacters,
}

impl ReviewRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotFound => "KYC_NOT_FOUND",
            Self::NotInReview => "KYC_NOT_IN_REVIEW",
            Self::OwnSubmission => "KYC_OWN_SUBMISSION",
            Self::ReasonRequired => "REASON_REQUIRED",
            Self::ReasonLength => "REASON_LENGTH",
            Self::ReasonCharacters => tenor_platform::text::TEXT_INVALID_CHARACTERS,
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            Self::NotFound | Self::NotInReview | Self::OwnSubmission => "kycId",
            Self::ReasonRequired | Self::ReasonLength | Self::ReasonCharacters => "reason",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::NotFound => "No such KYC submission.",
            Self::NotInReview => "This submission is not waiting for manual review.",
            Self::OwnSubmission => "Staff cannot review their own submission.",
            Self::ReasonRequired => "A rejection needs a reason the customer will read.",
            Self::ReasonLength => "The reason must be 3–500 characters.",
            Self::ReasonCharacters => {
                "The reason contains a character that is not allowed (control, bidi or invisible)."
            }
        }
    }
}

/// The rejection code staff decisions carry in `kyc.rejected`.
pub const MANUAL_REJECTION: &str = "MANUAL_REVIEW_REJECTED";

impl KycService {
    /// Staff member `reviewer` approves or rejects a submission waiting in the queue.
    pub async fn review(
        &self,
        reviewer: Uuid,
        kyc_id: Uuid,
        decision: ReviewDecision,
        reason: Option<&str>,
    ) -> Result<Result<Submission, ReviewRefusal>, ServiceError> {
        let reason = match domain::review_reason(reason, decision == ReviewDecision::Reject) {
            Ok(reason) => reason,
            Err("REASON_REQUIRED") => return Ok(Err(ReviewRefusal::ReasonRequired)),
            Err(tenor_platform::text::TEXT_INVALID_CHARACTERS) => {
                return Ok(Err(ReviewRefusal::ReasonCharacters));
            }
            Err(_) => return Ok(Err(ReviewRefusal::ReasonLength)),
        };
        let publisher = &self.publisher;
        let validity = self.settings.validity;
        let mut conn = self.conn().await?;
        conn.transaction::<_, ServiceError, _>(async |conn| {
            let Some(mut submission) = store::lock_submission(conn, kyc_id).await? else {
                return Ok(Err(ReviewRefusal::NotFound));
            };
            if submission.status() != KycStatus::Pending
                || submission.stage() != VerificationStage::ManualReview
            {
                return Ok(Err(ReviewRefusal::NotInReview));
            }
            if submission.user_id == reviewer {
                return Ok(Err(ReviewRefusal::OwnSubmission));
            }
            let at = now();
            store::insert_review(
                conn,
                &Review {
                    id: Uuid::now_v7(),
                    kyc_id,
                    reviewer_id: reviewer,
                    decision: decision.as_db().to_owned(),
                    reason: reason.clone(),
                    reviewed_at: at,
                },
            )
            .await?;
            let source = KycDecisionSource::Manual;
            match decision {
                ReviewDecision::Approve => {
                    verify(
                        conn,
                        publisher,
                        &mut submission,
                        source,
                        Some(reviewer),
                        validity,
                    )
                    .await?
                }
                ReviewDecision::Reject => {
                    let reason = reason.as_deref().unwrap_or_default();
                    reject(
                        conn,
                        publisher,
                        &mut submission,
                        source,
                        Some(reviewer),
                        MANUAL_REJECTION,
                        reason,
                    )
                    .await?
                }
            }
            Ok(Ok(submission))
        })
        .await
    }

    /// VERIFIED → EXPIRED for every verification past its validity; `kyc.expired` each. Returns
    /// how many expired.
    pub async fn expire_due(&self) -> Result<usize, ServiceError> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        let mut total = 0;
        loop {
            let expired = conn
                .transaction::<_, ServiceError, _>(async |conn| {
                    let at = now();
                    let due = store::lock_due_for_expiry(conn, at, 100).await?;
                    for mut submission in due.iter().cloned() {
                        submission.status = KycStatus::Expired.as_db().to_owned();
                        submission.expired_at = Some(at);
                        submission.updated_at = at;
                        store::save_submission(conn, &submission).await?;
                        let event = KycExpiredV1 {
                            kyc_id: submission.id,
                            user_id: submission.user_id,
                            expired_at: at,
                        };
                        publisher.publish(conn, submission.user_id, &event).await?;
                    }
                    Ok(due.len())
                })
                .await?;
            total += expired;
            if expired < 100 {
                return Ok(total);
            }
        }
    }

    /// Run [`Self::expire_due`] and [`Self::purge_abandoned_uploads`] every `interval` until `shutdown`.
    pub async fn run_expiry(self, interval: std::time::Duration, shutdown: CancellationToken) {
        loop {
            match self.expire_due().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "KYC verifications expired"),
                Err(error) => tracing::error!(%error, "KYC expiry pass failed"),
            }
            match self.purge_abandoned_uploads().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "abandoned KYC uploads deleted"),
                Err(error) => tracing::error!(%error, "purging abandoned KYC uploads failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}
