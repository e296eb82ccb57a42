//! Redis: the fast path of the dedupe (a handled event's key, `SET NX` with an expiry) and the
//! per-user rate limit (a counter per user and window, `INCR` + `EXPIRE` in one round trip).
//!
//! Redis is an accelerator, never the guarantee: the unique indexes keep one notification per
//! event and channel whatever Redis says, and while Redis is away the intake skips the fast path
//! and the rate limit lets messages through (logged), rather than stopping notifications.

use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Bound on one Redis round trip: a slow Redis must not hold up delivery.
const TIMEOUT: Duration = Duration::from_millis(500);

pub struct Cache {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
}

impl Cache {
    pub fn new(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            prefix: prefix.to_owned(),
        })
    }

    /// Connects on first use, so the service starts while Redis is away.
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let connection = tokio::time::timeout(
            TIMEOUT,
            self.connection
                .get_or_try_init(|| ConnectionManager::new(self.client.clone())),
        )
        .await
        .map_err(|_| timeout_error())??;
        Ok(connection.clone())
    }

    pub fn handled_key(&self, event: Uuid) -> String {
        format!("{}:handled:{event}", self.prefix)
    }

    /// Whether `event` was handled completely before (its key is set).
    pub async fn was_handled(&self, event: Uuid) -> redis::RedisResult<bool> {
        let mut connection = self.connection().await?;
        let key = self.handled_key(event);
        bounded(
            redis::cmd("EXISTS")
                .arg(&key)
                .query_async::<bool>(&mut connection),
        )
        .await
    }

    /// Record that `event` is handled (after every write it caused is stored): `SET NX EX`.
    /// Whether this call set it (false: it was handled before).
    pub async fn mark_handled(&self, event: Uuid, ttl: Duration) -> redis::RedisResult<bool> {
        let mut connection = self.connection().await?;
        let set: Option<String> = bounded(
            redis::cmd("SET")
                .arg(self.handled_key(event))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(ttl.as_secs().max(1))
                .query_async(&mut connection),
        )
        .await?;
        Ok(set.is_some())
    }

    /// Count one message to `user` in the window numbered `window` (`window_length` long) and
    /// return how many it has now — `INCR` and `EXPIRE` in one pipeline, one round trip.
    pub async fn count_message(
        &self,
        user: Uuid,
        window: i64,
        window_length: Duration,
    ) -> redis::RedisResult<u64> {
        let mut connection = self.connection().await?;
        let key = format!("{}:rate:{user}:{window}", self.prefix);
        let (count,): (u64,) = bounded(
            redis::pipe()
                .atomic()
                .incr(&key, 1)
                .expire(&key, window_length.as_secs().max(1) as i64 + 1)
                .ignore()
                .query_async(&mut connection),
        )
        .await?;
        Ok(count)
    }
}

async fn bounded<T>(call: impl Future<Output = redis::RedisResult<T>>) -> redis::RedisResult<T> {
    tokio::time::timeout(TIMEOUT, call)
        .await
        .map_err(|_| timeout_error())?
}

fn timeout_error() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "redis round trip timed out"))
}
