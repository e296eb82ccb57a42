//! Risk's part of the owner's data export (docs/conventions.md § Data-subject requests):
//! `myRiskAssessmentData` — each bureau check with its level and the bureau's summary, and every
//! read of the raw report. One of the root fields the app's `MyDataExport` operation asks for in one
//! request, next to the user subgraph's `myDataExport`. The field takes no id: it reads the
//! caller's own, from the verified token, so nobody can ask for another person's data.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};

use super::service;
use super::types::{RiskEvaluationOutcome, RiskLevelGql, RiskNormalizedScore, RiskRawAccessEntry};
use crate::domain::EvaluationOutcome;
use crate::service::export::RiskExport;
use crate::store::Evaluation;

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Bureau checks of the signed-in owner's loans (data export) and who read the raw reports.
    #[graphql(directive = authenticated::apply())]
    async fn my_risk_assessment_data(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<RiskAssessmentsExport>> {
        let user_id = ctx.principal()?.user_id;
        let export = service(ctx)
            .export_of(user_id)
            .await
            .map_err(internal_error)?;
        Ok(Some(RiskAssessmentsExport::from(export)))
    }
}

#[derive(SimpleObject)]
pub struct RiskAssessmentsExport {
    assessments: Vec<ExportedRiskAssessment>,
    /// Every read of a raw bureau report about the person (staff with `risk:raw:read`).
    raw_report_reads: Vec<RiskRawAccessEntry>,
}

#[derive(SimpleObject)]
pub struct ExportedRiskAssessment {
    loan_id: ID,
    /// The bureau asked.
    bureau: String,
    outcome: RiskEvaluationOutcome,
    risk_level: Option<RiskLevelGql>,
    /// The bureau's summary of the person's facilities, on Tenor's 300–850 scale.
    bureau_summary: Option<RiskNormalizedScore>,
    checked_at: DateTime<Utc>,
}

impl From<Evaluation> for ExportedRiskAssessment {
    fn from(e: Evaluation) -> Self {
        Self {
            loan_id: ID(e.loan_id.to_string()),
            bureau: e.vendor_name.clone(),
            outcome: match e.outcome {
                EvaluationOutcome::Evaluated => RiskEvaluationOutcome::Evaluated,
                EvaluationOutcome::Failed => RiskEvaluationOutcome::Failed,
            },
            risk_level: e.risk_level.map(RiskLevelGql::from),
            bureau_summary: e.normalized.as_ref().map(RiskNormalizedScore::from),
            checked_at: e.created_at,
        }
    }
}

impl From<RiskExport> for RiskAssessmentsExport {
    fn from(e: RiskExport) -> Self {
        Self {
            assessments: e
                .evaluations
                .into_iter()
                .map(ExportedRiskAssessment::from)
                .collect(),
            raw_report_reads: e
                .raw_report_reads
                .into_iter()
                .map(RiskRawAccessEntry::from)
                .collect(),
        }
    }
}
