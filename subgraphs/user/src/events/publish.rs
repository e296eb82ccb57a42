//! The events this context publishes, written to the outbox inside the caller's transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{
    AccountStatus as WireStatus, UserProfileUpdatedV1, UserStatusChangedV1,
};
use tenor_contracts::sources;
use uuid::Uuid;

use super::PublishError;
use crate::domain::{AccountStatus, Profile};

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
            time_zone: Some(prefs.time_zone.as_db().to_owned()),
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
