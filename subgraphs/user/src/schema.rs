//! The user subgraph's GraphQL surface (federation v2). Thin: resolvers check who is asking,
//! translate input, and hand over to [`crate::changes`] and the profile loader.
//!
//! Authorization is enforced here from the verified token, and the staff-only fields also carry
//! `@requiresScopes` so the router refuses them before they reach us.

use tenor_platform::federation::authenticated;
use std::sync::Arc;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{
    Context, EmptySubscription, Enum, ID, InputObject, Object, Result, SDLExportOptions, Schema,
    SchemaBuilder, SimpleObject,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use tenor_platform::db::PgPool;
use tenor_platform::graphql::{CallerExt, UserError, auth_error, coded_error, internal_error};
use uuid::Uuid;

use crate::changes::{Accounts, Outcome, Refusal};
use crate::domain::{self, AccountStatus, Profile, ProfileUpdate};
use crate::events::Publisher;
use crate::loader::{self, LoaderStats, Profiles};
use crate::store::{self, ListFilter, PagePosition};

/// The back-office scope for reading any profile and blocking accounts.
pub const USER_ADMIN: &str = "user:admin";
const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;
const MAX_QUERY_CHARS: usize = 100;

pub type UserSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription).enable_federation()
}

/// The schema served by the running service.
pub fn build(pool: PgPool, publisher: Publisher, stats: Arc<LoaderStats>) -> UserSchema {
    builder()
        .data(loader::profiles(pool.clone(), stats))
        .data(Accounts::new(pool, publisher))
        .finish()
}

/// The federation SDL, as `tenor-user print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    let sdl = builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive());
    tenor_platform::federation::federation_sdl(sdl)
}

// ---------------------------------------------------------------------------------------------
// Types

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Language", remote = "crate::domain::Language")]
enum LanguageGql {
    /// Bahasa Indonesia.
    Id,
    /// English.
    En,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "NotificationChannel",
    remote = "crate::domain::NotificationChannel"
)]
enum NotificationChannelGql {
    Email,
    Sms,
    Whatsapp,
    Push,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AccountKind", remote = "crate::domain::AccountKind")]
enum AccountKindGql {
    Customer,
    Staff,
}

/// Deleted accounts are not visible through the API, so there is no DELETED value.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "UserStatus")]
enum UserStatusGql {
    Active,
    /// Dormant.
    Inactive,
    /// Blocked by staff: no login, no changes.
    Blocked,
}

impl From<UserStatusGql> for AccountStatus {
    fn from(status: UserStatusGql) -> Self {
        match status {
            UserStatusGql::Active => Self::Active,
            UserStatusGql::Inactive => Self::Inactive,
            UserStatusGql::Blocked => Self::Blocked,
        }
    }
}

/// A person with an account: a customer or a staff member. Same id in every context.
pub struct User(Profile);

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

#[derive(SimpleObject)]
struct BlockUserPayload {
    user: Option<User>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
struct UnblockUserPayload {
    user: Option<User>,
    user_errors: Vec<UserError>,
}

#[derive(InputObject, Default)]
struct UserFilter {
    status: Option<UserStatusGql>,
    /// Case-insensitive substring of email, phone number or full name.
    query: Option<String>,
}

/// Opaque position in the back-office listing (created_at, id).
struct UserCursor(PagePosition);

impl CursorType for UserCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        const BAD: &str = "not a cursor of this list";
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| BAD)?;
        let text = String::from_utf8(bytes).map_err(|_| BAD)?;
        let (micros, id) = text.split_once(':').ok_or(BAD)?;
        let created_at = micros
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or(BAD)?;
        let id = id.parse().map_err(|_| BAD)?;
        Ok(Self(PagePosition { created_at, id }))
    }

    fn encode_cursor(&self) -> String {
        let PagePosition { created_at, id } = self.0;
        URL_SAFE_NO_PAD.encode(format!("{}:{id}", created_at.timestamp_micros()))
    }
}

// ---------------------------------------------------------------------------------------------
// Resolvers

fn user_errors(refusal: &Refusal) -> Vec<UserError> {
    refusal
        .rejections
        .iter()
        .map(|r| UserError::new(r.code(), r.field(), r.message(refusal.language)))
        .collect()
}

/// A payload's (user, userErrors) from a change's outcome.
fn user_or_errors(outcome: Outcome<Profile>) -> Result<(Option<User>, Vec<UserError>)> {
    match outcome.map_err(internal_error)? {
        Ok(profile) => Ok((Some(User(profile)), vec![])),
        Err(refusal) => Ok((None, user_errors(&refusal))),
    }
}

/// A visible profile through the batching loader.
async fn load_user(ctx: &Context<'_>, id: Uuid) -> Result<Option<User>> {
    let profile = ctx
        .data_unchecked::<Profiles>()
        .load_one(id)
        .await
        .map_err(internal_error)?;
    Ok(profile.filter(Profile::is_visible).map(User))
}

