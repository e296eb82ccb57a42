//! Persistence of profiles in `user_profile` (diesel-async).
//!
//! Writes take the row with `FOR UPDATE` first ([`lock`]) so that two concurrent changes to one
//! account (a staff block racing the owner's edit) apply one after the other, each checked
//! against the state the other left.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tenor_contracts::identity::{AccountKind as RegisteredKind, UserRegisteredV1};
use uuid::Uuid;

use crate::domain::{
    AccountKind, AccountStatus, Block, Language, NotificationChannel, Preferences, Profile,
};

diesel::table! {
    user_profile (id) {
        id -> Uuid,
        email -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        fullname -> Text,
        status -> Text,
        kind -> Text,
        kyc_id -> Nullable<Uuid>,
        language -> Text,
        notification_channels -> Array<Text>,
        marketing_consent -> Bool,
        marketing_consent_at -> Nullable<Timestamptz>,
        block_reason -> Nullable<Text>,
        blocked_at -> Nullable<Timestamptz>,
        blocked_by -> Nullable<Uuid>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

use user_profile::dsl as p;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = user_profile, check_for_backend(diesel::pg::Pg))]
// Every column is written as it is, NULLs included (clearing a block or minimising PII).
#[diesel(treat_none_as_null = true)]
struct Row {
    id: Uuid,
    email: Option<String>,
    phone_number: Option<String>,
    fullname: String,
    status: String,
    kind: String,
    kyc_id: Option<Uuid>,
    language: String,
    notification_channels: Vec<String>,
    marketing_consent: bool,
    marketing_consent_at: Option<DateTime<Utc>>,
    block_reason: Option<String>,
    blocked_at: Option<DateTime<Utc>>,
    blocked_by: Option<Uuid>,
    deleted_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A row the domain cannot read: the table's CHECK constraints make this a bug, not input.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("user_profile {id} has an unknown {column} value")]
    Corrupt { id: Uuid, column: &'static str },
}

impl TryFrom<Row> for Profile {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        let corrupt = |column| StoreError::Corrupt { id: row.id, column };
        let status = AccountStatus::from_db(&row.status).ok_or_else(|| corrupt("status"))?;
        let kind = AccountKind::from_db(&row.kind).ok_or_else(|| corrupt("kind"))?;
        let language = Language::from_db(&row.language).ok_or_else(|| corrupt("language"))?;
        let notification_channels = row
            .notification_channels
            .iter()
            .map(|c| NotificationChannel::from_db(c))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt("notification_channels"))?;
        let block = match (row.block_reason, row.blocked_at) {
            (Some(reason), Some(at)) if status == AccountStatus::Blocked => Some(Block {
                reason,
                at,
                by: row.blocked_by,
            }),
            _ => None,
        };
        Ok(Profile {
            id: row.id,
            email: row.email,
            phone_number: row.phone_number,
            fullname: row.fullname,
            status,
            kind,
            kyc_id: row.kyc_id,
            preferences: Preferences {
                language,
                notification_channels,
                marketing_consent: row.marketing_consent,
                marketing_consent_at: row.marketing_consent_at,
            },
            block,
            deleted_at: row.deleted_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl From<&Profile> for Row {
    fn from(profile: &Profile) -> Self {
        let block = profile.block.as_ref();
        Row {
            id: profile.id,
            email: profile.email.clone(),
            phone_number: profile.phone_number.clone(),
            fullname: profile.fullname.clone(),
            status: profile.status.as_db().to_owned(),
            kind: profile.kind.as_db().to_owned(),
            kyc_id: profile.kyc_id,
            language: profile.preferences.language.as_db().to_owned(),
            notification_channels: profile
                .preferences
                .notification_channels
                .iter()
                .map(|c| c.as_db().to_owned())
                .collect(),
            marketing_consent: profile.preferences.marketing_consent,
            marketing_consent_at: profile.preferences.marketing_consent_at,
            block_reason: block.map(|b| b.reason.clone()),
            blocked_at: block.map(|b| b.at),
            blocked_by: block.and_then(|b| b.by),
            deleted_at: profile.deleted_at,
            created_at: profile.created_at,
            updated_at: profile.updated_at,
        }
    }
}

fn profiles(rows: Vec<Row>) -> Result<Vec<Profile>, StoreError> {
    rows.into_iter().map(Profile::try_from).collect()
}

/// Create the profile of a newly registered account. A second delivery of the same
/// registration (or a replay from another event id) finds the row and changes nothing.
/// Returns whether a row was created.
pub async fn create_registered(
    conn: &mut AsyncPgConnection,
    registered: &UserRegisteredV1,
) -> Result<bool, StoreError> {
    let kind = match registered.kind {
        RegisteredKind::Customer => AccountKind::Customer,
        RegisteredKind::Staff => AccountKind::Staff,
    };
    let inserted = diesel::insert_into(user_profile::table)
        .values((
            p::id.eq(registered.user_id),
            p::email.eq(&registered.email),
            p::phone_number.eq(&registered.phone_number),
            p::fullname.eq(&registered.fullname),
            p::kind.eq(kind.as_db()),
            p::created_at.eq(registered.registered_at),
            p::updated_at.eq(registered.registered_at),
        ))
        .on_conflict(p::id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Profile>, StoreError> {
    let row = user_profile::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(Profile::try_from).transpose()
}

/// Several profiles in one query (entity batches from the router).
pub async fn find_many(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<Vec<Profile>, StoreError> {
    let rows = user_profile::table
        .filter(p::id.eq_any(ids))
        .select(Row::as_select())
        .load(conn)
        .await?;
    profiles(rows)
}

/// The profile, locked until the end of the caller's transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Profile>, StoreError> {
    let row = user_profile::table
        .find(id)
        .select(Row::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    row.map(Profile::try_from).transpose()
}

/// Write back a profile the domain changed (the caller holds the row lock).
pub async fn save(conn: &mut AsyncPgConnection, profile: &Profile) -> Result<(), StoreError> {
    let row = Row::from(profile);
    diesel::update(user_profile::table.find(profile.id))
        .set(&row)
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a page of the back-office listing starts: after this (created_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePosition {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<AccountStatus>,
    /// Substring of email, phone number or name, case-insensitive.
    pub query: Option<String>,
}

/// Up to `limit` visible profiles matching `filter`, oldest first, after `after`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
    after: Option<PagePosition>,
    limit: i64,
) -> Result<Vec<Profile>, StoreError> {
    let mut query = user_profile::table
        .select(Row::as_select())
        .filter(p::status.ne(AccountStatus::Deleted.as_db()))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(p::status.eq(status.as_db()));
    }
    if let Some(text) = filter.query.as_deref() {
        let pattern = format!("%{}%", escape_like(text));
        query = query.filter(
            p::email
                .ilike(pattern.clone())
                .or(p::phone_number.ilike(pattern.clone()))
                .or(p::fullname.ilike(pattern).nullable())
                .assume_not_null(),
        );
    }
    if let Some(after) = after {
        query = query.filter(
            p::created_at
                .gt(after.created_at)
                .or(p::created_at.eq(after.created_at).and(p::id.gt(after.id))),
        );
    }
    let rows = query
        .order((p::created_at.asc(), p::id.asc()))
        .limit(limit)
        .load(conn)
        .await?;
    profiles(rows)
}

/// `%`, `_` and `\` typed by staff are literal characters, not patterns.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(escape_like("siti"), "siti");
    }
}
