//! What staff with `credit:decide` do: record a manual score, and decide a loan in the review
//! queue. Maker-checker: whoever recorded a loan's manual score cannot decide it. A staff
//! decision publishes `credit.decision.made.v1` (MANUAL) through the outbox in its transaction;
//! after a borrower's human-review request it names the automatic rejection it reviews.

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_platform::refusal::refuse;
use uuid::Uuid;

use super::deciding::event_score;
use super::{Assessment, Credit, Outcome};
use crate::domain::CreditRefusal;
use crate::domain::refusal::{clean_note, clean_reason, valid_reason_code};
use crate::domain::rules::{MAX_SCORE, MIN_SCORE};
use crate::domain::status::{DecisionSource, DecisionState, ReviewStatus, ScoreSource};
use crate::store::decisions::{self, DecisionRow};
use crate::store::scores::{self, DecisionUpdate};

/// A staff member's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffDecision {
    Approve,
    Reject,
}

impl Credit {
    #[tracing::instrument(skip_all, fields(%staff, %loan_id))]
    pub async fn record_manual_score(
        &self,
        staff: Uuid,
        loan_id: Uuid,
        score: i32,
        reason: &str,
    ) -> Outcome<Assessment> {
        let mut refusals = vec![];
        if !(MIN_SCORE..=MAX_SCORE).contains(&score) {
            refusals.push(CreditRefusal::ScoreOutOfRange);
        }
        let reason = clean_reason(reason).unwrap_or_else(|refusal| {
            refusals.push(refusal);
            String::new()
        });
        if !refusals.is_empty() {
            return Err(tenor_platform::refusal::Failure::Refused(refusals));
        }
        let reason = reason.as_str();
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(row) = scores::lock_by_loan(conn, loan_id).await? else {
                return refuse(CreditRefusal::NotFound);
            };
            if row.decision == DecisionState::Withdrawn {
                return refuse(CreditRefusal::Withdrawn);
            }
            if decided_for_good(row.decision, row.review_status) {
                return refuse(CreditRefusal::AlreadyDecided);
            }
            let input = serde_json::json!({ "recorded_by": staff, "reason": reason });
            let new = scores::insert_entry(
                conn,
                row.id,
                ScoreSource::Manual,
                score,
                reason,
                &input,
                Some(staff),
            )
            .await?;
            if !new {
                return refuse(CreditRefusal::ManualScoreAlreadyRecorded);
            }
            scores::set_score(conn, row.id, ScoreSource::Manual, score).await?;
            Ok(())
        })
        .await?;
        self.assessment(loan_id).await
    }

    #[tracing::instrument(skip_all, fields(%staff, %loan_id))]
    pub async fn decide_loan(
        &self,
        staff: Uuid,
        loan_id: Uuid,
        decision: StaffDecision,
        reason_code: &str,
        note: Option<&str>,
    ) -> Outcome<Assessment> {
        let mut refusals = vec![];
        if !valid_reason_code(reason_code) {
            refusals.push(CreditRefusal::ReasonCodeInvalid);
        }
        let note = clean_note(note).unwrap_or_else(|refusal| {
            refusals.push(refusal);
            None
        });
        if !refusals.is_empty() {
            return Err(tenor_platform::refusal::Failure::Refused(refusals));
        }
        let note = note.as_deref();
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(row) = scores::lock_by_loan(conn, loan_id).await? else {
                return refuse(CreditRefusal::NotFound);
            };
            if row.queue_reason.is_none() {
                return refuse(match row.decision {
                    _ if row.review_status == ReviewStatus::Withdrawn => {
                        CreditRefusal::AccountDeleted
                    }
                    DecisionState::Pending => CreditRefusal::NotInReviewQueue,
                    DecisionState::Withdrawn => CreditRefusal::Withdrawn,
                    _ => CreditRefusal::AlreadyDecided,
                });
            }
            let entries = scores::entries_of(conn, &[row.id]).await?;
            let maker = entries
                .iter()
                .find(|e| e.source == ScoreSource::Manual)
                .and_then(|e| e.recorded_by);
            if maker == Some(staff) {
                return refuse(CreditRefusal::MakerChecker);
            }
            if row.manual_mandatory && row.manual_score.is_none() {
                return refuse(CreditRefusal::ManualScoreRequired);
            }
            let now = Utc::now();
            let reviews = (row.review_status == ReviewStatus::Requested)
                .then_some(row.decision_id)
                .flatten();
            let (state, wire, reason) = match decision {
                StaffDecision::Approve => (
                    DecisionState::Approve,
                    CreditDecision::Approved,
                    "Your application was approved after a review by our credit team.",
                ),
                StaffDecision::Reject => (
                    DecisionState::Reject,
                    CreditDecision::Rejected,
                    "Your application was declined after a review by our credit team.",
                ),
            };
            let inputs = self.inputs_of(conn, &row, now).await?;
            let decision_id = Uuid::now_v7();
            let reason_codes = vec![reason_code.to_owned()];
            decisions::insert(
                conn,
                &DecisionRow {
                    id: decision_id,
                    credit_score_id: row.id,
                    loan_id,
                    source: DecisionSource::Manual,
                    outcome: state.as_db().to_owned(),
                    combined_score: row.combined_score,
                    reason_codes: reason_codes.clone(),
                    reason: reason.to_owned(),
                    rules_version: row.rules_version.clone(),
                    inputs: serde_json::to_value(&inputs).map_err(anyhow::Error::from)?,
                    decided_by: Some(staff),
                    reviews_decision: reviews,
                    note: note.map(str::to_owned),
                    decided_at: now,
                },
            )
            .await?;
            let recorded = scores::record_decision(
                conn,
                row.id,
                row.decision,
                DecisionUpdate {
                    state,
                    source: DecisionSource::Manual,
                    decision_id,
                    combined_score: row.combined_score,
                    reason_codes: &reason_codes,
                    reason,
                    decided_by: Some(staff),
                    decided_at: now,
                    queue_reason: None,
                    review_status: if reviews.is_some() {
                        ReviewStatus::Decided
                    } else {
                        row.review_status
                    },
                },
            )
            .await?;
            if !recorded {
                return refuse(CreditRefusal::AlreadyDecided);
            }
            let event = CreditDecisionMadeV1 {
                decision_id,
                loan_id,
                user_id: row.user_id,
                decision: wire,
                score: event_score(row.combined_score, &row),
                reason_codes,
                reason: Some(reason.to_owned()),
                source: CreditDecisionSource::Manual,
                decided_by: Some(staff),
                decided_at: now,
                reviews_decision: reviews,
            };
            self.publisher.publish(conn, loan_id, &event).await?;
            Ok(())
        })
        .await?;
        self.assessment(loan_id).await
    }
}

/// APPROVE or REJECT that no review is pending on: nothing more to do by hand.
fn decided_for_good(decision: DecisionState, review: ReviewStatus) -> bool {
    matches!(decision, DecisionState::Approve | DecisionState::Reject)
        && review != ReviewStatus::Requested
}