fn not_found(field: &str) -> Vec<UserError> {
    let rejection = domain::Rejection::UserNotFound;
    vec![UserError::new(
        rejection.code(),
        Some(field),
        rejection.message(domain::Language::default()),
    )]
}

fn parse_id(id: &ID) -> Option<Uuid> {
    id.parse().ok()
}

pub struct Query;

#[Object]
impl Query {
    /// The signed-in user's profile.
    #[graphql(directive = authenticated::apply())]
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let principal = ctx.principal()?;
        load_user(ctx, principal.user_id).await
    }

    /// Back office: accounts oldest first, optionally filtered. `first` is 1–100 (default 20).
    /// Nullable so that a caller without the scope loses only this field, not the response.
    #[graphql(requires_scopes = "user:admin")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<UserCursor, User>>> {
        self.users_page(ctx, filter, first, after).await.map(Some)
    }

    #[graphql(skip)]
    async fn users_page(
        &self,
        ctx: &Context<'_>,
        filter: Option<UserFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<UserCursor, User>> {
        ctx.require_scope(USER_ADMIN)?;
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    coded_error(
                        "BAD_USER_INPUT",
                        format!("first must be between 1 and {MAX_PAGE_SIZE}"),
                    )
                })?,
        };
        let after = after
            .map(|cursor| UserCursor::decode_cursor(&cursor))
            .transpose()
            .map_err(|e| coded_error("BAD_USER_INPUT", format!("after: {e}")))?
            .map(|c| c.0);
        let filter = filter.unwrap_or_default();
        let query = filter
            .query
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        if query
            .as_ref()
            .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
        {
            return Err(coded_error(
                "BAD_USER_INPUT",
                format!("query must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let filter = ListFilter {
            status: filter.status.map(Into::into),
            query,
        };

        let pool = ctx.data_unchecked::<Accounts>().pool();
        let mut conn = pool.get().await.map_err(internal_error)?;
        // One more row than asked tells whether there is a next page.
        let mut rows = store::list(&mut conn, &filter, after, first as i64 + 1)
            .await
            .map_err(internal_error)?;
        let has_next = rows.len() > first;
        rows.truncate(first);

        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|profile| {
            let cursor = UserCursor(PagePosition {
                created_at: profile.created_at,
                id: profile.id,
            });
            Edge::new(cursor, User(profile))
        }));
        Ok(connection)
    }

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

pub struct Mutation;

#[Object]
impl Mutation {
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

    /// Back office: block an account (no login, sessions revoked by auth). `reason` is 3–500
    /// characters and is kept for audit.
    #[graphql(requires_scopes = "user:admin")]
    async fn block_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<BlockUserPayload> {
        let staff = ctx.require_scope(USER_ADMIN)?;
        let Some(id) = parse_id(&id) else {
            return Ok(BlockUserPayload {
                user: None,
                user_errors: not_found("id"),
            });
        };
        let outcome = ctx
            .data_unchecked::<Accounts>()
            .block(id, &reason, staff.user_id)
            .await;
        let (user, user_errors) = user_or_errors(outcome)?;
        Ok(BlockUserPayload { user, user_errors })
    }

    /// Back office: lift a block; the account becomes ACTIVE.
    #[graphql(requires_scopes = "user:admin")]
    async fn unblock_user(&self, ctx: &Context<'_>, id: ID) -> Result<UnblockUserPayload> {
        let staff = ctx.require_scope(USER_ADMIN)?;
        let Some(id) = parse_id(&id) else {
            return Ok(UnblockUserPayload {
                user: None,
                user_errors: not_found("id"),
            });
        };
        let outcome = ctx
            .data_unchecked::<Accounts>()
            .unblock(id, staff.user_id)
            .await;
        let (user, user_errors) = user_or_errors(outcome)?;
        Ok(UnblockUserPayload { user, user_errors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let position = PagePosition {
            created_at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        let encoded = UserCursor(position).encode_cursor();
        assert_eq!(UserCursor::decode_cursor(&encoded).unwrap().0, position);
        assert!(UserCursor::decode_cursor("bm90LWEtY3Vyc29y").is_err());
        assert!(UserCursor::decode_cursor("%%%").is_err());
    }

    /// The committed SDL is what the router composes: it must be the current one.
    #[test]
    fn committed_sdl_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schema/subgraphs/user.graphql"
        );
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == sdl(),
            "{path} is stale: run `cargo run -p tenor-user -- print-schema > schema/subgraphs/user.graphql`"
        );
    }

    #[test]
    fn staff_fields_declare_their_scope() {
        let sdl = sdl();
        for field in [
            "blockUser(",
            "unblockUser(",
            "users(",
            "blockReason:",
            "blockedAt:",
        ] {
            let line = sdl
                .lines()
                .find(|l| l.trim_start().starts_with(field))
                .unwrap_or_else(|| panic!("{field} missing from the SDL"));
            assert!(
                line.contains("@requiresScopes(scopes: [[\"user:admin\"]])"),
                "{line}"
            );
        }
        assert!(sdl.contains("type User @key(fields: \"id\")"), "{sdl}");
    }
}
