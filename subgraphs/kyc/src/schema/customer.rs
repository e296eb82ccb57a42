//! What the app calls: an upload link per image, `submitKyc`, and — through the `User` entity —
//! the customer's latest KYC and who read it. Staff reach the same `User` fields with their
//! scopes; anyone else gets FORBIDDEN, whether the user exists or not.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};
use tenor_platform::auth::AuthError;
use tenor_platform::cursor::Cursor;
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, auth_error, internal_error};
use tenor_platform::refusal::payload;
use uuid::Uuid;

use super::loaders::LatestKyc;
use super::types::{
    Kyc, KycUploadKind, PiiAccessEntry, RequestKycUploadPayload, SubmitKycInput, SubmitKycPayload,
};
use super::{KYC_PII_READ, KYC_REVIEW, KYC_SUBMIT, access_log_page, parse_id, service};
use crate::service::SubmitKyc;

/// The `User` entity resolver (`_entities`): the fields check who may see what.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        parse_id(&id).map(|id| User { id })
    }
}

/// A user (owned by the user subgraph), extended with their KYC.
pub struct User {
    pub id: Uuid,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The latest KYC submission: the owner, or staff with `kyc:review` or `kyc:pii:read`.
    /// Anyone else gets null and a FORBIDDEN error.
    #[graphql(directive = authenticated::apply())]
    async fn kyc(&self, ctx: &Context<'_>) -> Result<Option<Kyc>> {
        let principal = ctx.principal()?;
        let allowed = principal.user_id == self.id
            || principal.has_scope(KYC_REVIEW)
            || principal.has_scope(KYC_PII_READ);
        if !allowed {
            return Err(auth_error(AuthError::Forbidden(KYC_REVIEW.to_owned())));
        }
        let latest = ctx
            .data_unchecked::<LatestKyc>()
            .load_one(self.id)
            .await
            .map_err(internal_error)?;
        Ok(latest.map(Kyc))
    }

    /// Who read this person's KYC data, newest first: the owner, or staff with `kyc:pii:read`.
    #[graphql(directive = authenticated::apply())]
    async fn kyc_access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<Cursor, PiiAccessEntry>>> {
        let principal = ctx.principal()?;
        principal
            .require_owner_or(self.id, KYC_PII_READ)
            .map_err(auth_error)?;
        access_log_page(ctx, self.id, first, after).await.map(Some)
    }
}

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// A single-use, short-lived link to upload one image (raw JPEG/PNG bytes, HTTP PUT).
    #[graphql(requires_scopes = "kyc:submit")]
    async fn request_kyc_upload(
        &self,
        ctx: &Context<'_>,
        kind: KycUploadKind,
    ) -> Result<RequestKycUploadPayload> {
        let principal = ctx.require_scope(KYC_SUBMIT)?;
        let ticket = service(ctx)
            .request_upload(principal.user_id, kind.into())
            .await
            .map_err(internal_error)?;
        Ok(RequestKycUploadPayload {
            upload: Some(ticket.into()),
            user_errors: vec![],
        })
    }

    /// Submit the document number and the two uploaded images for verification. Refusals come
    /// back as userErrors and store nothing.
    #[graphql(requires_scopes = "kyc:submit")]
    async fn submit_kyc(
        &self,
        ctx: &Context<'_>,
        input: SubmitKycInput,
    ) -> Result<SubmitKycPayload> {
        let principal = ctx.require_scope(KYC_SUBMIT)?;
        let submit = SubmitKyc {
            document_type: input.document_type.into(),
            document_number: input.document_number,
            document_upload_id: parse_id(&input.document_upload_id),
            selfie_upload_id: parse_id(&input.selfie_upload_id),
        };
        let (submission, user_errors) =
            payload(service(ctx).submit(principal.user_id, submit).await)?;
        Ok(SubmitKycPayload {
            kyc: submission.map(Kyc),
            user_errors,
        })
    }
}
