//! Staff block an account and lift the block; auth ends its sessions on the status event.

use diesel_async::AsyncConnection;
use tenor_platform::refusal::{Failure, refuse};
use uuid::Uuid;

use super::{Outcome, UserService, now, visible};
use crate::domain::{Profile, Rejection};
use crate::store;

impl UserService {
    /// Staff member `by` blocks an account. Refusals are in the default language: the reader
    /// is staff, not the account's owner.
    // The reason is a free-text staff note and may name people: kept out of the span.
    #[tracing::instrument(skip(self, reason), fields(%user_id, staff_id = %by))]
    pub async fn block(&self, user_id: Uuid, reason: &str, by: Uuid) -> Outcome<Profile> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(current) = visible(store::lock(conn, user_id).await?) else {
                return refuse(Rejection::UserNotFound.into());
            };
            let at = now();
            let next = current
                .blocked(reason, by, at)
                .map_err(|rejection| Failure::refused(rejection.into()))?;
            store::save(conn, &next).await?;
            let reason = next.block.as_ref().map(|b| b.reason.clone());
            publisher
                .status_changed(conn, &current, &next, reason, Some(by), at)
                .await?;
            Ok(next)
        })
        .await
    }

    /// Staff member `by` lifts a block.
    #[tracing::instrument(skip(self), fields(%user_id, staff_id = %by))]
    pub async fn unblock(&self, user_id: Uuid, by: Uuid) -> Outcome<Profile> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(current) = visible(store::lock(conn, user_id).await?) else {
                return refuse(Rejection::UserNotFound.into());
            };
            let at = now();
            let next = current
                .unblocked(at)
                .map_err(|rejection| Failure::refused(rejection.into()))?;
            store::save(conn, &next).await?;
            publisher
                .status_changed(conn, &current, &next, None, Some(by), at)
                .await?;
            Ok(next)
        })
        .await
    }
}
