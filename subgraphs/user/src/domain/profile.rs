//! The profile: one account as the user context knows it. The changes to it live next to
//! their rules: `update.rs`, `block.rs`, `deletion.rs`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::block::Block;
use super::preferences::Preferences;
use super::status::{AccountKind, AccountStatus};

/// One account's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: Uuid,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub fullname: String,
    pub status: AccountStatus,
    pub kind: AccountKind,
    pub kyc_id: Option<Uuid>,
    pub preferences: Preferences,
    pub block: Option<Block>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Profile {
    /// Deleted accounts do not exist as far as the API is concerned.
    pub fn is_visible(&self) -> bool {
        self.status != AccountStatus::Deleted
    }
}

/// A profile and a clock for the rules' unit tests.
#[cfg(test)]
pub(super) mod fixtures {
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::Profile;
    use crate::domain::{
        AccountKind, AccountStatus, IndonesianTimeZone, Language, NotificationChannel, Preferences,
    };

    pub fn profile() -> Profile {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Profile {
            id: Uuid::new_v4(),
            email: Some("siti@example.id".into()),
            phone_number: None,
            fullname: "Siti Rahayu".into(),
            status: AccountStatus::Active,
            kind: AccountKind::Customer,
            kyc_id: None,
            preferences: Preferences {
                language: Language::Id,
                time_zone: IndonesianTimeZone::Wib,
                notification_channels: vec![NotificationChannel::Email, NotificationChannel::Push],
                marketing_consent: false,
                marketing_consent_at: None,
            },
            block: None,
            deleted_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    pub fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }
}
