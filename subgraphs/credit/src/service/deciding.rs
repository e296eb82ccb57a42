//! The automatic decision, attempted inside the transaction that brought an input (the
//! submitted loan, risk's answer, the external score) or by the sweeper. The score row is locked
//! and the update is conditional on PENDING, so a redelivery or a second worker cannot decide
//! twice; APPROVE/REJECT publish `credit.decision.made.v1` and REFER `credit.referred.v1`
//! through the outbox in that same transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tenor_contracts::credit::{
    CreditDecision, CreditDecisionMadeV1, CreditDecisionSource, CreditReferredV1,
};
use tenor_contracts::risk::{BureauSummary, RiskLevel};
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::{Credit, chrono_duration};
use crate::domain::decision::{Decision, DecisionInputs, Outcome, RiskInput, Standing, decide};
use crate::domain::status::{DecisionSource, DecisionState, ReviewStatus};
use crate::store::decisions::{self, DecisionRow};
use crate::store::scores::{self, DecisionUpdate, ScoreRow};
use crate::store::{projections, risk_results};

impl Credit {
    /// Decide `score` (locked by the caller) if every mandatory input is there or the input
    /// timeout passed. Returns the outcome recorded, `None` when it still waits.
    pub(crate) async fn try_decide(
        &self,
        conn: &mut AsyncPgConnection,
        score: &ScoreRow,
        now: DateTime<Utc>,
    ) -> Result<Option<Outcome>, ServiceError> {
        if score.decision != DecisionState::Pending {
            return Ok(None);
        }
        let rules = self.rules.version(&score.rules_version).ok_or_else(|| {
            anyhow::anyhow!("rules version {} is not loaded", score.rules_version)
        })?;
        if score.risk_reason.is_none()
            && let Some(result) = risk_results::find(conn, score.loan_id).await?
        {
            // Risk's answer was committed by another process while this score was being
            // created (different topics, different consumers): the sweeper finds it here.
            super::intake::copy_risk(conn, score.id, &result).await?;
        }
        let inputs = self.inputs_of(conn, score, now).await?;
        let Some(decision) = decide(rules, &inputs) else {
            return Ok(None);
        };
        let decision_id = Uuid::now_v7();
        decisions::insert(
            conn,
            &DecisionRow {
                id: decision_id,
                credit_score_id: score.id,
                loan_id: score.loan_id,
                source: DecisionSource::Automatic,
                outcome: outcome_text(decision.outcome).to_owned(),
                combined_score: decision.combined_score,
                reason_codes: decision.reason_codes.clone(),
                reason: decision.reason.clone(),
                rules_version: rules.version.clone(),
                inputs: serde_json::to_value(&inputs).map_err(anyhow::Error::from)?,
                decided_by: None,
                reviews_decision: None,
                note: None,
                decided_at: now,
            },
        )
        .await?;
        let recorded = scores::record_decision(
            conn,
            score.id,
            DecisionState::Pending,
            DecisionUpdate {
                state: state_of(decision.outcome),
                source: DecisionSource::Automatic,
                decision_id,
                combined_score: decision.combined_score,
                reason_codes: &decision.reason_codes,
                reason: &decision.reason,
                decided_by: None,
                decided_at: now,
                queue_reason: decision.queue_reason(),
                review_status: ReviewStatus::None,
            },
        )
        .await?;
        if !recorded {
            // The row is locked by the caller, so this cannot happen; roll back rather than
            // leave a decision row that the score does not name.
            return Err(anyhow::anyhow!("score {} was decided under our lock", score.id).into());
        }
        self.publish_outcome(conn, score, &decision, decision_id, now)
            .await?;
        tracing::info!(
            loan_id = %score.loan_id,
            outcome = outcome_text(decision.outcome),
            reason_codes = ?decision.reason_codes,
            "automatic decision"
        );
        Ok(Some(decision.outcome))
    }

