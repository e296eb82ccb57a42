//! `reviewKyc`: staff decide submissions in the manual review queue; every decision is stored in
//! `kyc_reviews` and applied with its event in one transaction. A refusal stores nothing.

use diesel_async::AsyncConnection;
use tenor_contracts::kyc::KycDecisionSource;
use tenor_platform::refusal::{Failure, Outcome, refuse};
use uuid::Uuid;

use super::decision::{reject, verify};
use super::{KycService, now};
use crate::domain::review::MANUAL_REJECTION;
use crate::domain::{KycStatus, ReviewDecision, ReviewRefusal, VerificationStage, review_reason};
use crate::store::{self, Review, Submission};

impl KycService {
    /// Staff member `reviewer` approves or rejects a submission waiting in the queue.
    #[tracing::instrument(skip(self, reason))]
    pub async fn review(
        &self,
        reviewer: Uuid,
        kyc_id: Uuid,
        decision: ReviewDecision,
        reason: Option<&str>,
    ) -> Outcome<Submission, ReviewRefusal> {
        let reason =
            review_reason(reason, decision == ReviewDecision::Reject).map_err(Failure::refused)?;
        let publisher = &self.publisher;
        let validity = self.settings.validity;
        let mut conn = self.conn().await?;
        conn.transaction::<_, Failure<ReviewRefusal>, _>(async |conn| {
            let Some(mut submission) = store::lock_submission(conn, kyc_id).await? else {
                return refuse(ReviewRefusal::NotFound);
            };
            if submission.status != KycStatus::Pending
                || submission.verification_stage != VerificationStage::ManualReview
            {
                return refuse(ReviewRefusal::NotInReview);
            }
            if submission.user_id == reviewer {
                return refuse(ReviewRefusal::OwnSubmission);
            }
            let at = now();
            store::insert_review(
                conn,
                &Review {
                    id: Uuid::now_v7(),
                    kyc_id,
                    reviewer_id: reviewer,
                    decision,
                    reason: reason.clone(),
                    reviewed_at: at,
                },
            )
            .await?;
            let source = KycDecisionSource::Manual;
            let staff = Some(reviewer);
            match decision {
                ReviewDecision::Approve => {
                    verify(conn, publisher, &mut submission, source, staff, validity).await?
                }
                ReviewDecision::Reject => {
                    let reason = reason.as_deref().unwrap_or_default();
                    let code = MANUAL_REJECTION;
                    reject(
                        conn,
                        publisher,
                        &mut submission,
                        source,
                        staff,
                        code,
                        reason,
                    )
                    .await?
                }
            }
            Ok(submission)
        })
        .await
    }
}
