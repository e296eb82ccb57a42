//! What auth publishes on `auth.events`: `user.registered` when an account is created and
//! `auth.session.revoked` for every session that ends. Each is put in the outbox inside the
//! caller's open transaction, so the event exists exactly when the change committed.

use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{SessionRevokedV1, UserRegisteredV1};
use tenor_contracts::sources;
use tenor_events::{PublishError, Publisher};

use crate::domain::session::RevokeReason;
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
