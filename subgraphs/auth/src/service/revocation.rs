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
//!
//! Redis may lose the set — restarted without persistence, failed over to a replica that was
//! behind, flushed — and the events that wrote it were consumed long ago: every session ended
//! in the last access-token TTL would work again until its tokens expire (a user blocked for
//! fraud included). [`keep_revocations_seeded`] notices (the `<prefix>:seeded` key is gone)
//! and writes the set again from PostgreSQL, where every ended session is recorded.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use tenor_events::Publisher;
use tenor_platform::refusal::ServiceError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::AuthService;
use crate::domain::session::RevokeReason;
use crate::events::publish;
use crate::store::revocations::RevocationCache;
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

/// Every `every`, until `shutdown`: if Redis no longer holds the revocation set, write it again
/// from PostgreSQL (each session ended within the set's TTL), then mark it seeded. Also seeds a
/// new, empty Redis at first start. Idempotent, so several auth replicas may do it at once.
pub async fn keep_revocations_seeded(
    service: Arc<AuthService>,
    cache: Arc<RevocationCache>,
    every: Duration,
    shutdown: CancellationToken,
) {
    // Said once per outage, not once a round.
    let mut failing = false;
    loop {
        match reseed_if_lost(&service, &cache).await {
            Ok(written) => {
                if let Some(count) = written {
                    tracing::info!(count, "revocation set written again from PostgreSQL");
                }
                if std::mem::take(&mut failing) {
                    tracing::info!("revocation set checked again");
                }
            }
            // Redis or PostgreSQL away: the next round tries again.
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "could not check the revocation set; retrying every round");
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// How many sessions were written again, or `None` when Redis still holds the set.
async fn reseed_if_lost(
    service: &AuthService,
    cache: &RevocationCache,
) -> anyhow::Result<Option<usize>> {
    if cache.seeded().await? {
        return Ok(None);
    }
    let since = Utc::now() - chrono::Duration::from_std(cache.ttl())?;
    let ended = {
        let mut conn = service.conn().await?;
        sessions::revoked_since(&mut conn, since).await?
    };
    // A session ended meanwhile is written by its own fast path or event, whether or not this
    // SELECT saw it; the marker goes last, so a failure half-way starts over next round.
    for batch in ended.chunks(1_000) {
        cache.mark(batch).await?;
    }
    cache.mark_seeded().await?;
    Ok(Some(ended.len()))
}
