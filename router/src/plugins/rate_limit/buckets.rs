//! The buckets themselves: one Lua script, run atomically in Redis, at most once per request,
//! over a connection of the worker thread that handles it. Redis trouble lets the request
//! through.
//!
//! Every answer that says an address is out of tokens is remembered here (see `limited_ips`), so
//! the next requests from that address are refused without asking Redis until a token is due.

use std::cell::RefCell;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use super::limited_ips::LimitedIps;
use super::{Bucket, RateLimitConfig};

/// What one request is charged: its address's bucket, its user's bucket (with the user's session,
/// whose revocation is checked in the same trip), or both.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Charge<'a> {
    pub(super) ip: Option<IpAddr>,
    pub(super) user: Option<&'a str>,
    /// Only looked at with `user`.
    pub(super) session: Option<&'a str>,
}

impl Charge<'_> {
    fn is_empty(&self) -> bool {
        self.ip.is_none() && self.user.is_none()
    }
}

/// What one round trip decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Verdict {
    Allowed,
    IpLimited { retry_after_ms: u64 },
    UserLimited { retry_after_ms: u64 },
    SessionRevoked,
}

/// One router's buckets: its Redis and script, where the keys live, how long a round trip may
/// take, and which addresses it knows to be out of tokens.
pub(super) struct Buckets {
    client: redis::Client,
    script: redis::Script,
    key_prefix: String,
    revocation_prefix: String,
    per_ip: Bucket,
    per_user: Bucket,
    timeout: Duration,
    limited_ips: LimitedIps,
}

thread_local! {
    /// This worker's connection, made on its first use (on this worker's runtime, so its I/O
    /// is driven here and nowhere else).
    static CONNECTION: RefCell<Option<ConnectionManager>> = const { RefCell::new(None) };
}

/// Atomic token buckets: each refills by elapsed time (Redis's clock, so replicas agree) and
/// gives one token if it has one, else says how long until it will.
///
/// KEYS: the address's bucket if ARGV[5] is 1, then the user's bucket and the session's
/// revocation marker if ARGV[6] is 1 (the marker key may be absent: no session id).
/// ARGV: per-IP capacity and tokens per ms, per-user capacity and tokens per ms, the two flags.
///
/// Order: the address pays first (a request with a revoked or over-budget user still costs its
/// address a token, as it did when the address was charged on arrival); a revoked session is
/// refused before it takes a user token. Returns `{ verdict, retry_ms }`: 1 allowed, 0 address
/// out of tokens, 2 user out of tokens, -1 session revoked.
const TOKEN_BUCKETS: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function take(key, capacity, per_ms)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1])
  local at = tonumber(state[2])
  if tokens == nil or at == nil then
    tokens = capacity
    at = now
  end
  tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
  local retry_ms = 0
  if tokens >= 1 then
    tokens = tokens - 1
  else
    retry_ms = math.ceil((1 - tokens) / per_ms)
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / per_ms) + 1000)
  return retry_ms
end
local next_key = 1
if ARGV[5] == '1' then
  local retry_ms = take(KEYS[next_key], tonumber(ARGV[1]), tonumber(ARGV[2]))
  if retry_ms > 0 then
    return { 0, retry_ms }
  end
  next_key = next_key + 1
end
if ARGV[6] == '1' then
  local user = KEYS[next_key]
  local revoked = KEYS[next_key + 1]
  if revoked and redis.call('EXISTS', revoked) == 1 then
    return { -1, 0 }
  end
  local retry_ms = take(user, tonumber(ARGV[3]), tonumber(ARGV[4]))
  if retry_ms > 0 then
    return { 2, retry_ms }
  end
end
return { 1, 0 }
"#;

impl Buckets {
    pub(super) fn open(config: &RateLimitConfig) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(config.redis_url.as_str())?,
            script: redis::Script::new(TOKEN_BUCKETS),
            key_prefix: config.key_prefix.clone(),
            revocation_prefix: config.revocation_prefix.clone(),
            per_ip: config.per_ip,
            per_user: config.per_user,
            timeout: config.redis_timeout,
            limited_ips: LimitedIps::new(config.remembered_ips),
        })
    }

    /// How long `ip` is still known to be out of tokens (from an earlier answer), if it is.
    pub(super) fn known_limited(&self, ip: IpAddr) -> Option<Duration> {
        self.limited_ips.limited_for(ip, Instant::now())
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

    /// Takes one token from each bucket `charge` names, in one round trip. Redis trouble lets
    /// the request through.
    pub(super) async fn take(&self, charge: Charge<'_>) -> Verdict {
        if charge.is_empty() {
            return Verdict::Allowed;
        }
        let asked_at = Instant::now();
        let attempt = async {
            let mut connection = self.connection().await?;
            let mut invocation = self.script.prepare_invoke();
            if let Some(ip) = charge.ip {
                invocation.key(format!("{}:ip:{ip}", self.key_prefix));
            }
            if let Some(user) = charge.user {
                invocation.key(format!("{}:user:{user}", self.key_prefix));
                if let Some(session) = charge.session {
                    invocation.key(format!("{}:session:{session}", self.revocation_prefix));
                }
            }
            invocation
                .arg(self.per_ip.capacity)
                .arg(self.per_ip.refill_per_second / 1000.0)
                .arg(self.per_user.capacity)
                .arg(self.per_user.refill_per_second / 1000.0)
                .arg(u8::from(charge.ip.is_some()))
                .arg(u8::from(charge.user.is_some()))
                .invoke_async::<(i8, u64)>(&mut connection)
                .await
        };
        let verdict = match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok((1, _))) => Verdict::Allowed,
            Ok(Ok((-1, _))) => Verdict::SessionRevoked,
            Ok(Ok((0, retry_ms))) => Verdict::IpLimited {
                retry_after_ms: retry_ms.max(1),
            },
            Ok(Ok((_, retry_ms))) => Verdict::UserLimited {
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
        };
        if let (Some(ip), Verdict::IpLimited { retry_after_ms }) = (charge.ip, verdict) {
            // Counted from when the question was asked: never later than Redis's own answer.
            self.limited_ips
                .learn(ip, asked_at + Duration::from_millis(retry_after_ms));
        }
        verdict
    }
}
