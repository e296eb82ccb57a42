//! What the borrower's app calls: a request for a person to review an automatic rejection
//! (UU PDP, the right to object to a solely automated decision).

use async_graphql::{Context, Object, Result};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::CallerExt;
use tenor_platform::refusal::{Refusal, payload};

use super::parse_id;
use super::types::{HumanReview, RequestHumanReviewInput, RequestHumanReviewPayload};
use crate::domain::CreditRefusal;
use crate::service::Credit;

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Ask for a person to review the automatic rejection of your loan: once, within the
    /// review window. Someone else's loan is answered like an unknown one.
    #[graphql(directive = authenticated::apply())]
    async fn request_human_review(
        &self,
        ctx: &Context<'_>,
        input: RequestHumanReviewInput,
    ) -> Result<RequestHumanReviewPayload> {
        let principal = ctx.principal()?;
        let Some(loan_id) = parse_id(&input.loan_id) else {
            return Ok(RequestHumanReviewPayload {
                review: None,
                user_errors: vec![CreditRefusal::NotFound.to_user_error()],
            });
        };
        let credit = ctx.data::<Credit>()?;
        let outcome = credit
            .request_human_review(principal.user_id, loan_id, input.note.as_deref())
            .await;
        let (assessment, user_errors) = payload(outcome)?;
        Ok(RequestHumanReviewPayload {
            review: assessment.as_ref().map(HumanReview::from),
            user_errors,
        })
    }
}
