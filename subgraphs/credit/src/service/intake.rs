//! What arrives from the consumer, inside its inbox transaction: a submitted loan (the score is
//! seeded and the internal score computed from the projections) and risk's answer (kept by loan
//! id, since it may come first). Each then tries to decide. The external score is not fetched
//! here — no outside call inside a transaction: the worker is woken after the commit.

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use serde_json::json;
use tenor_contracts::credit::credit_score_id;
use tenor_contracts::loan::LoanSubmittedV1;
use tenor_contracts::risk::{RiskEvaluatedV1, RiskEvaluationFailedV1};
use tenor_platform::refusal::ServiceError;

use super::Credit;
use crate::domain::internal_score::{Application, internal_score};
use crate::domain::status::{RiskLevelState, ScoreSource};
use crate::store::projections;
use crate::store::risk_results::{self, RiskResult};
use crate::store::scores::{self, NewScore};

impl Credit {
    /// Seed the score of a submitted loan (once: a redelivery with a new event id finds it),
    /// record the internal score and try to decide. Whether a score was created.
    #[tracing::instrument(skip_all, fields(loan_id = %loan.loan_id))]
    pub async fn on_loan_submitted(
        &self,
        conn: &mut AsyncPgConnection,
        loan: &LoanSubmittedV1,
    ) -> Result<bool, ServiceError> {
        let tenor = i32::try_from(loan.tenor_months).unwrap_or(i32::MAX);
        projections::project_submitted_loan(
            conn,
            loan.loan_id,
            loan.user_id,
            loan.amount,
            tenor,
            loan.submitted_at,
        )
        .await?;
        let rules = self.rules.effective_at(loan.submitted_at);
        let id = credit_score_id(loan.loan_id);
        let created = scores::insert(
            conn,
            &NewScore {
                id,
                loan_id: loan.loan_id,
                user_id: loan.user_id,
                amount: loan.amount,
                tenor_months: tenor,
                submitted_at: loan.submitted_at,
                rules_version: &rules.version,
                internal_mandatory: true,
                external_mandatory: rules.policy.external_mandatory,
                manual_mandatory: loan.amount > rules.policy.manual_score_above,
            },
        )
        .await?;
        if !created {
            tracing::debug!("loan already scored");
            return Ok(false);
        }
        let facts = projections::borrower_facts(conn, loan.user_id, loan.loan_id).await?;
        let application = Application {
            amount: loan.amount,
            tenor_months: loan.tenor_months,
            submitted_at: loan.submitted_at,
        };
        let internal = internal_score(&rules.internal, &facts, &application);
        let snapshot =
            json!({ "facts": facts, "application": application, "rules_version": rules.version });
        scores::insert_entry(
            conn,
            id,
            ScoreSource::Internal,
            internal.score,
            &internal.reason,
            &snapshot,
            None,
        )
        .await?;
        scores::set_score(conn, id, ScoreSource::Internal, internal.score).await?;
        if let Some(result) = risk_results::find(conn, loan.loan_id).await? {
            copy_risk(conn, id, &result).await?;
        }
        let score = scores::lock(conn, id).await?.expect("inserted above");
        self.try_decide(conn, &score, Utc::now()).await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(loan_id = %event.loan_id))]
    pub async fn on_risk_evaluated(
        &self,
        conn: &mut AsyncPgConnection,
        event: &RiskEvaluatedV1,
    ) -> Result<(), ServiceError> {
        let result = RiskResult {
            loan_id: event.loan_id,
            credit_score_id: event.credit_score_id,
            evaluation_id: event.evaluation_id,
            outcome: "EVALUATED".to_owned(),
            risk_level: Some(RiskLevelState::from(event.risk_level).as_db().to_owned()),
            normalized_score: Some(event.normalized_score),
            bureau: Some(serde_json::to_value(&event.bureau).map_err(anyhow::Error::from)?),
            reason_code: None,
            vendor_name: event.vendor_name.clone(),
            rules_version: Some(event.rules_version.clone()),
            occurred_at: event.evaluated_at,
            received_at: Utc::now(),
        };
        self.on_risk_result(conn, result).await
    }

    #[tracing::instrument(skip_all, fields(loan_id = %event.loan_id))]
    pub async fn on_risk_failed(
        &self,
        conn: &mut AsyncPgConnection,
        event: &RiskEvaluationFailedV1,
    ) -> Result<(), ServiceError> {
        let result = RiskResult {
            loan_id: event.loan_id,
            credit_score_id: event.credit_score_id,
            evaluation_id: event.evaluation_id,
            outcome: "FAILED".to_owned(),
            risk_level: None,
            normalized_score: None,
            bureau: None,
            reason_code: Some(event.reason_code.clone()),
            vendor_name: event.vendor_name.clone(),
            rules_version: None,
            occurred_at: event.failed_at,
            received_at: Utc::now(),
        };
        self.on_risk_result(conn, result).await
    }

    /// Keep the first answer per loan; if the loan's score exists, copy it there and try to
    /// decide.
    async fn on_risk_result(
        &self,
        conn: &mut AsyncPgConnection,
        result: RiskResult,
    ) -> Result<(), ServiceError> {
        if !risk_results::insert(conn, &result).await? {
            tracing::debug!("risk already answered for this loan");
            return Ok(());
        }
        let Some(score) = scores::lock_by_loan(conn, result.loan_id).await? else {
            // loan.submitted has not been consumed yet; it picks the result up.
            return Ok(());
        };
        copy_risk(conn, score.id, &result).await?;
        self.try_decide(conn, &score, Utc::now()).await?;
        Ok(())
    }
}

/// Risk's level and a short reason on the score, for staff.
pub(crate) async fn copy_risk(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    result: &RiskResult,
) -> Result<(), ServiceError> {
    let reason = match (&result.outcome[..], result.normalized_score) {
        ("FAILED", _) => format!(
            "evaluation failed: {}",
            result.reason_code.as_deref().unwrap_or("UNKNOWN")
        ),
        (_, Some(normalized)) => format!(
            "bureau score {normalized} ({}, rules {})",
            result.vendor_name,
            result.rules_version.as_deref().unwrap_or("?")
        ),
        _ => "evaluated".to_owned(),
    };
    scores::set_risk(conn, id, result.risk_level.as_deref(), &reason).await?;
    Ok(())
}
