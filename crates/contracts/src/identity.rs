//! Events about people: registration, ended sessions and the security events a borrower must
//! hear about (auth), profile/status changes (user).

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

impl UserStatusChangedV1 {
    /// The owner closed their account (`deleteAccount`): no reason, no staff member. Every
    /// context that holds personal data erases it on this event.
    pub fn deleted_by_owner(
        user_id: Uuid,
        previous_status: AccountStatus,
        changed_at: DateTime<Utc>,
    ) -> Self {
        Self {
            user_id,
            status: AccountStatus::Deleted,
            previous_status,
            reason: None,
            changed_by: None,
            changed_at,
        }
    }
}

/// Published by user on `user.events` after a profile or preference change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfileUpdatedV1 {
    pub user_id: Uuid,
    pub fullname: String,
    pub language: String,
    pub notification_channels: Vec<String>,
    pub marketing_consent: bool,
    /// The borrower's Indonesian time zone: `WIB`, `WITA` or `WIT`. Added after the first
    /// version: events written before it have none (read them as `WIB`, the profile default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
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

/// Published by auth on `auth.events` (subject and key = the user id) when an account's
/// password changed, in the transaction that changes it (`changePassword`; auth has no other
/// way to set a password). A refused change publishes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordChangedV1 {
    pub user_id: Uuid,
    pub changed_at: DateTime<Utc>,
}

impl DomainEvent for PasswordChangedV1 {
    const TYPE: &'static str = "auth.password.changed.v1";
}

/// Published by auth on `auth.events` (subject and key = the user id) the first time an account
/// signs in from a device id it never signed in from before (a login that names its device;
/// logins without a device id cannot be told apart and publish nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRegisteredV1 {
    pub user_id: Uuid,
    /// The app's own id for the device (opaque).
    pub device_id: String,
    /// The name the app gave the device ("Pixel 7"); the device id when it gave none.
    pub device_name: String,
    pub registered_at: DateTime<Utc>,
}

impl DomainEvent for DeviceRegisteredV1 {
    const TYPE: &'static str = "auth.device.registered.v1";
}

/// Published by auth on `auth.events` (subject and key = the user id) whenever a biometric key
/// is bound to one of the account's devices (`registerBiometricDevice`, a re-enrolment with a
/// new key included), in the transaction that stores the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiometricEnrolledV1 {
    pub user_id: Uuid,
    pub device_id: String,
    pub device_name: String,
    pub enrolled_at: DateTime<Utc>,
}

impl DomainEvent for BiometricEnrolledV1 {
    const TYPE: &'static str = "auth.biometric.enrolled.v1";
}

/// Published by auth on `auth.events` (subject and key = the user id) once per action that ends
/// all of an account's sessions at once, next to the per-session `auth.session.revoked.v1`
/// events: `logoutAllSessions` (reason `LOGOUT_ALL`) and `changePassword`, which ends every
/// other session (`PASSWORD_CHANGED`). Only when at least one session ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllSessionsEndedV1 {
    pub user_id: Uuid,
    /// How many sessions this action ended.
    pub sessions_ended: u32,
    /// The same reason codes as `SessionRevokedV1::reason`.
    pub reason: String,
    pub ended_at: DateTime<Utc>,
}

impl DomainEvent for AllSessionsEndedV1 {
    const TYPE: &'static str = "auth.sessions.ended.v1";
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

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    /// Pins the wire form and checks the envelope: type, subject = the user id, round trip.
    fn assert_wire<E>(event: &E, user_id: Uuid, expected: serde_json::Value)
    where
        E: DomainEvent + Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_value(event).unwrap(), expected);
        let envelope = Envelope::new("/tenor/auth", user_id.to_string(), event, None).unwrap();
        assert_eq!(envelope.event_type(), E::TYPE);
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.subject(), Some(user_id.to_string().as_str()));
        assert_eq!(&back.decode::<E>().unwrap(), event);
    }

    #[test]
    fn password_changed_has_stable_field_names() {
        let event = PasswordChangedV1 {
            user_id: Uuid::nil(),
            changed_at: at(),
        };
        assert_eq!(PasswordChangedV1::TYPE, "auth.password.changed.v1");
        assert_wire(
            &event,
            event.user_id,
            serde_json::json!({
                "user_id": "00000000-0000-0000-0000-000000000000",
                "changed_at": "2027-01-15T08:00:00Z",
            }),
        );
    }

    #[test]
    fn device_registered_has_stable_field_names() {
        let event = DeviceRegisteredV1 {
            user_id: Uuid::max(),
            device_id: "android-1".into(),
            device_name: "Pixel 7".into(),
            registered_at: at(),
        };
        assert_eq!(DeviceRegisteredV1::TYPE, "auth.device.registered.v1");
        assert_wire(
            &event,
            event.user_id,
            serde_json::json!({
                "user_id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "device_id": "android-1",
                "device_name": "Pixel 7",
                "registered_at": "2027-01-15T08:00:00Z",
            }),
        );
    }

    #[test]
    fn biometric_enrolled_has_stable_field_names() {
        let event = BiometricEnrolledV1 {
            user_id: Uuid::nil(),
            device_id: "android-1".into(),
            device_name: "Pixel 7".into(),
            enrolled_at: at(),
        };
        assert_eq!(BiometricEnrolledV1::TYPE, "auth.biometric.enrolled.v1");
        assert_wire(
            &event,
            event.user_id,
            serde_json::json!({
                "user_id": "00000000-0000-0000-0000-000000000000",
                "device_id": "android-1",
                "device_name": "Pixel 7",
                "enrolled_at": "2027-01-15T08:00:00Z",
            }),
        );
    }

    #[test]
    fn all_sessions_ended_has_stable_field_names() {
        let event = AllSessionsEndedV1 {
            user_id: Uuid::nil(),
            sessions_ended: 3,
            reason: "LOGOUT_ALL".into(),
            ended_at: at(),
        };
        assert_eq!(AllSessionsEndedV1::TYPE, "auth.sessions.ended.v1");
        assert_wire(
            &event,
            event.user_id,
            serde_json::json!({
                "user_id": "00000000-0000-0000-0000-000000000000",
                "sessions_ended": 3,
                "reason": "LOGOUT_ALL",
                "ended_at": "2027-01-15T08:00:00Z",
            }),
        );
    }

    #[test]
    fn profile_updated_carries_the_time_zone_and_reads_older_events_without_it() {
        let event = UserProfileUpdatedV1 {
            user_id: Uuid::nil(),
            fullname: "Siti Rahayu".into(),
            language: "id".into(),
            notification_channels: vec!["EMAIL".into()],
            marketing_consent: false,
            time_zone: Some("WITA".into()),
            updated_at: at(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["time_zone"], "WITA");
        let envelope = Envelope::new("/tenor/user", "x", &event, None).unwrap();
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.decode::<UserProfileUpdatedV1>().unwrap(), event);

        // An event written before the field existed.
        let older = serde_json::json!({
            "user_id": "00000000-0000-0000-0000-000000000000",
            "fullname": "Siti Rahayu",
            "language": "id",
            "notification_channels": ["EMAIL"],
            "marketing_consent": false,
            "updated_at": "2027-01-15T08:00:00Z",
        });
        let decoded: UserProfileUpdatedV1 = serde_json::from_value(older.clone()).unwrap();
        assert_eq!(decoded.time_zone, None);
        assert_eq!(
            decoded,
            UserProfileUpdatedV1 {
                time_zone: None,
                ..event
            }
        );
        // …and `None` is written the old way, so older readers see what they always saw.
        assert_eq!(serde_json::to_value(&decoded).unwrap(), older);
    }
}
