//! `pii_access_log`: one row per read of someone's KYC PII, append-only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tenor_platform::cursor::Cursor;
use uuid::Uuid;

use super::schema::pii_access_log;
use crate::domain::PiiField;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pii_access_log, check_for_backend(diesel::pg::Pg))]
pub struct PiiAccess {
    pub id: Uuid,
    pub actor_id: Uuid,
    pub subject_user_id: Uuid,
    pub kyc_id: Uuid,
    pub field: PiiField,
    pub operation_name: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub accessed_at: DateTime<Utc>,
}

pub async fn insert_access(conn: &mut AsyncPgConnection, access: &PiiAccess) -> QueryResult<()> {
    diesel::insert_into(pii_access_log::table)
        .values(access)
        .execute(conn)
        .await
        .map(|_| ())
}

/// One person's access log, newest first, after `after` (accessed at, id).
pub async fn access_log(
    conn: &mut AsyncPgConnection,
    subject: Uuid,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<PiiAccess>> {
    use pii_access_log::dsl as l;
    let mut query = pii_access_log::table
        .filter(l::subject_user_id.eq(subject))
        .into_boxed();
    if let Some(Cursor { at, id }) = after {
        query = query.filter(
            l::accessed_at
                .lt(at)
                .or(l::accessed_at.eq(at).and(l::id.lt(id))),
        );
    }
    query
        .order((l::accessed_at.desc(), l::id.desc()))
        .limit(limit)
        .select(PiiAccess::as_select())
        .load(conn)
        .await
}
