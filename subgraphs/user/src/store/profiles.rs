//! One account's row: read, locked, written back, and created on registration.
//!
//! Writes take the row with `FOR UPDATE` first ([`lock`]) so that two concurrent changes to one
//! account (a staff block racing the owner's edit) apply one after the other, each checked
//! against the state the other left.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tenor_contracts::identity::{AccountKind as RegisteredKind, UserRegisteredV1};
use uuid::Uuid;

use super::schema::user_profile::{self, dsl as p};
use crate::domain::{
    AccountKind, AccountStatus, Block, IndonesianTimeZone, Language, NotificationChannel,
    Preferences, Profile,
};

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = user_profile, check_for_backend(diesel::pg::Pg))]
// Every column is written as it is, NULLs included (clearing a block or minimising PII).
#[diesel(treat_none_as_null = true)]
pub(super) struct Row {
    id: Uuid,
    email: Option<String>,
    phone_number: Option<String>,
    fullname: String,
    status: AccountStatus,
    kind: AccountKind,
    kyc_id: Option<Uuid>,
    language: Language,
    notification_channels: Vec<NotificationChannel>,
    marketing_consent: bool,
    marketing_consent_at: Option<DateTime<Utc>>,
    time_zone: IndonesianTimeZone,
    block_reason: Option<String>,
    blocked_at: Option<DateTime<Utc>>,
    blocked_by: Option<Uuid>,
    deleted_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Profile {
    fn from(row: Row) -> Self {
        // The block columns only mean something while the account is blocked.
        let block = match (row.block_reason, row.blocked_at) {
            (Some(reason), Some(at)) if row.status == AccountStatus::Blocked => Some(Block {
                reason,
                at,
                by: row.blocked_by,
            }),
            _ => None,
        };
        Profile {
            id: row.id,
            email: row.email,
            phone_number: row.phone_number,
            fullname: row.fullname,
            status: row.status,
            kind: row.kind,
            kyc_id: row.kyc_id,
            preferences: Preferences {
                language: row.language,
                time_zone: row.time_zone,
                notification_channels: row.notification_channels,
                marketing_consent: row.marketing_consent,
                marketing_consent_at: row.marketing_consent_at,
            },
            block,
            deleted_at: row.deleted_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<&Profile> for Row {
    fn from(profile: &Profile) -> Self {
        let block = profile.block.as_ref();
        let preferences = &profile.preferences;
        Row {
            id: profile.id,
            email: profile.email.clone(),
            phone_number: profile.phone_number.clone(),
            fullname: profile.fullname.clone(),
            status: profile.status,
            kind: profile.kind,
            kyc_id: profile.kyc_id,
            language: preferences.language,
            notification_channels: preferences.notification_channels.clone(),
            marketing_consent: preferences.marketing_consent,
            marketing_consent_at: preferences.marketing_consent_at,
            time_zone: preferences.time_zone,
            block_reason: block.map(|b| b.reason.clone()),
            blocked_at: block.map(|b| b.at),
            blocked_by: block.and_then(|b| b.by),
            deleted_at: profile.deleted_at,
            created_at: profile.created_at,
            updated_at: profile.updated_at,
        }
    }
}

/// Create the profile of a newly registered account. A second delivery of the same
/// registration (or a replay from another event id) finds the row and changes nothing.
/// Returns whether a row was created.
pub async fn create_registered(
    conn: &mut AsyncPgConnection,
    registered: &UserRegisteredV1,
) -> QueryResult<bool> {
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
            p::kind.eq(kind),
            p::created_at.eq(registered.registered_at),
            p::updated_at.eq(registered.registered_at),
        ))
        .on_conflict(p::id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Profile>> {
    let row = user_profile::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Profile::from))
}

/// Several profiles in one query (entity batches from the router).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Profile>> {
    let rows: Vec<Row> = user_profile::table
        .filter(p::id.eq_any(ids))
        .select(Row::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Profile::from).collect())
}

/// The profile, locked until the end of the caller's transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Profile>> {
    let row = user_profile::table
        .find(id)
        .select(Row::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Profile::from))
}

/// Write back a profile the domain changed (the caller holds the row lock).
pub async fn save(conn: &mut AsyncPgConnection, profile: &Profile) -> QueryResult<()> {
    diesel::update(user_profile::table.find(profile.id))
        .set(&Row::from(profile))
        .execute(conn)
        .await?;
    Ok(())
}
