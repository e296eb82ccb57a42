//! What the user context publishes and consumes.
//!
//! Publishes on `user.events` through the outbox, in the transaction of the change:
//! `user.profile.updated.v1` after a profile or preference change, `user.status.changed.v1`
//! after a block, unblock or deletion (auth revokes sessions on BLOCKED/DELETED).
//!
//! Consumes `user.registered.v1` from `auth.events` and creates the profile with the same id.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{
    AccountStatus as WireStatus, UserProfileUpdatedV1, UserRegisteredV1, UserStatusChangedV1,
};
use tenor_contracts::sources;
use tenor_events::{Envelope, HandlerError, TransactionalHandler};
use uuid::Uuid;

use crate::domain::{AccountStatus, Profile, normalise_fullname};
use crate::store;

/// The consumer group, also this handler's name in the inbox.
pub const CONSUMER_GROUP: &str = "tenor-user";

pub use tenor_events::PublishError;

/// Where this context's events go: the outbox, under `/tenor/user`, on a topic from
/// configuration (tests use their own).
#[derive(Debug, Clone)]
pub struct Publisher {
    outbox: tenor_events::Publisher,
}

impl Publisher {
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            outbox: tenor_events::Publisher::new(sources::USER, topic),
        }
    }

    /// `user.profile.updated.v1` with the profile as it now is.
    pub async fn profile_updated(
        &self,
        conn: &mut AsyncPgConnection,
        profile: &Profile,
    ) -> Result<(), PublishError> {
        let prefs = &profile.preferences;
        let event = UserProfileUpdatedV1 {
            user_id: profile.id,
            fullname: profile.fullname.clone(),
            language: prefs.language.as_db().to_owned(),
            notification_channels: prefs
                .notification_channels
                .iter()
                .map(|c| c.as_db().to_owned())
                .collect(),
            marketing_consent: prefs.marketing_consent,
            updated_at: profile.updated_at,
        };
        self.outbox.publish(conn, profile.id, &event).await
    }

    /// `user.status.changed.v1` from `before` to `after`.
    pub async fn status_changed(
        &self,
        conn: &mut AsyncPgConnection,
        before: &Profile,
        after: &Profile,
        reason: Option<String>,
        changed_by: Option<Uuid>,
        changed_at: DateTime<Utc>,
    ) -> Result<(), PublishError> {
        let event = UserStatusChangedV1 {
            user_id: after.id,
            status: wire_status(after.status),
            previous_status: wire_status(before.status),
            reason,
            changed_by,
            changed_at,
        };
        self.outbox.publish(conn, after.id, &event).await
    }
}

fn wire_status(status: AccountStatus) -> WireStatus {
    match status {
        AccountStatus::Active => WireStatus::Active,
        AccountStatus::Inactive => WireStatus::Inactive,
        AccountStatus::Blocked => WireStatus::Blocked,
        AccountStatus::Deleted => WireStatus::Deleted,
    }
}

/// Creates the profile of every registered account. Runs inside [`tenor_events::PgInbox`], so
/// one event id is applied once; the insert itself is also idempotent by user id, so a
/// re-published registration (new event id, same account) does not fail either.
pub struct RegistrationHandler;

#[async_trait]
impl TransactionalHandler for RegistrationHandler {
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        // auth.events carries other auth events too; they are none of our business.
        if !event.is::<UserRegisteredV1>() {
            return Ok(());
        }
        let mut registered: UserRegisteredV1 = event.decode().map_err(HandlerError::permanent)?;
        // Stored the way updateProfile would store it. A name our rules refuse is kept as auth
        // accepted it: refusing here would leave a registered account without a profile.
        if let Ok(name) = normalise_fullname(&registered.fullname) {
            registered.fullname = name;
        }
        let created = store::create_registered(conn, &registered)
            .await
            .map_err(HandlerError::retryable)?;
        tracing::info!(user_id = %registered.user_id, created, "profile for registered account");
        Ok(())
    }
}
