//! Credit's part of the owner's data export (docs/conventions.md § Data-subject requests):
//! `myCreditDecisionData` — each decision with the reasons the borrower may read, and their human
//! review requests. One of the root fields the app's `MyDataExport` operation asks for in one
//! request, next to the user subgraph's `myDataExport`. The field takes no id: it reads the
//! caller's own, from the verified token, so nobody can ask for another person's data.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};

use crate::service::Credit;
use crate::service::export::CreditExport;

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Credit decisions on the signed-in owner's loans (data export) and their human-review
    /// requests. Null for a deleted account.
    #[graphql(directive = authenticated::apply())]
    async fn my_credit_decision_data(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<CreditDecisionsExport>> {
        let user_id = ctx.principal()?.user_id;
        let export = ctx
            .data::<Credit>()?
            .export_of(user_id)
            .await
            .map_err(internal_error)?;
        Ok(export.map(CreditDecisionsExport::from))
    }
}

#[derive(SimpleObject)]
pub struct CreditDecisionsExport {
    /// Every decision on the person's loans, newest first.
    decisions: Vec<ExportedCreditDecision>,
    /// The person's requests for a human review of an automatic rejection.
    human_review_requests: Vec<ExportedHumanReviewRequest>,
}

#[derive(SimpleObject)]
pub struct ExportedCreditDecision {
    loan_id: ID,
    /// APPROVE, REJECT or REFER.
    outcome: String,
    /// AUTOMATIC (the rules decided) or MANUAL (a staff member decided).
    source: String,
    /// Stable codes of the reasons, the largest shortfalls first.
    reason_codes: Vec<String>,
    /// The reason, as the borrower may read it.
    reason: String,
    /// The rule set that judged the loan.
    rules_version: String,
    /// Set when this decision is a human review of an automatic rejection.
    reviews_decision: Option<ID>,
    decided_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct ExportedHumanReviewRequest {
    loan_id: ID,
    /// REQUESTED or DECIDED.
    status: String,
    requested_at: Option<DateTime<Utc>>,
    /// The borrower's own note.
    note: Option<String>,
}

impl From<CreditExport> for CreditDecisionsExport {
    fn from(e: CreditExport) -> Self {
        Self {
            decisions: e
                .decisions
                .into_iter()
                .map(|d| ExportedCreditDecision {
                    loan_id: ID(d.loan_id.to_string()),
                    outcome: d.outcome,
                    source: d.source,
                    reason_codes: d.reason_codes,
                    reason: d.reason,
                    rules_version: d.rules_version,
                    reviews_decision: d.reviews_decision.map(|id| ID(id.to_string())),
                    decided_at: d.decided_at,
                })
                .collect(),
            human_review_requests: e
                .review_requests
                .into_iter()
                .map(|r| ExportedHumanReviewRequest {
                    loan_id: ID(r.loan_id.to_string()),
                    status: r.status,
                    requested_at: r.requested_at,
                    note: r.note,
                })
                .collect(),
        }
    }
}
