//! What the signed-in owner does with their own account: read it, edit it, close it.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, UserError, internal_error};

use super::enums::{LanguageGql, NotificationChannelGql};
use super::user::{User, load_user};
use super::user_errors::{user_errors, user_or_errors};
use crate::changes::{Accounts, Refusal};
use crate::domain::{self, ProfileUpdate};

/// Omitted fields stay as they are.
#[derive(InputObject)]
struct UpdateProfileInput {
    /// 1–100 characters; surrounding and repeated spaces are removed.
    fullname: Option<String>,
    language: Option<LanguageGql>,
    /// At least one. SMS and WhatsApp need a phone number on the account.
    notification_channels: Option<Vec<NotificationChannelGql>>,
    marketing_consent: Option<bool>,
}

#[derive(SimpleObject)]
struct UpdateProfilePayload {
    /// The profile after the change; unchanged when there are userErrors.
    user: Option<User>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
struct DeleteMyAccountPayload {
    /// When the account was deleted.
    deleted_at: Option<DateTime<Utc>>,
    user_errors: Vec<UserError>,
}

/// The owner's part of `Query`.
#[derive(Default)]
pub(super) struct MeQuery;

#[Object]
impl MeQuery {
    /// The signed-in user's profile.
    #[graphql(directive = authenticated::apply())]
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let principal = ctx.principal()?;
        load_user(ctx, principal.user_id).await
    }
}

/// The owner's part of `Mutation`.
#[derive(Default)]
pub(super) struct MeMutation;

#[Object]
impl MeMutation {
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
            notification_channels: input
                .notification_channels
                .map(|channels| channels.into_iter().map(Into::into).collect()),
            marketing_consent: input.marketing_consent,
        };
        let outcome = ctx
            .data_unchecked::<Accounts>()
            .update_profile(principal.user_id, update)
            .await;
        let (user, user_errors) = user_or_errors(outcome)?;
        Ok(UpdateProfilePayload { user, user_errors })
    }

    /// Close the signed-in user's account: personal data is erased and every session ends.
    /// `confirm` must be true. Repeating the call returns the first deletion's time.
    #[graphql(directive = authenticated::apply())]
    async fn delete_my_account(
        &self,
        ctx: &Context<'_>,
        confirm: bool,
    ) -> Result<DeleteMyAccountPayload> {
        let principal = ctx.principal()?;
        if !confirm {
            let refusal = Refusal {
                rejections: vec![domain::Rejection::ConfirmationRequired],
                language: domain::Language::default(),
            };
            return Ok(DeleteMyAccountPayload {
                deleted_at: None,
                user_errors: user_errors(&refusal),
            });
        }
        let outcome = ctx
            .data_unchecked::<Accounts>()
            .delete_account(principal.user_id)
            .await
            .map_err(internal_error)?;
        Ok(match outcome {
            Ok(at) => DeleteMyAccountPayload {
                deleted_at: Some(at),
                user_errors: vec![],
            },
            Err(refusal) => DeleteMyAccountPayload {
                deleted_at: None,
                user_errors: user_errors(&refusal),
            },
        })
    }
}