    /// The event the outcome owes the other contexts, through the outbox in the caller's
    /// transaction: APPROVE/REJECT move the loan (`credit.decision.made.v1`); a referral waits
    /// for a person, so the loan does not change but the borrower hears it is being reviewed
    /// (`credit.referred.v1`).
    async fn publish_outcome(
        &self,
        conn: &mut AsyncPgConnection,
        score: &ScoreRow,
        decision: &Decision,
        decision_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let wire = match decision.outcome {
            Outcome::Approve => CreditDecision::Approved,
            Outcome::Reject => CreditDecision::Rejected,
            Outcome::Refer => {
                let referred = CreditReferredV1 {
                    loan_id: score.loan_id,
                    user_id: score.user_id,
                    amount: score.amount,
                    tenor_months: score.tenor_months,
                    reason_codes: decision.reason_codes.clone(),
                    referred_at: now,
                };
                return Ok(self
                    .publisher
                    .publish(conn, score.loan_id, &referred)
                    .await?);
            }
        };
        let event = CreditDecisionMadeV1 {
            decision_id,
            loan_id: score.loan_id,
            user_id: score.user_id,
            decision: wire,
            score: event_score(decision.combined_score, score),
            reason_codes: decision.reason_codes.clone(),
            reason: Some(decision.reason.clone()),
            source: CreditDecisionSource::Automatic,
            decided_by: None,
            decided_at: now,
            reviews_decision: None,
        };
        Ok(self.publisher.publish(conn, score.loan_id, &event).await?)
    }

    /// Everything the decision reads, as of `now`.
    pub(crate) async fn inputs_of(
        &self,
        conn: &mut AsyncPgConnection,
        score: &ScoreRow,
        now: DateTime<Utc>,
    ) -> Result<DecisionInputs, ServiceError> {
        let risk = risk_results::find(conn, score.loan_id)
            .await?
            .map(risk_input)
            .transpose()?;
        let facts = projections::borrower_facts(conn, score.user_id, score.loan_id).await?;
        let timeout = chrono_duration(self.settings.input_timeout);
        Ok(DecisionInputs {
            amount: score.amount,
            tenor_months: score.tenor_months.max(0) as u32,
            internal_score: score.internal_score,
            external_score: score.external_score,
            external_mandatory: score.external_mandatory,
            manual_score: score.manual_score,
            manual_mandatory: score.manual_mandatory,
            risk,
            standing: Standing {
                kyc_verified: facts.kyc_verified_at(now),
                account_active: facts.account == crate::domain::status::AccountState::Active,
                tenor_loan_overdue: facts.has_overdue_loan(),
            },
            input_timed_out: now >= score.created_at + timeout,
        })
    }
}

/// The score a decision event carries: the combined score, else the best single one we have.
pub(crate) fn event_score(combined: Option<i32>, score: &ScoreRow) -> i32 {
    combined
        .or(score.manual_score)
        .or(score.internal_score)
        .unwrap_or(0)
}

fn risk_input(result: risk_results::RiskResult) -> Result<RiskInput, ServiceError> {
    if result.outcome == "FAILED" {
        return Ok(RiskInput::Failed {
            reason_code: result.reason_code.unwrap_or_default(),
        });
    }
    let level: RiskLevel = serde_json::from_value(serde_json::Value::from(
        result.risk_level.unwrap_or_default(),
    ))
    .map_err(anyhow::Error::from)?;
    let bureau: BureauSummary =
        serde_json::from_value(result.bureau.unwrap_or_default()).map_err(anyhow::Error::from)?;
    Ok(RiskInput::Evaluated {
        level,
        normalized_score: result.normalized_score.unwrap_or_default(),
        bureau,
    })
}

pub fn outcome_text(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Approve => "APPROVE",
        Outcome::Reject => "REJECT",
        Outcome::Refer => "REFER",
    }
}

fn state_of(outcome: Outcome) -> DecisionState {
    match outcome {
        Outcome::Approve => DecisionState::Approve,
        Outcome::Reject => DecisionState::Reject,
        Outcome::Refer => DecisionState::Refer,
    }
}
