//! The changes made to an account through the API. Each runs in one transaction: lock the row,
//! let the domain decide, write the new state and its event to the outbox. Either both commit
//! or neither does; a refusal writes nothing.

use chrono::{DateTime, SubsecRound, Utc};
use diesel_async::AsyncConnection;
use tenor_platform::db::{PgConn, PgPool};
use uuid::Uuid;

use crate::domain::{AccountStatus, Language, Profile, ProfileUpdate, Rejection};
use crate::events::{PublishError, Publisher};
use crate::store::{self, StoreError};

/// Something went wrong that is not the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("database pool: {0}")]
    Pool(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl From<diesel::result::Error> for ChangeError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}

/// Why a change was refused, and the language to explain it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rejections: Vec<Rejection>,
    pub language: Language,
}

impl Refusal {
    fn one(rejection: Rejection, language: Language) -> Self {
        Self {
            rejections: vec![rejection],
            language,
        }
    }
}

pub type Outcome<T> = Result<Result<T, Refusal>, ChangeError>;

#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    publisher: Publisher,
}

/// PostgreSQL keeps microseconds: round now so the value returned equals the value stored (and
/// the one in the event).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

impl Accounts {
    pub fn new(pool: PgPool, publisher: Publisher) -> Self {
        Self { pool, publisher }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The owner edits their profile or preferences. Publishes `user.profile.updated.v1` only
    /// when something actually changed.
    pub async fn update_profile(&self, user_id: Uuid, update: ProfileUpdate) -> Outcome<Profile> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction::<_, ChangeError, _>(async |conn| {
            let Some(current) = store::lock(conn, user_id).await? else {
                return Ok(Err(Refusal::one(
                    Rejection::UserNotFound,
                    Language::default(),
                )));
            };
            let language = current.preferences.language;
            match current.updated(update, now()) {
                Err(rejections) => Ok(Err(Refusal {
                    rejections,
                    language,
                })),
                Ok(None) => Ok(Ok(current)),
                Ok(Some(next)) => {
                    store::save(conn, &next).await?;
                    publisher.profile_updated(conn, &next).await?;
                    Ok(Ok(next))
                }
            }
        })
        .await
    }

    /// Staff member `by` blocks an account.
    pub async fn block(&self, user_id: Uuid, reason: &str, by: Uuid) -> Outcome<Profile> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction::<_, ChangeError, _>(async |conn| {
            let Some(current) = visible(store::lock(conn, user_id).await?) else {
                return Ok(Err(Refusal::one(
                    Rejection::UserNotFound,
                    Language::default(),
                )));
            };
            let at = now();
            let next = match current.blocked(reason, by, at) {
                Ok(next) => next,
                Err(rejection) => return Ok(Err(Refusal::one(rejection, Language::default()))),
            };
            store::save(conn, &next).await?;
            let reason = next.block.as_ref().map(|b| b.reason.clone());
            publisher
                .status_changed(conn, &current, &next, reason, Some(by), at)
                .await?;
            Ok(Ok(next))
        })
        .await
    }

    /// Staff member `by` lifts a block.
    pub async fn unblock(&self, user_id: Uuid, by: Uuid) -> Outcome<Profile> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction::<_, ChangeError, _>(async |conn| {
            let Some(current) = visible(store::lock(conn, user_id).await?) else {
                return Ok(Err(Refusal::one(
                    Rejection::UserNotFound,
                    Language::default(),
                )));
            };
            let at = now();
            let next = match current.unblocked(at) {
                Ok(next) => next,
                Err(rejection) => return Ok(Err(Refusal::one(rejection, Language::default()))),
            };
            store::save(conn, &next).await?;
            publisher
                .status_changed(conn, &current, &next, None, Some(by), at)
                .await?;
            Ok(Ok(next))
        })
        .await
    }

    /// The owner closes their account; returns when it was deleted. A retry after success (a
    /// flaky mobile network) gets the first deletion's time back and publishes nothing new.
    pub async fn delete_account(&self, user_id: Uuid) -> Outcome<DateTime<Utc>> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        conn.transaction::<_, ChangeError, _>(async |conn| {
            let Some(current) = store::lock(conn, user_id).await? else {
                return Ok(Err(Refusal::one(
                    Rejection::UserNotFound,
                    Language::default(),
                )));
            };
            if let (AccountStatus::Deleted, Some(at)) = (current.status, current.deleted_at) {
                return Ok(Ok(at));
            }
            let at = now();
            let next = match current.minimised(at) {
                Ok(next) => next,
                Err(rejection) => {
                    return Ok(Err(Refusal::one(rejection, current.preferences.language)));
                }
            };
            store::save(conn, &next).await?;
            publisher
                .status_changed(conn, &current, &next, None, None, at)
                .await?;
            Ok(Ok(at))
        })
        .await
    }

    async fn conn(&self) -> Result<PgConn, ChangeError> {
        self.pool
            .get()
            .await
            .map_err(|e| ChangeError::Pool(e.to_string()))
    }
}

fn visible(profile: Option<Profile>) -> Option<Profile> {
    profile.filter(Profile::is_visible)
}
