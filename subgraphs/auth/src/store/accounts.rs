//! `users_auth` and `login_attempts`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{login_attempts, users_auth};
use crate::domain::account::{AccountKind, AccountStatus};
use crate::domain::identity::LoginIdentifier;
use crate::domain::session::AuthMethod;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users_auth)]
pub struct Account {
    pub auth_id: Uuid,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub password_hash: Option<String>,
    pub is_biometric_enabled: bool,
    pub kind: AccountKind,
    pub scopes: Vec<String>,
    pub status: AccountStatus,
    pub failed_login_count: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users_auth)]
pub struct NewAccount<'a> {
    pub auth_id: Uuid,
    pub email: &'a str,
    pub phone_number: Option<&'a str>,
    pub password_hash: &'a str,
    pub kind: AccountKind,
    pub scopes: Vec<String>,
}

/// Which unique identifier an insert collided with.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    Email,
    Phone,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    account: NewAccount<'_>,
) -> QueryResult<Result<(), Taken>> {
    match diesel::insert_into(users_auth::table)
        .values(&account)
        .execute(conn)
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        )) => Ok(Err(match info.constraint_name() {
            Some(c) if c.contains("phone") => Taken::Phone,
            _ => Taken::Email,
        })),
        Err(e) => Err(e),
    }
}

pub async fn exists(
    conn: &mut AsyncPgConnection,
    email: &str,
    phone: &str,
) -> QueryResult<(bool, bool)> {
    let email_taken = diesel::select(diesel::dsl::exists(
        users_auth::table.filter(users_auth::email.eq(email)),
    ))
    .get_result(conn)
    .await?;
    let phone_taken = diesel::select(diesel::dsl::exists(
        users_auth::table.filter(users_auth::phone_number.eq(phone)),
    ))
    .get_result(conn)
    .await?;
    Ok((email_taken, phone_taken))
}

/// The account for a login identifier, locked for update (throttle counters change).
pub async fn find_for_login(
    conn: &mut AsyncPgConnection,
    identifier: &LoginIdentifier,
) -> QueryResult<Option<Account>> {
    // Locking clauses cannot be boxed, hence two spelled-out queries.
    match identifier {
        LoginIdentifier::Email(email) => users_auth::table
            .filter(users_auth::email.eq(email))
            .select(Account::as_select())
            .for_update()
            .first(conn)
            .await
            .optional(),
        LoginIdentifier::Phone(phone) => users_auth::table
            .filter(users_auth::phone_number.eq(phone))
            .select(Account::as_select())
            .for_update()
            .first(conn)
            .await
            .optional(),
    }
}

pub async fn find(conn: &mut AsyncPgConnection, auth_id: Uuid) -> QueryResult<Option<Account>> {
    users_auth::table
        .find(auth_id)
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    auth_id: Uuid,
    failed_count: i32,
    locked_until: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::update(users_auth::table.find(auth_id))
        .set((
            users_auth::failed_login_count.eq(failed_count),
            users_auth::locked_until.eq(locked_until),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn record_success(conn: &mut AsyncPgConnection, auth_id: Uuid) -> QueryResult<()> {
    diesel::update(users_auth::table.find(auth_id))
        .set((
            users_auth::failed_login_count.eq(0),
            users_auth::locked_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Replaces the password hash, but only if it is still `verified` — the hash the current
/// password was checked against. Two changes verified against the same password race through
/// the slow hashing in between; the first to write wins, and the other finds the hash changed
/// (`None`), as if its current password were wrong — which by then it is. Returns when it
/// changed. Without the
/// condition both succeeded and the last write won: someone holding a stolen password could
/// undo the owner's change made at the same moment.
pub async fn set_password(
    conn: &mut AsyncPgConnection,
    auth_id: Uuid,
    verified: &str,
    hash: &str,
) -> QueryResult<Option<DateTime<Utc>>> {
    let now = Utc::now();
    let changed = diesel::update(
        users_auth::table
            .find(auth_id)
            .filter(users_auth::password_hash.eq(verified)),
    )
    .set((
        users_auth::password_hash.eq(hash),
        users_auth::password_changed_at.eq(now),
        users_auth::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok((changed == 1).then_some(now))
}

pub async fn set_biometric_enabled(
    conn: &mut AsyncPgConnection,
    auth_id: Uuid,
    enabled: bool,
) -> QueryResult<()> {
    diesel::update(users_auth::table.find(auth_id))
        .set(users_auth::is_biometric_enabled.eq(enabled))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Mirror the profile status; a deleted account also loses its credentials and identifiers.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    auth_id: Uuid,
    status: AccountStatus,
) -> QueryResult<usize> {
    if status == AccountStatus::Deleted {
        diesel::update(users_auth::table.find(auth_id))
            .set((
                users_auth::status.eq(status),
                users_auth::email.eq(None::<String>),
                users_auth::phone_number.eq(None::<String>),
                users_auth::password_hash.eq(None::<String>),
                users_auth::is_biometric_enabled.eq(false),
                users_auth::updated_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await
    } else {
        diesel::update(users_auth::table.find(auth_id))
            .set((
                users_auth::status.eq(status),
                users_auth::updated_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await
    }
}

pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    auth_id: Option<Uuid>,
    ip: Option<&str>,
    succeeded: bool,
    method: AuthMethod,
) -> QueryResult<()> {
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::auth_id.eq(auth_id),
            login_attempts::ip_address.eq(ip),
            login_attempts::succeeded.eq(succeeded),
            login_attempts::method.eq(method),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn recent_failures_from(
    conn: &mut AsyncPgConnection,
    ip: &str,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    login_attempts::table
        .filter(login_attempts::ip_address.eq(ip))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(since))
        .count()
        .get_result(conn)
        .await
}
