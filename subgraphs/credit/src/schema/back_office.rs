//! What staff with `credit:decide` call: the review queue, manual scores and decisions.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, Result};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, internal_error};
use tenor_platform::refusal::{Refusal, payload};

use super::types::{
    CreditAssessment, DecideLoanInput, DecideLoanPayload, RecordManualScoreInput,
    RecordManualScorePayload, StaffCreditDecision,
};
use super::{CREDIT_DECIDE, parse_id};
use crate::domain::CreditRefusal;
use crate::service::Credit;
use crate::service::staff::StaffDecision;

#[derive(Default)]
pub struct BackOfficeQuery;

#[Object]
impl BackOfficeQuery {
    /// Back office: loans waiting for a person (referrals and human-review requests), oldest
    /// first.
    #[graphql(requires_scopes = "credit:decide")]
    async fn credit_review_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<Cursor, CreditAssessment>>> {
        // Nullable: a caller without the scope loses this field only.
        ctx.require_scope(CREDIT_DECIDE)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let credit = ctx.data::<Credit>()?;
        let mut rows = credit.review_queue(page).await.map_err(internal_error)?;
        let has_next = rows.len() > page.first;
        rows.truncate(page.first);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|assessment| {
            let cursor = Cursor {
                at: assessment
                    .score
                    .queued_at
                    .unwrap_or(assessment.score.created_at),
                id: assessment.score.id,
            };
            Edge::new(cursor, CreditAssessment(assessment))
        }));
        Ok(Some(connection))
    }
}

#[derive(Default)]
pub struct BackOfficeMutation;

#[Object]
impl BackOfficeMutation {
    /// Back office: record a staff member's score (300–850) for a loan. Whoever records it
    /// cannot decide that loan (maker-checker).
    #[graphql(requires_scopes = "credit:decide")]
    async fn record_manual_score(
        &self,
        ctx: &Context<'_>,
        input: RecordManualScoreInput,
    ) -> Result<RecordManualScorePayload> {
        let principal = ctx.require_scope(CREDIT_DECIDE)?;
        let Some(loan_id) = parse_id(&input.loan_id) else {
            return Ok(RecordManualScorePayload {
                assessment: None,
                user_errors: vec![CreditRefusal::NotFound.to_user_error()],
            });
        };
        let credit = ctx.data::<Credit>()?;
        let outcome = credit
            .record_manual_score(principal.user_id, loan_id, input.score, &input.reason)
            .await;
        let (assessment, user_errors) = payload(outcome)?;
        Ok(RecordManualScorePayload {
            assessment: assessment.map(CreditAssessment),
            user_errors,
        })
    }

    /// Back office: decide a loan in the review queue. Publishes the decision (source MANUAL).
    #[graphql(requires_scopes = "credit:decide")]
    async fn decide_loan(
        &self,
        ctx: &Context<'_>,
        input: DecideLoanInput,
    ) -> Result<DecideLoanPayload> {
        let principal = ctx.require_scope(CREDIT_DECIDE)?;
        let Some(loan_id) = parse_id(&input.loan_id) else {
            return Ok(DecideLoanPayload {
                assessment: None,
                user_errors: vec![CreditRefusal::NotFound.to_user_error()],
            });
        };
        let decision = match input.decision {
            StaffCreditDecision::Approve => StaffDecision::Approve,
            StaffCreditDecision::Reject => StaffDecision::Reject,
        };
        let credit = ctx.data::<Credit>()?;
        let outcome = credit
            .decide_loan(
                principal.user_id,
                loan_id,
                decision,
                &input.reason_code,
                input.note.as_deref(),
            )
            .await;
        let (assessment, user_errors) = payload(outcome)?;
        Ok(DecideLoanPayload {
            assessment: assessment.map(CreditAssessment),
            user_errors,
        })
    }
}
