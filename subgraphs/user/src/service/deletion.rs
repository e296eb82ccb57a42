//! The owner closes their account: personal data is minimised and the deletion announced.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use tenor_platform::refusal::{Failure, refuse};
use uuid::Uuid;

use super::{Outcome, UserService, now};
use crate::domain::{AccountStatus, Rejection};
use crate::store;

impl UserService {
    /// Close the owner's account, unless a loan of theirs is open; returns when it was deleted. A retry after success (a flaky
    /// mobile network) gets the first deletion's time back and publishes nothing new.
    #[tracing::instrument(skip(self), fields(%user_id))]
    pub async fn delete_account(&self, user_id: Uuid) -> Outcome<DateTime<Utc>> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(current) = store::lock(conn, user_id).await? else {
                return refuse(Rejection::UserNotFound.into());
            };
            if let (AccountStatus::Deleted, Some(at)) = (current.status, current.deleted_at) {
                return Ok(at);
            }
            let at = now();
            let language = current.preferences.language;
            let open_loans = store::open_loans(conn, user_id).await?;
            let next = current
                .minimised(open_loans, at)
                .map_err(|rejection| Failure::refused(rejection.in_language(language)))?;
            store::save(conn, &next).await?;
            publisher
                .status_changed(conn, &current, &next, None, None, at)
                .await?;
            Ok(at)
        })
        .await
    }
}
