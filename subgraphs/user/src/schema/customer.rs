//! What the app calls for the signed-in owner: read their own account, edit it, close it.

use async_graphql::{Context, Object, Result};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::CallerExt;
use tenor_platform::refusal::{payload, user_errors};

use super::loaders::load_user;
use super::types::{DeleteMyAccountPayload, UpdateProfileInput, UpdateProfilePayload, User};
use crate::domain::{ProfileUpdate, Rejection, UserRefusal};
use crate::service::UserService;

/// The owner's part of `Query`.
#[derive(Default)]
pub(super) struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// The signed-in user's profile.
    #[graphql(directive = authenticated::apply())]
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let principal = ctx.principal()?;
        load_user(ctx, principal.user_id).await
    }
}

/// The owner's part of `Mutation`.
#[derive(Default)]
pub(super) struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Change the signed-in user's name or preferences. Refusals come back as userErrors and
    /// change nothing.
    #[graphql(directive = authenticated::apply())]
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> Result<UpdateProfilePayload> {
        let principal = ctx.principal()?;
        let update = ProfileUpdate {
            fullname: input.fullname,
            language: input.language.map(Into::into),
            time_zone: input.time_zone.map(Into::into),
            notification_channels: input
                .notification_channels
                .map(|channels| channels.into_iter().map(Into::into).collect()),
            marketing_consent: input.marketing_consent,
        };
        let outcome = ctx
            .data_unchecked::<UserService>()
            .update_profile(principal.user_id, update)
            .await;
        let (profile, user_errors) = payload(outcome)?;
        Ok(UpdateProfilePayload {
            user: profile.map(User),
            user_errors,
        })
    }

    /// Close the signed-in user's account: personal data is erased and every session ends.
    /// `confirm` must be true. Refused with `LOANS_OPEN` while a loan of the user's is being
    /// decided, waiting to be paid out or owed (cancel it, or repay it, first). Repeating the
    /// call returns the first deletion's time.
    #[graphql(directive = authenticated::apply())]
    async fn delete_my_account(
        &self,
        ctx: &Context<'_>,
        confirm: bool,
    ) -> Result<DeleteMyAccountPayload> {
        let principal = ctx.principal()?;
        if !confirm {
            let refusal = UserRefusal::from(Rejection::ConfirmationRequired);
            return Ok(DeleteMyAccountPayload {
                deleted_at: None,
                user_errors: user_errors(&[refusal]),
            });
        }
        let outcome = ctx
            .data_unchecked::<UserService>()
            .delete_account(principal.user_id)
            .await;
        let (deleted_at, user_errors) = payload(outcome)?;
        Ok(DeleteMyAccountPayload {
            deleted_at,
            user_errors,
        })
    }
}
