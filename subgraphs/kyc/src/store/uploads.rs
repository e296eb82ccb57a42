//! `kyc_uploads`: one row per signed upload link, REQUESTED → STORED → USED (or purged when
//! abandoned).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::kyc_uploads;
use crate::domain::{UploadKind, UploadStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = kyc_uploads, check_for_backend(diesel::pg::Pg))]
pub struct Upload {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: UploadKind,
    pub status: UploadStatus,
    pub object_path: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i32>,
    pub key_id: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub stored_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_upload(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    user_id: Uuid,
    kind: UploadKind,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    use kyc_uploads::dsl as u;
    diesel::insert_into(kyc_uploads::table)
        .values((
            u::id.eq(id),
            u::user_id.eq(user_id),
            u::kind.eq(kind),
            u::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn find_upload(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Upload>> {
    kyc_uploads::table
        .find(id)
        .select(Upload::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn lock_upload(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Upload>> {
    kyc_uploads::table
        .find(id)
        .select(Upload::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// REQUESTED → STORED, only while the URL is unspent and unexpired. `false`: another PUT won
/// or the URL expired meanwhile.
pub async fn mark_upload_stored(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    object_path: &str,
    content_type: &str,
    size_bytes: i32,
    key_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    use kyc_uploads::dsl as u;
    let updated = diesel::update(
        kyc_uploads::table
            .filter(u::id.eq(id))
            .filter(u::status.eq(UploadStatus::Requested))
            .filter(u::expires_at.gt(now)),
    )
    .set((
        u::status.eq(UploadStatus::Stored),
        u::object_path.eq(object_path),
        u::content_type.eq(content_type),
        u::size_bytes.eq(size_bytes),
        u::key_id.eq(key_id),
        u::stored_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Uploads never attached to a submission and created before `before`, locked and skipped by
/// other replicas.
pub async fn lock_abandoned_uploads(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Upload>> {
    use kyc_uploads::dsl as u;
    kyc_uploads::table
        .filter(u::status.ne(UploadStatus::Used))
        .filter(u::created_at.lt(before))
        .order((u::created_at, u::id))
        .limit(limit)
        .select(Upload::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

pub async fn delete_upload(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(kyc_uploads::table.find(id))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn mark_upload_used(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use kyc_uploads::dsl as u;
    diesel::update(kyc_uploads::table.filter(u::id.eq(id)))
        .set((u::status.eq(UploadStatus::Used), u::used_at.eq(now)))
        .execute(conn)
        .await
        .map(|_| ())
}
