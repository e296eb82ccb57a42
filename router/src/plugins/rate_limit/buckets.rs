//! The buckets themselves: one Lua script, run atomically in Redis for each request, over a
//! connection of the worker thread that handles it. Redis trouble lets the request through.

use std::cell::RefCell;
use std::time::Duration;

use redis::aio::ConnectionManager;

use super::{Bucket, RateLimitConfig};

/// What one bucket round trip decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Verdict {
    Allowed,
    Limited { retry_after_ms: u64 },
    SessionRevoked,
}

/// One router's buckets: its Redis and script, where the keys live and how long a round trip may
/// take.
pub(super) struct Buckets {
    client: redis::Client,
    script: redis::Script,
    key_prefix: String,
    timeout: Duration,
}

thread_local! {
    /// This worker's connection, made on its first use (on this worker's runtime, so its I/O
    /// is driven here and nowhere else).
    static CONNECTION: RefCell<Option<ConnectionManager>> = const { RefCell::new(None) };
}

/// Atomic token bucket: refill by elapsed time (Redis's clock, so replicas agree), take one token
/// if there is one, else report how long until there will be. With a second key (the session's
/// revocation marker) a revoked session is reported first and takes no token.
const TOKEN_BUCKET: &str = r#"
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then
  return { -1, 0 }
end
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return { allowed, retry_ms }
"#;

impl Buckets {
    pub(super) fn open(config: &RateLimitConfig) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(config.redis_url.as_str())?,
            script: redis::Script::new(TOKEN_BUCKET),
            key_prefix: config.key_prefix.clone(),
            timeout: config.redis_timeout,
        })
    }

    /// This worker's connection (two first requests racing on one worker may both connect; the
    /// last one is kept, the other dropped).
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        if let Some(connection) = CONNECTION.with(|c| c.borrow().clone()) {
            return Ok(connection);
        }
        let connection = ConnectionManager::new(self.client.clone()).await?;
        CONNECTION.with(|c| *c.borrow_mut() = Some(connection.clone()));
        Ok(connection)
    }

    /// Takes one token from `key`'s bucket, first checking `revoked` (a session's marker) when
    /// given. Redis trouble lets the request through.
    pub(super) async fn take(&self, key: &str, bucket: Bucket, revoked: Option<&str>) -> Verdict {
        let key = format!("{}:{key}", self.key_prefix);
        let attempt = async {
            let mut connection = self.connection().await?;
            let mut invocation = self.script.key(&key);
            if let Some(revoked) = revoked {
                invocation.key(revoked);
            }
            invocation
                .arg(bucket.capacity)
                .arg(bucket.refill_per_second / 1000.0)
                .invoke_async::<(i8, u64)>(&mut connection)
                .await
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok((1, _))) => Verdict::Allowed,
            Ok(Ok((-1, _))) => Verdict::SessionRevoked,
            Ok(Ok((_, retry_ms))) => Verdict::Limited {
                retry_after_ms: retry_ms.max(1),
            },
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "rate limiter: Redis failed; request let through");
                Verdict::Allowed
            }
            Err(_) => {
                tracing::warn!("rate limiter: Redis timed out; request let through");
                Verdict::Allowed
            }
        }
    }
}
