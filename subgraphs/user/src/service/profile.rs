//! The owner edits their profile or preferences.

use diesel_async::AsyncConnection;
use tenor_platform::refusal::{Failure, refuse};
use uuid::Uuid;

use super::{Outcome, UserService, now};
use crate::domain::{Profile, ProfileUpdate, Rejection};
use crate::store;

impl UserService {
    /// Apply `update` to the owner's profile. Publishes `user.profile.updated.v1` only when
    /// something actually changed; refusals are explained in the account's language.
    #[tracing::instrument(skip(self, update), fields(%user_id))]
    pub async fn update_profile(&self, user_id: Uuid, update: ProfileUpdate) -> Outcome<Profile> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(current) = store::lock(conn, user_id).await? else {
                return refuse(Rejection::UserNotFound.into());
            };
            let language = current.preferences.language;
            match current.updated(update, now()) {
                Err(rejections) => Err(Failure::Refused(
                    rejections
                        .into_iter()
                        .map(|rejection| rejection.in_language(language))
                        .collect(),
                )),
                Ok(None) => Ok(current),
                Ok(Some(next)) => {
                    store::save(conn, &next).await?;
                    publisher.profile_updated(conn, &next).await?;
                    Ok(next)
                }
            }
        })
        .await
    }
}
