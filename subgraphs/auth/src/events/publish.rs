//! What auth publishes on `auth.events`: `user.registered` when an account is created,
//! `auth.session.revoked` for every session that ends, and the security events the borrower is
//! told about (`auth.password.changed`, `auth.device.registered`, `auth.biometric.enrolled`,
//! `auth.sessions.ended`). Each is put in the outbox inside the caller's open transaction, so
//! the event exists exactly when the change committed.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{
    AllSessionsEndedV1, BiometricEnrolledV1, DeviceRegisteredV1, PasswordChangedV1,
    SessionRevokedV1, UserRegisteredV1,
};
use tenor_contracts::sources;
use tenor_events::{PublishError, Publisher};

use crate::domain::session::RevokeReason;
use crate::store::devices::Device;
use crate::store::sessions::Revoked;

/// Where auth's events go (`AUTH_EVENTS_TOPIC`, `auth.events` by default).
pub fn publisher(topic: &str) -> Publisher {
    Publisher::new(sources::AUTH, topic)
}

/// A new account, keyed by its id (the same id in every context).
pub async fn user_registered(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    event: &UserRegisteredV1,
) -> Result<(), PublishError> {
    publisher.publish(conn, event.user_id, event).await
}

/// One event per ended session, keyed by the session: the router and every loan replica act on
/// each session separately.
pub async fn sessions_revoked(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    revoked: &[Revoked],
    reason: RevokeReason,
) -> Result<(), PublishError> {
    for session in revoked {
        let event = SessionRevokedV1 {
            session_id: session.session_id,
            user_id: session.auth_id,
            reason: reason.as_db().to_owned(),
            revoked_at: session.revoked_at,
        };
        publisher.publish(conn, session.session_id, &event).await?;
    }
    Ok(())
}

/// The account's password changed; keyed by the user, like every security event below.
pub async fn password_changed(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    user_id: uuid::Uuid,
    changed_at: DateTime<Utc>,
) -> Result<(), PublishError> {
    let event = PasswordChangedV1 {
        user_id,
        changed_at,
    };
    publisher.publish(conn, user_id, &event).await
}

/// The account signed in from a device for the first time.
pub async fn device_registered(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    event: &DeviceRegisteredV1,
) -> Result<(), PublishError> {
    publisher.publish(conn, event.user_id, event).await
}

/// A biometric key was bound to one of the account's devices.
pub async fn biometric_enrolled(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    device: &Device,
) -> Result<(), PublishError> {
    let event = BiometricEnrolledV1 {
        user_id: device.auth_id,
        device_id: device.device_id.clone(),
        device_name: device.name.clone(),
        enrolled_at: device.created_at,
    };
    publisher.publish(conn, device.auth_id, &event).await
}

/// One action ended all of the account's (other) sessions: one event for the action, with the
/// count, next to the per-session `auth.session.revoked`. Nothing when no session ended.
pub async fn all_sessions_ended(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    user_id: uuid::Uuid,
    revoked: &[Revoked],
    reason: RevokeReason,
) -> Result<(), PublishError> {
    let Some(first) = revoked.first() else {
        return Ok(());
    };
    let event = AllSessionsEndedV1 {
        user_id,
        sessions_ended: u32::try_from(revoked.len()).unwrap_or(u32::MAX),
        reason: reason.as_db().to_owned(),
        // One statement ended them all, at one time.
        ended_at: first.revoked_at,
    };
    publisher.publish(conn, user_id, &event).await
}
