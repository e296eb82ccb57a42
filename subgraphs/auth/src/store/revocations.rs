//! The Redis revocation set the router checks: `SET <prefix>:session:<sid> 1 PX <ttl>` for
//! every ended session, then `PUBLISH <prefix>:sessions <sid>` so that routers serving requests
//! from leased rate-limit tokens (which skip the per-request check) stop trusting the session at
//! once. Why it exists and who writes it when: `service::revocation`.

use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The Redis side of revocation.
pub struct RevocationCache {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    key_prefix: String,
    ttl: Duration,
    timeout: Duration,
}

impl RevocationCache {
    /// `ttl`: how long a key lives; `timeout`: bound on one round trip of the fast path.
    pub fn new(
        redis_url: &str,
        key_prefix: &str,
        ttl: Duration,
        timeout: Duration,
    ) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(redis_url)?,
            connection: OnceCell::new(),
            key_prefix: key_prefix.to_owned(),
            ttl,
            timeout,
        })
    }

    /// The key the router checks for a token whose `sid` is `session`.
    pub fn key(&self, session: Uuid) -> String {
        format!("{}:session:{session}", self.key_prefix)
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The channel routers listen on for revoked sessions.
    pub fn channel(&self) -> String {
        format!("{}:sessions", self.key_prefix)
    }

    /// Mark `sessions` revoked and announce them, in one round trip: each key is set before its
    /// announcement goes out. Idempotent: a repeat only renews the expiry (and announces again,
    /// which a router takes as it took the first).
    pub async fn mark(&self, sessions: &[Uuid]) -> redis::RedisResult<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection().await?;
        let millis = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut pipe = redis::pipe();
        for session in sessions {
            pipe.pset_ex(self.key(*session), 1, millis).ignore();
        }
        let channel = self.channel();
        for session in sessions {
            pipe.publish(&channel, session.to_string()).ignore();
        }
        pipe.exec_async(&mut connection).await
    }

    /// The key whose presence says this Redis holds the set auth wrote: it is set once the
    /// set was (re)written from PostgreSQL, so it is missing after Redis lost its data.
    fn seeded_key(&self) -> String {
        format!("{}:seeded", self.key_prefix)
    }

    /// Whether Redis still holds the revocation set (see [`Self::seeded_key`]).
    pub async fn seeded(&self) -> redis::RedisResult<bool> {
        let mut connection = self.connection().await?;
        redis::cmd("EXISTS")
            .arg(self.seeded_key())
            .query_async::<bool>(&mut connection)
            .await
    }

    /// Record that the set was written in full from PostgreSQL.
    pub async fn mark_seeded(&self) -> redis::RedisResult<()> {
        let mut connection = self.connection().await?;
        redis::cmd("SET")
            .arg(self.seeded_key())
            .arg(1)
            .exec_async(&mut connection)
            .await
    }

    /// Connects on first use, so auth starts (and logs in users) while Redis is away.
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        Ok(self
            .connection
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
            .await?
            .clone())
    }

    /// The fast path after commit: write now, but never fail or hold up the caller for long.
    /// If this does not get through, the revocation mirror (`events::consume`) writes the keys
    /// from the events.
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
