//! `auth_sessions` and their `refresh_tokens`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use tenor_platform::cursor::Cursor;

use super::schema::{auth_sessions, refresh_tokens};
use crate::domain::session::{AuthMethod, RevokeReason};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_sessions)]
pub struct Session {
    pub session_id: Uuid,
    pub auth_id: Uuid,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub auth_method: AuthMethod,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expired_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<RevokeReason>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = auth_sessions)]
pub struct NewSession<'a> {
    pub session_id: Uuid,
    pub auth_id: Uuid,
    pub device_id: Option<&'a str>,
    pub device_name: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub ip_address: Option<&'a str>,
    pub auth_method: AuthMethod,
    pub expired_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: i64,
    pub session_id: Uuid,
    pub parent_id: Option<i64>,
    pub used_at: Option<DateTime<Utc>>,
}

pub async fn create(conn: &mut AsyncPgConnection, session: NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(auth_sessions::table)
        .values(&session)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn add_refresh_token(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    hash: &[u8],
    parent: Option<i64>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::parent_id.eq(parent),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The token and its session, the session row locked so concurrent refreshes of one family
/// are serialised.
pub async fn find_refresh_token(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<(RefreshToken, Session)>> {
    let Some(token) = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let session = auth_sessions::table
        .find(token.session_id)
        .select(Session::as_select())
        .for_update()
        .first(conn)
        .await?;
    // Re-read the token under the session lock: a concurrent refresh may have used it.
    let token = refresh_tokens::table
        .find(token.id)
        .select(RefreshToken::as_select())
        .first(conn)
        .await?;
    Ok(Some((token, session)))
}

/// The successors issued for `token_id`, oldest first: one after a normal refresh, two after
/// its one retry within the grace.
pub async fn children_of(
    conn: &mut AsyncPgConnection,
    token_id: i64,
) -> QueryResult<Vec<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::parent_id.eq(token_id))
        .order(refresh_tokens::id.asc())
        .select(RefreshToken::as_select())
        .load(conn)
        .await
}

pub async fn mark_used(
    conn: &mut AsyncPgConnection,
    token_id: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(token_id))
        .set(refresh_tokens::used_at.eq(at))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn touch(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(auth_sessions::table.find(session_id))
        .set(auth_sessions::last_used_at.eq(at))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Which live sessions a revocation ends.
#[derive(Debug, Clone, Copy)]
pub enum Revoke<'a> {
    /// One session (logout, refresh-token reuse).
    Session(Uuid),
    /// Every session of a user, optionally sparing one (the caller's own).
    AllOf { auth_id: Uuid, except: Option<Uuid> },
    /// Every session opened on one of a user's devices.
    Device { auth_id: Uuid, device_id: &'a str },
}

/// Sessions ended after `since`: those whose access tokens may not have expired yet.
pub async fn revoked_since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    auth_sessions::table
        .filter(auth_sessions::revoked_at.gt(since))
        .select(auth_sessions::session_id)
        .load(conn)
        .await
}

/// A session a revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoked {
    pub session_id: Uuid,
    pub auth_id: Uuid,
    pub revoked_at: DateTime<Utc>,
}

/// Ends the live sessions `which` selects, recording why; returns the sessions it ended.
///
/// Each statement filters the updated rows themselves on `revoked_at IS NULL`, so of two
/// concurrent revocations of one session the second re-checks the row after the first commits
/// and skips it: a session is reported as ended exactly once.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    which: Revoke<'_>,
    reason: RevokeReason,
) -> QueryResult<Vec<Revoked>> {
    let revoked_at = Utc::now();
    let set = (
        auth_sessions::revoked_at.eq(revoked_at),
        auth_sessions::revoke_reason.eq(reason),
    );
    let ended = (auth_sessions::session_id, auth_sessions::auth_id);
    let live = auth_sessions::revoked_at.is_null();
    let rows: Vec<(Uuid, Uuid)> = match which {
        Revoke::Session(session_id) => {
            diesel::update(
                auth_sessions::table
                    .filter(live)
                    .filter(auth_sessions::session_id.eq(session_id)),
            )
            .set(set)
            .returning(ended)
            .get_results(conn)
            .await?
        }
        Revoke::AllOf { auth_id, except } => {
            diesel::update(
                auth_sessions::table
                    .filter(live)
                    .filter(auth_sessions::auth_id.eq(auth_id))
                    .filter(auth_sessions::session_id.ne(except.unwrap_or(Uuid::nil()))),
            )
            .set(set)
            .returning(ended)
            .get_results(conn)
            .await?
        }
        Revoke::Device { auth_id, device_id } => {
            diesel::update(
                auth_sessions::table
                    .filter(live)
                    .filter(auth_sessions::auth_id.eq(auth_id))
                    .filter(auth_sessions::device_id.eq(device_id)),
            )
            .set(set)
            .returning(ended)
            .get_results(conn)
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(session_id, auth_id)| Revoked {
            session_id,
            auth_id,
            revoked_at,
        })
        .collect())
}

/// Every session of a user, live or ended, newest first (the owner's data export).
pub async fn all_of(conn: &mut AsyncPgConnection, auth_id: Uuid) -> QueryResult<Vec<Session>> {
    auth_sessions::table
        .filter(auth_sessions::auth_id.eq(auth_id))
        .order(auth_sessions::created_at.desc())
        .select(Session::as_select())
        .load(conn)
        .await
}

/// Live sessions of a user, newest first, after the cursor (`created_at`, `session_id`).
pub async fn list_active(
    conn: &mut AsyncPgConnection,
    auth_id: Uuid,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<Session>> {
    let mut query = auth_sessions::table
        .filter(auth_sessions::auth_id.eq(auth_id))
        .filter(auth_sessions::revoked_at.is_null())
        .filter(auth_sessions::expired_at.gt(Utc::now()))
        .select(Session::as_select())
        .order((
            auth_sessions::created_at.desc(),
            auth_sessions::session_id.desc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(Cursor { at: created_at, id }) = after {
        query = query.filter(
            auth_sessions::created_at
                .lt(created_at)
                .or(auth_sessions::created_at
                    .eq(created_at)
                    .and(auth_sessions::session_id.lt(id))),
        );
    }
    query.load(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, session_id: Uuid) -> QueryResult<Option<Session>> {
    auth_sessions::table
        .find(session_id)
        .select(Session::as_select())
        .first(conn)
        .await
        .optional()
}
