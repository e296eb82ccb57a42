//! The buckets themselves: one Lua script, run atomically in Redis, deciding every charge it
//! carries. Each request's charge travels in at most one call, shared with whatever else its
//! worker thread asked meanwhile (see `trips`). Redis trouble lets the request through.
//!
//! Every answer that says an address is out of tokens is remembered here (see `limited_ips`), so
//! the next requests from that address are refused without asking Redis until a token is due.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::RateLimitConfig;
use super::limited_ips::LimitedIps;
use super::trips::{Question, Trips};

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

/// One router's buckets: how to reach them, where the keys live, and which addresses it knows
/// to be out of tokens.
pub(super) struct Buckets {
    trips: Arc<Trips>,
    key_prefix: String,
    revocation_prefix: String,
    limited_ips: LimitedIps,
}

/// A charge's flags in the script's ARGV: which buckets it names (its keys come in this order).
const ADDRESS: u8 = 1;
const USER: u8 = 2;
const SESSION: u8 = 4;

/// Atomic token buckets: each refills by elapsed time (Redis's clock, so replicas agree) and
/// gives one token if it has one, else says how long until it will.
///
/// ARGV: per-IP capacity and tokens per ms, per-user capacity and tokens per ms, then one flags
/// number per charge (1: the address's bucket, 2: the user's bucket, 4: the session's revocation
/// marker). KEYS: each charge's keys in that order, charge after charge.
///
/// Per charge, in arrival order: the address pays first (a request with a revoked or
/// over-budget user still costs its address a token, as it did when the address was charged on
/// arrival); a revoked session is refused before it takes a user token. Returns
/// `{ verdict, retry_ms }` per charge, flattened: 1 allowed, 0 address out of tokens, 2 user out
/// of tokens, -1 session revoked.
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
local ip_capacity, ip_per_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local user_capacity, user_per_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local answers = {}
local next_key = 1
local function key_if(flags, bit)
  if math.floor(flags / bit) % 2 == 1 then
    next_key = next_key + 1
    return KEYS[next_key - 1]
  end
  return nil
end
for i = 5, #ARGV do
  local flags = tonumber(ARGV[i])
  local address = key_if(flags, 1)
  local user = key_if(flags, 2)
  local revoked = key_if(flags, 4)
  local verdict, retry_ms = 1, 0
  if address then
    local wait = take(address, ip_capacity, ip_per_ms)
    if wait > 0 then
      verdict, retry_ms = 0, wait
    end
  end
  if verdict == 1 and user then
    if revoked and redis.call('EXISTS', revoked) == 1 then
      verdict = -1
    else
      local wait = take(user, user_capacity, user_per_ms)
      if wait > 0 then
        verdict, retry_ms = 2, wait
      end
    end
  end
  answers[#answers + 1] = verdict
  answers[#answers + 1] = retry_ms
end
return answers
"#;

impl Buckets {
    pub(super) fn open(config: &RateLimitConfig) -> redis::RedisResult<Self> {
        let trips = Trips::new(
            redis::Client::open(config.redis_url.as_str())?,
            redis::Script::new(TOKEN_BUCKETS),
            config.per_ip,
            config.per_user,
            config.redis_timeout,
        );
        Ok(Self {
            trips: Arc::new(trips),
            key_prefix: config.key_prefix.clone(),
            revocation_prefix: config.revocation_prefix.clone(),
            limited_ips: LimitedIps::new(config.remembered_ips),
        })
    }

    /// How long `ip` is still known to be out of tokens (from an earlier answer), if it is.
    pub(super) fn known_limited(&self, ip: IpAddr) -> Option<Duration> {
        self.limited_ips.limited_for(ip, Instant::now())
    }

    /// Takes one token from each bucket `charge` names, in (at most) one round trip. Redis
    /// trouble lets the request through.
    pub(super) async fn take(&self, charge: Charge<'_>) -> Verdict {
        if charge.is_empty() {
            return Verdict::Allowed;
        }
        let asked_at = Instant::now();
        let verdict = match self.trips.ask(self.question(charge)).await {
            Some((1, _)) | None => Verdict::Allowed,
            Some((-1, _)) => Verdict::SessionRevoked,
            Some((0, retry_ms)) => Verdict::IpLimited {
                retry_after_ms: retry_ms.max(1),
            },
            Some((_, retry_ms)) => Verdict::UserLimited {
                retry_after_ms: retry_ms.max(1),
            },
        };
        if let (Some(ip), Verdict::IpLimited { retry_after_ms }) = (charge.ip, verdict) {
            // Counted from when the question was asked: never later than Redis's own answer.
            self.limited_ips
                .learn(ip, asked_at + Duration::from_millis(retry_after_ms));
        }
        verdict
    }

    /// The script's keys and flags for `charge`.
    fn question(&self, charge: Charge<'_>) -> Question {
        let mut keys = Vec::with_capacity(3);
        let mut flags = 0;
        if let Some(ip) = charge.ip {
            keys.push(format!("{}:ip:{ip}", self.key_prefix));
            flags |= ADDRESS;
        }
        if let Some(user) = charge.user {
            keys.push(format!("{}:user:{user}", self.key_prefix));
            flags |= USER;
            if let Some(session) = charge.session {
                keys.push(format!("{}:session:{session}", self.revocation_prefix));
                flags |= SESSION;
            }
        }
        Question { keys, flags }
    }
}
