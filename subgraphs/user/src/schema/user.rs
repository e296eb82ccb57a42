//! `User`, the entity this subgraph owns: its fields, and how it is loaded — for `me`, and for
//! the router through `_entities`.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::graphql::{CallerExt, auth_error, internal_error};
use uuid::Uuid;

use super::USER_ADMIN;
use super::enums::{AccountKindGql, LanguageGql, NotificationChannelGql, UserStatusGql};
use crate::domain::{AccountStatus, Profile};
use crate::loader::Profiles;

/// A person with an account: a customer or a staff member. Same id in every context.
pub struct User(pub(super) Profile);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    async fn phone_number(&self) -> Option<&str> {
        self.0.phone_number.as_deref()
    }

    async fn fullname(&self) -> &str {
        &self.0.fullname
    }

    async fn status(&self) -> Result<UserStatusGql> {
        match self.0.status {
            AccountStatus::Active => Ok(UserStatusGql::Active),
            AccountStatus::Inactive => Ok(UserStatusGql::Inactive),
            AccountStatus::Blocked => Ok(UserStatusGql::Blocked),
            // Resolvers never hand out a deleted profile; reaching this is a bug.
            AccountStatus::Deleted => Err(internal_error(format_args!(
                "deleted profile {} escaped to the API",
                self.0.id
            ))),
        }
    }

    async fn kind(&self) -> AccountKindGql {
        self.0.kind.into()
    }

    async fn preferences(&self) -> UserPreferences {
        let prefs = &self.0.preferences;
        UserPreferences {
            language: prefs.language.into(),
            notification_channels: prefs
                .notification_channels
                .iter()
                .map(|&c| c.into())
                .collect(),
            marketing_consent: prefs.marketing_consent,
            marketing_consent_at: prefs.marketing_consent_at,
        }
    }

    /// Why staff blocked the account (internal notes: staff only).
    #[graphql(requires_scopes = "user:admin")]
    async fn block_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        ctx.require_scope(USER_ADMIN)?;
        Ok(self.0.block.as_ref().map(|b| b.reason.as_str()))
    }

    #[graphql(requires_scopes = "user:admin")]
    async fn blocked_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        ctx.require_scope(USER_ADMIN)?;
        Ok(self.0.block.as_ref().map(|b| b.at))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
struct UserPreferences {
    language: LanguageGql,
    notification_channels: Vec<NotificationChannelGql>,
    marketing_consent: bool,
    /// When marketing consent was given; null while there is none.
    marketing_consent_at: Option<DateTime<Utc>>,
}

/// The part of `Query` that resolves `User` references for the router.
#[derive(Default)]
pub(super) struct UserEntity;

#[Object]
impl UserEntity {
    /// `_entities` for `User`: the owner, or staff with `user:admin`. Anyone else gets null for
    /// that user plus a FORBIDDEN error, without failing the other users of the same batch.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let principal = ctx.principal()?;
        let Some(id) = parse_id(&id) else {
            return Ok(None);
        };
        if let Err(error) = principal.require_owner_or(id, USER_ADMIN) {
            ctx.add_error(auth_error(error).into_server_error(ctx.item.pos));
            return Ok(None);
        }
        load_user(ctx, id).await
    }
}

/// A visible profile through the batching loader.
pub(super) async fn load_user(ctx: &Context<'_>, id: Uuid) -> Result<Option<User>> {
    let profile = ctx
        .data_unchecked::<Profiles>()
        .load_one(id)
        .await
        .map_err(internal_error)?;
    Ok(profile.filter(Profile::is_visible).map(User))
}

pub(super) fn parse_id(id: &ID) -> Option<Uuid> {
    id.parse().ok()
}
