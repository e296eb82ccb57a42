//! What staff call: the manual review queue and its decisions (`kyc:review`), and anyone's PII
//! access log (`kyc:pii:read`).

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};
use tenor_platform::refusal::{Outcome, payload, refuse};

use super::types::{Kyc, KycReviewDecision, PiiAccessEntry, ReviewKycPayload};
use super::{KYC_PII_READ, KYC_REVIEW, access_log_page, connection, parse_id, service};
use crate::domain::ReviewRefusal;
use crate::store::Submission;

#[derive(Default)]
pub struct BackOfficeQuery;

#[Object]
impl BackOfficeQuery {
    /// Back office: submissions waiting for a staff decision, oldest first. `first` is 1–100
    /// (default 20).
    #[graphql(requires_scopes = "kyc:review")]
    async fn kyc_review_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<Cursor, Kyc>>> {
        ctx.require_scope(KYC_REVIEW)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let rows = service(ctx)
            .review_queue(page)
            .await
            .map_err(internal_error)?;
        let cursor = |row: &Submission| Cursor {
            at: row.submitted_at,
            id: row.id,
        };
        Ok(Some(connection(page, rows, cursor, Kyc)))
    }

    /// Back office: who read a customer's KYC data, newest first.
    #[graphql(requires_scopes = "kyc:pii:read")]
    async fn pii_access_log(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<Cursor, PiiAccessEntry>>> {
        ctx.require_scope(KYC_PII_READ)?;
        let Some(user_id) = parse_id(&user_id) else {
            return Err(coded_error("BAD_USER_INPUT", "userId is not an id"));
        };
        access_log_page(ctx, user_id, first, after).await.map(Some)
    }
}

#[derive(Default)]
pub struct BackOfficeMutation;

#[Object]
impl BackOfficeMutation {
    /// Back office: decide a submission from the review queue. A rejection needs a reason
    /// (3–500 characters) the customer will read.
    #[graphql(requires_scopes = "kyc:review")]
    async fn review_kyc(
        &self,
        ctx: &Context<'_>,
        kyc_id: ID,
        decision: KycReviewDecision,
        reason: Option<String>,
    ) -> Result<ReviewKycPayload> {
        let staff = ctx.require_scope(KYC_REVIEW)?;
        let outcome: Outcome<Submission, ReviewRefusal> = match parse_id(&kyc_id) {
            // An id that cannot exist is answered like one that does not.
            None => refuse(ReviewRefusal::NotFound),
            Some(kyc_id) => {
                service(ctx)
                    .review(staff.user_id, kyc_id, decision.into(), reason.as_deref())
                    .await
            }
        };
        let (submission, user_errors) = payload(outcome)?;
        Ok(ReviewKycPayload {
            kyc: submission.map(Kyc),
            user_errors,
        })
    }
}
