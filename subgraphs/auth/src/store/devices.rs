//! `biometric_devices` and `biometric_challenges`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{biometric_challenges, biometric_devices};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = biometric_devices)]
pub struct Device {
    pub id: Uuid,
    pub auth_id: Uuid,
    pub device_id: String,
    pub name: String,
    pub public_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The active registration of a physical device.
pub async fn active(conn: &mut AsyncPgConnection, device_id: &str) -> QueryResult<Option<Device>> {
    biometric_devices::table
        .filter(biometric_devices::device_id.eq(device_id))
        .filter(biometric_devices::revoked_at.is_null())
        .select(Device::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(conn: &mut AsyncPgConnection, auth_id: Uuid) -> QueryResult<Vec<Device>> {
    biometric_devices::table
        .filter(biometric_devices::auth_id.eq(auth_id))
        .filter(biometric_devices::revoked_at.is_null())
        .order(biometric_devices::created_at.desc())
        .select(Device::as_select())
        .load(conn)
        .await
}

pub async fn register(
    conn: &mut AsyncPgConnection,
    auth_id: Uuid,
    device_id: &str,
    name: &str,
    public_key: &[u8],
) -> QueryResult<Device> {
    diesel::insert_into(biometric_devices::table)
        .values((
            biometric_devices::id.eq(Uuid::now_v7()),
            biometric_devices::auth_id.eq(auth_id),
            biometric_devices::device_id.eq(device_id),
            biometric_devices::name.eq(name),
            biometric_devices::public_key.eq(public_key),
        ))
        .returning(Device::as_returning())
        .get_result(conn)
        .await
}

pub async fn revoke(conn: &mut AsyncPgConnection, row: Uuid) -> QueryResult<usize> {
    diesel::update(
        biometric_devices::table
            .find(row)
            .filter(biometric_devices::revoked_at.is_null()),
    )
    .set(biometric_devices::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await
}

pub async fn count_active(conn: &mut AsyncPgConnection, auth_id: Uuid) -> QueryResult<i64> {
    biometric_devices::table
        .filter(biometric_devices::auth_id.eq(auth_id))
        .filter(biometric_devices::revoked_at.is_null())
        .count()
        .get_result(conn)
        .await
}

pub async fn touch(conn: &mut AsyncPgConnection, row: Uuid) -> QueryResult<()> {
    diesel::update(biometric_devices::table.find(row))
        .set(biometric_devices::last_used_at.eq(Utc::now()))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn add_challenge(
    conn: &mut AsyncPgConnection,
    nonce: &str,
    device_row: Uuid,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(biometric_challenges::table)
        .values((
            biometric_challenges::nonce.eq(nonce.as_bytes()),
            biometric_challenges::device_row.eq(device_row),
            biometric_challenges::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Consume a challenge: true only once, for the right device, before it expires.
pub async fn consume_challenge(
    conn: &mut AsyncPgConnection,
    nonce: &str,
    device_row: Uuid,
) -> QueryResult<bool> {
    let now = Utc::now();
    diesel::update(
        biometric_challenges::table
            .filter(biometric_challenges::nonce.eq(nonce.as_bytes()))
            .filter(biometric_challenges::device_row.eq(device_row))
            .filter(biometric_challenges::used_at.is_null())
            .filter(biometric_challenges::expires_at.gt(now)),
    )
    .set(biometric_challenges::used_at.eq(now))
    .execute(conn)
    .await
    .map(|n| n == 1)
}
