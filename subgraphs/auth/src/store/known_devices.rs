//! `known_devices`: the device ids each account has signed in from.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::known_devices;

/// Remember that the account signed in from `device_id`; `true` the first time only. Of two
/// concurrent first logins from one device, the second waits for the first to commit and then
/// finds the row, so exactly one of them sees `true`.
pub async fn remember(
    conn: &mut AsyncPgConnection,
    auth_id: Uuid,
    device_id: &str,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(known_devices::table)
        .values((
            known_devices::auth_id.eq(auth_id),
            known_devices::device_id.eq(device_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}
