//! What staff with `user:admin` do: list accounts, block them and lift a block. Every resolver
//! checks the scope itself; `@requiresScopes` lets the router refuse earlier.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use tenor_platform::graphql::{CallerExt, UserError, coded_error, internal_error};
use tenor_platform::text::{TextPolicy, TextProblem};

use super::USER_ADMIN;
use super::cursor::UserCursor;
use super::enums::UserStatusGql;
use super::user::{User, parse_id};
use super::user_errors::{not_found, user_or_errors};
use crate::changes::Accounts;
use crate::store::{self, ListFilter, PagePosition};

const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;
const MAX_QUERY_CHARS: usize = 100;

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

/// The back office's part of `Query`.
#[derive(Default)]
pub(super) struct BackOfficeQuery;

#[Object]
impl BackOfficeQuery {
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
        users_page(ctx, filter, first, after).await.map(Some)
    }
}

/// The back office's part of `Mutation`.
#[derive(Default)]
pub(super) struct BackOfficeMutation;

#[Object]
impl BackOfficeMutation {
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

/// One page of the listing; the arguments are checked before the database is asked.
async fn users_page(
    ctx: &Context<'_>,
    filter: Option<UserFilter>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<UserCursor, User>> {
    ctx.require_scope(USER_ADMIN)?;
    let first = page_size(first)?;
    let after = position_after(after)?;
    let filter = list_filter(filter.unwrap_or_default())?;

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

/// `first`: 1–100, 20 when omitted.
fn page_size(first: Option<i32>) -> Result<usize> {
    let Some(n) = first else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    usize::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
        .ok_or_else(|| {
            coded_error(
                "BAD_USER_INPUT",
                format!("first must be between 1 and {MAX_PAGE_SIZE}"),
            )
        })
}

/// `after`: a cursor this listing handed out, if any.
fn position_after(after: Option<String>) -> Result<Option<PagePosition>> {
    Ok(after
        .map(|cursor| UserCursor::decode_cursor(&cursor))
        .transpose()
        .map_err(|e| coded_error("BAD_USER_INPUT", format!("after: {e}")))?
        .map(|c| c.0))
}

/// The filter as the store takes it: a blank query is no query; a long one, or one with
/// characters the text policy refuses (NUL would fail in PostgreSQL), is refused.
fn list_filter(filter: UserFilter) -> Result<ListFilter> {
    let query = match filter.query {
        None => None,
        Some(raw) => match TextPolicy::single_line(MAX_QUERY_CHARS).clean("query", &raw) {
            Ok(query) => Some(query),
            Err(refusal) => match refusal.problem {
                TextProblem::Required => None,
                TextProblem::TooLong { .. } => {
                    return Err(coded_error(
                        "BAD_USER_INPUT",
                        format!("query must be at most {MAX_QUERY_CHARS} characters"),
                    ));
                }
                _ => return Err(coded_error("BAD_USER_INPUT", refusal.message())),
            },
        },
    };
    Ok(ListFilter {
        status: filter.status.map(Into::into),
        query,
    })
}
