//! Ending sessions at once, not when their access tokens expire.
//!
//! Access tokens are verified offline (by the router and by every subgraph), so revoking a
//! session in PostgreSQL alone would leave its tokens working for up to their TTL. Every place
//! that ends sessions therefore goes through [`revoke_sessions`], which, in the caller's
//! transaction, marks the rows revoked **and** puts one `auth.session.revoked.v1` per ended
//! session in the outbox. From there:
//!
//! - [`RevocationMirror`], a consumer of `auth.events` in its own group, sets
//!   `<prefix>:session:<sid>` = `1` in Redis with a `PX` of the access-token TTL plus the JWT
//!   leeway (after that every token of the session has expired anyway). The router refuses a
//!   token whose `sid` has that key. The write is idempotent, so redelivery is harmless, and a
//!   crash anywhere between commit and Redis is healed by the event being (re)delivered.
//! - every loan replica ends the session's live subscriptions with `UNAUTHENTICATED`.
//!
//! Right after commit the use case also writes the keys directly ([`RevocationCache::mark`],
//! best effort, bounded by a timeout) so that in the normal case the key exists before the
//! mutation even answers; the consumer is what makes it reliable.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use redis::aio::ConnectionManager;
use tenor_contracts::identity::SessionRevokedV1;
use tenor_events::{Envelope, EventHandler, HandlerError, Publisher};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::store::sessions::{self, Revoke, Revoked};

/// Revoke the sessions `which` selects and announce each ended session in the outbox, inside
/// the caller's open transaction: the revocation and its events commit together or not at all.
pub async fn revoke_sessions(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    which: Revoke<'_>,
    reason: &str,
) -> diesel::QueryResult<Vec<Revoked>> {
    let revoked = sessions::revoke(conn, which, reason).await?;
    for session in &revoked {
        let event = SessionRevokedV1 {
            session_id: session.session_id,
            user_id: session.auth_id,
            reason: reason.to_owned(),
            revoked_at: session.revoked_at,
        };
        publisher
            .publish(conn, session.session_id, &event)
            .await
            .map_err(|error| match error {
                tenor_events::PublishError::Outbox(error) => error,
                other => diesel::result::Error::SerializationError(Box::new(other)),
            })?;
    }
    Ok(revoked)
}

/// Where revoked sessions are mirrored for the router (`AUTH_REVOCATION_*`).
#[derive(Debug, Clone)]
pub struct RevocationConfig {
    /// `AUTH_REVOCATION_REDIS_URL`, defaulting to `REDIS_URL`.
    pub redis_url: String,
    /// `AUTH_REVOCATION_KEY_PREFIX` (`tenor:revoked`): keys are `<prefix>:session:<sid>`.
    pub key_prefix: String,
    /// `AUTH_REVOCATION_TTL`: how long a key lives; at least the access-token TTL plus the
    /// leeway verifiers allow on `exp` (the default is exactly that).
    pub ttl: Duration,
    /// Bound on one Redis round trip of the fast path after commit.
    pub timeout: Duration,
    /// The consumer of `auth.events` that mirrors `auth.session.revoked` into Redis (group
    /// `tenor-auth-revocations`).
    pub consumer: tenor_events::ConsumerConfig,
}

/// The Redis side of revocation: `SET <prefix>:session:<sid> 1 PX <ttl>`.
pub struct RevocationCache {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    key_prefix: String,
    ttl: Duration,
    timeout: Duration,
}

impl RevocationCache {
    pub fn new(config: &RevocationConfig) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(config.redis_url.as_str())?,
            connection: OnceCell::new(),
            key_prefix: config.key_prefix.clone(),
            ttl: config.ttl,
            timeout: config.timeout,
        })
    }

    /// The key the router checks for a token whose `sid` is `session`.
    pub fn key(&self, session: Uuid) -> String {
        format!("{}:session:{session}", self.key_prefix)
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Mark `sessions` revoked, in one round trip. Idempotent: a repeat only renews the expiry.
    pub async fn mark(&self, sessions: &[Uuid]) -> redis::RedisResult<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        // Connects on first use, so auth starts (and logs in users) while Redis is away.
        let mut connection = self
            .connection
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
            .await?
            .clone();
        let millis = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut pipe = redis::pipe();
        for session in sessions {
            pipe.pset_ex(self.key(*session), 1, millis).ignore();
        }
        pipe.exec_async(&mut connection).await
    }

    /// The fast path after commit: write now, but never fail or hold up the caller for long.
    /// If this does not get through, [`RevocationMirror`] writes the keys from the events.
    pub async fn mark_best_effort(&self, sessions: &[Uuid]) {
        if sessions.is_empty() {
            return;
        }
        match tokio::time::timeout(self.timeout, self.mark(sessions)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, count = sessions.len(), "revocation fast path failed; the event will set it")
            }
            Err(_) => {
                tracing::warn!(
                    count = sessions.len(),
                    "revocation fast path timed out; the event will set it"
                )
            }
        }
    }
}

/// Consumer of `auth.events`: mirrors every `auth.session.revoked` into Redis. It never gives
/// up on a revocation while running (retrying with backoff until Redis answers), so a long
/// Redis outage delays revocations instead of dead-lettering them.
pub struct RevocationMirror {
    cache: Arc<RevocationCache>,
    shutdown: CancellationToken,
}

impl RevocationMirror {
    pub fn new(cache: Arc<RevocationCache>, shutdown: CancellationToken) -> Self {
        Self { cache, shutdown }
    }
}

#[async_trait]
impl EventHandler for RevocationMirror {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        // user.registered and whatever else shares the topic is not ours.
        if !event.is::<SessionRevokedV1>() {
            return Ok(());
        }
        let revoked: SessionRevokedV1 = event.decode().map_err(HandlerError::permanent)?;
        let age = (Utc::now() - revoked.revoked_at)
            .to_std()
            .unwrap_or_default();
        if age >= self.cache.ttl() {
            // Every access token of that session has expired by now: nothing left to refuse.
            return Ok(());
        }
        let session_id = revoked.session_id;
        let sessions = [session_id];
        let mut backoff = Duration::from_millis(100);
        loop {
            let attempt = tokio::time::timeout(
                self.cache.timeout.max(Duration::from_secs(2)),
                self.cache.mark(&sessions),
            );
            let failure = tokio::select! {
                // Not applied: the runner does not store the offset (the consumer is configured
                // with at least two attempts), so the event comes back after the restart.
                () = self.shutdown.cancelled() => {
                    return Err(HandlerError::retryable(anyhow::anyhow!("shutting down before Redis answered")));
                }
                result = attempt => match result {
                    Ok(Ok(())) => {
                        tracing::debug!(%session_id, "revoked session mirrored to Redis");
                        return Ok(());
                    }
                    Ok(Err(error)) => error.to_string(),
                    Err(_) => "timed out".to_owned(),
                },
            };
            tracing::warn!(error = %failure, %session_id, "mirroring a revoked session to Redis failed; retrying");
            tokio::select! {
                () = self.shutdown.cancelled() => {
                    return Err(HandlerError::retryable(anyhow::anyhow!("shutting down before Redis answered")));
                }
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}
