//! Events about people: registration and ended sessions (auth), profile/status changes (user).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenor_events::DomainEvent;
use uuid::Uuid;

/// Customers register themselves; staff are created by an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountKind {
    Customer,
    Staff,
}

/// Published by auth on `auth.events` when an account is created. The user context creates the
/// profile from it, with the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRegisteredV1 {
    pub user_id: Uuid,
    pub email: String,
    pub phone_number: Option<String>,
    pub fullname: String,
    pub kind: AccountKind,
    pub registered_at: DateTime<Utc>,
}

impl DomainEvent for UserRegisteredV1 {
    const TYPE: &'static str = "user.registered.v1";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    Active,
    Inactive,
    Blocked,
    Deleted,
}

/// Published by user on `user.events` whenever an account's status changes. Auth revokes every
/// session on BLOCKED/DELETED and refuses login until ACTIVE again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserStatusChangedV1 {
    pub user_id: Uuid,
    pub status: AccountStatus,
    pub previous_status: AccountStatus,
    pub reason: Option<String>,
    /// The staff member who made the change; `None` when the user did it (account deletion).
    pub changed_by: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
}

impl DomainEvent for UserStatusChangedV1 {
    const TYPE: &'static str = "user.status.changed.v1";
}

/// Published by user on `user.events` after a profile or preference change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfileUpdatedV1 {
    pub user_id: Uuid,
    pub fullname: String,
    pub language: String,
    pub notification_channels: Vec<String>,
    pub marketing_consent: bool,
    pub updated_at: DateTime<Utc>,
}

impl DomainEvent for UserProfileUpdatedV1 {
    const TYPE: &'static str = "user.profile.updated.v1";
}

/// Published by auth on `auth.events` (subject and key = the session id) once for every session
/// it ends — logout, `logoutAllSessions`, `revokeSession`, `changePassword` (the other
/// sessions), refresh-token reuse, `revokeBiometricDevice`, an account blocked or deleted — in
/// the transaction that revokes it. Auth mirrors it into Redis for the router; every loan
/// replica ends the session's live subscriptions. Access tokens carry the session id as `sid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRevokedV1 {
    pub session_id: Uuid,
    pub user_id: Uuid,
    /// Why: `LOGOUT`, `LOGOUT_ALL`, `PASSWORD_CHANGED`, `REFRESH_TOKEN_REUSE`,
    /// `DEVICE_REVOKED`, `ACCOUNT_BLOCKED`, `ACCOUNT_DELETED`, `ACCOUNT_INACTIVE`, …
    pub reason: String,
    pub revoked_at: DateTime<Utc>,
}

impl DomainEvent for SessionRevokedV1 {
    const TYPE: &'static str = "auth.session.revoked.v1";
}

#[cfg(test)]
mod tests {
    use tenor_events::Envelope;

    use super::*;

    /// The wire form is what other services (and their older versions) read: pin it.
    #[test]
    fn status_changed_round_trips_with_stable_field_names() {
        let event = UserStatusChangedV1 {
            user_id: Uuid::nil(),
            status: AccountStatus::Blocked,
            previous_status: AccountStatus::Active,
            reason: Some("fraud review".into()),
            changed_by: Some(Uuid::max()),
            changed_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "user_id": "00000000-0000-0000-0000-000000000000",
                "status": "BLOCKED",
                "previous_status": "ACTIVE",
                "reason": "fraud review",
                "changed_by": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "changed_at": "2027-01-15T08:00:00Z",
            })
        );
        let envelope = Envelope::new("/tenor/user", "x", &event, None).unwrap();
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.decode::<UserStatusChangedV1>().unwrap(), event);
    }

    #[test]
    fn registered_round_trips() {
        let event = UserRegisteredV1 {
            user_id: Uuid::new_v4(),
            email: "siti@example.id".into(),
            phone_number: Some("+6281234567890".into()),
            fullname: "Siti Rahayu".into(),
            kind: AccountKind::Customer,
            registered_at: Utc::now(),
        };
        let envelope =
            Envelope::new("/tenor/auth", event.user_id.to_string(), &event, None).unwrap();
        assert_eq!(envelope.event_type(), "user.registered.v1");
        assert_eq!(
            Envelope::from_slice(&envelope.to_bytes())
                .unwrap()
                .decode::<UserRegisteredV1>()
                .unwrap(),
            event
        );
    }

    #[test]
    fn session_revoked_has_stable_field_names() {
        let event = SessionRevokedV1 {
            session_id: Uuid::max(),
            user_id: Uuid::nil(),
            reason: "LOGOUT".into(),
            revoked_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "session_id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "user_id": "00000000-0000-0000-0000-000000000000",
                "reason": "LOGOUT",
                "revoked_at": "2027-01-15T08:00:00Z",
            })
        );
        let envelope =
            Envelope::new("/tenor/auth", event.session_id.to_string(), &event, None).unwrap();
        assert_eq!(envelope.event_type(), "auth.session.revoked.v1");
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.decode::<SessionRevokedV1>().unwrap(), event);
    }
}
