//! What staff with `user:admin` do: list accounts, block them and lift a block. Every resolver
//! checks the scope itself; `@requiresScopes` lets the router refuse earlier.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};
use tenor_platform::refusal::{payload, user_errors};
use tenor_platform::text::{TextPolicy, TextProblem};

use super::USER_ADMIN;
use super::types::{BlockUserPayload, UnblockUserPayload, User, UserFilter, parse_id};
use crate::domain::{Rejection, UserRefusal};
use crate::service::{ListFilter, UserService};

const MAX_QUERY_CHARS: usize = 100;

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
    ) -> Result<Option<Connection<Cursor, User>>> {
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
                user_errors: not_found(),
            });
        };
        let outcome = ctx
            .data_unchecked::<UserService>()
            .block(id, &reason, staff.user_id)
            .await;
        let (profile, user_errors) = payload(outcome)?;
        Ok(BlockUserPayload {
            user: profile.map(User),
            user_errors,
        })
    }

    /// Back office: lift a block; the account becomes ACTIVE.
    #[graphql(requires_scopes = "user:admin")]
    async fn unblock_user(&self, ctx: &Context<'_>, id: ID) -> Result<UnblockUserPayload> {
        let staff = ctx.require_scope(USER_ADMIN)?;
        let Some(id) = parse_id(&id) else {
            return Ok(UnblockUserPayload {
                user: None,
                user_errors: not_found(),
            });
        };
        let outcome = ctx
            .data_unchecked::<UserService>()
            .unblock(id, staff.user_id)
            .await;
        let (profile, user_errors) = payload(outcome)?;
        Ok(UnblockUserPayload {
            user: profile.map(User),
            user_errors,
        })
    }
}

/// USER_NOT_FOUND on `id`, for an id that cannot name an account: answered like an unknown one.
fn not_found() -> Vec<tenor_platform::graphql::UserError> {
    user_errors(&[UserRefusal::from(Rejection::UserNotFound)])
}

/// One page of the listing; the arguments are checked before the database is asked.
async fn users_page(
    ctx: &Context<'_>,
    filter: Option<UserFilter>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<Cursor, User>> {
    ctx.require_scope(USER_ADMIN)?;
    let page = PageRequest::parse(first, after.as_deref())?;
    let filter = list_filter(filter.unwrap_or_default())?;

    let listed = ctx
        .data_unchecked::<UserService>()
        .list_users(&filter, page)
        .await
        .map_err(|error| internal_error(format!("{error:#}")))?;

    let mut connection = Connection::new(page.after.is_some(), listed.has_next);
    connection
        .edges
        .extend(listed.users.into_iter().map(|profile| {
            let cursor = Cursor {
                at: profile.created_at,
                id: profile.id,
            };
            Edge::new(cursor, User(profile))
        }));
    Ok(connection)
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

#[cfg(test)]
mod tests {
    use async_graphql::connection::CursorType;
    use chrono::DateTime;
    use uuid::Uuid;

    use super::*;

    /// The listing's cursors are the kit's, and cursors handed out before it (base64url of
    /// `<created_at micros>:<id>`) still decode to the same position.
    #[test]
    fn cursor_round_trips_keeps_its_wire_form_and_rejects_garbage() {
        let position = Cursor {
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            id: Uuid::parse_str("0193a7f0-5b8e-7c3d-9e2f-1a2b3c4d5e6f").unwrap(),
        };
        let encoded = position.encode_cursor();
        assert_eq!(Cursor::decode_cursor(&encoded).unwrap(), position);
        // base64url("1800000000123456:0193a7f0-5b8e-7c3d-9e2f-1a2b3c4d5e6f"), no padding.
        assert_eq!(
            encoded,
            "MTgwMDAwMDAwMDEyMzQ1NjowMTkzYTdmMC01YjhlLTdjM2QtOWUyZi0xYTJiM2M0ZDVlNmY"
        );
        assert!(Cursor::decode_cursor("bm90LWEtY3Vyc29y").is_err());
        assert!(Cursor::decode_cursor("%%%").is_err());
    }
}
