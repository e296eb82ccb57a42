//! Ending sessions at once, not when their access tokens expire.
//!
//! Access tokens are verified offline (by the router and by every subgraph), so revoking a
//! session in PostgreSQL alone would leave its tokens working for up to their TTL. Every place
//! that ends sessions therefore goes through [`revoke_sessions`], which, in the caller's
//! transaction, marks the rows revoked **and** puts one `auth.session.revoked.v1` per ended
//! session in the outbox. From there:
//!
//! - the revocation mirror (`events::consume`), a consumer of `auth.events` in its own group,
//!   sets `<prefix>:session:<sid>` = `1` in Redis with a `PX` of the access-token TTL plus the
//!   JWT leeway (after that every token of the session has expired anyway). The router refuses
//!   a token whose `sid` has that key. The write is idempotent, so redelivery is harmless, and a
//!   crash anywhere between commit and Redis is healed by the event being (re)delivered.
//! - every loan replica ends the session's live subscriptions with `UNAUTHENTICATED`.
//!
//! Right after commit the use case also writes the keys directly ([`AuthService::revoked`],
//! best effort, bounded by a timeout) so that in the normal case the key exists before the
//! mutation even answers; the consumer is what makes it reliable.

use diesel_async::AsyncPgConnection;
use tenor_events::Publisher;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::AuthService;
use crate::domain::session::RevokeReason;
use crate::events::publish;
use crate::store::sessions::{self, Revoke, Revoked};

/// Revoke the sessions `which` selects and announce each ended session in the outbox, inside
/// the caller's open transaction: the revocation and its events commit together or not at all.
pub async fn revoke_sessions(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    which: Revoke<'_>,
    reason: RevokeReason,
) -> Result<Vec<Revoked>, ServiceError> {
    let revoked = sessions::revoke(conn, which, reason).await?;
    publish::sessions_revoked(conn, publisher, &revoked, reason).await?;
    Ok(revoked)
}

impl AuthService {
    /// [`revoke_sessions`] with auth's publisher. Call [`AuthService::revoked`] with the result
    /// once the transaction committed.
    pub async fn revoke_sessions(
        &self,
        conn: &mut AsyncPgConnection,
        which: Revoke<'_>,
        reason: RevokeReason,
    ) -> Result<Vec<Revoked>, ServiceError> {
        revoke_sessions(conn, &self.publisher(), which, reason).await
    }

    /// After the revocation committed: put the sessions in the Redis revocation set now, so the
    /// router refuses their tokens from the next request on (best effort; the events make it
    /// certain).
    pub async fn revoked(&self, revoked: &[Revoked]) {
        if let Some(cache) = &self.revocations {
            let sessions: Vec<Uuid> = revoked.iter().map(|r| r.session_id).collect();
            cache.mark_best_effort(&sessions).await;
        }
    }

    /// Revoke and announce in a transaction of its own, then write the Redis fast path; returns
    /// how many sessions ended.
    pub(super) async fn revoke_committed(
        &self,
        conn: &mut AsyncPgConnection,
        which: Revoke<'_>,
        reason: RevokeReason,
    ) -> Result<usize, ServiceError> {
        use diesel_async::AsyncConnection;
        let ended = conn
            .transaction::<_, ServiceError, _>(async |conn| {
                self.revoke_sessions(conn, which, reason).await
            })
            .await?;
        self.revoked(&ended).await;
        Ok(ended.len())
    }
}
