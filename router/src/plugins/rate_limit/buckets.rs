//! The buckets themselves: one Lua script, run atomically in Redis, deciding every charge it
//! carries. Each request's charge travels in at most one call, shared with whatever else its
//! worker thread asked meanwhile (see `trips`), or none at all when this router already holds
//! tokens for it (see `leases`). Redis trouble lets the request through.
//!
//! Every answer that says an address is out of tokens is remembered here (see `limited_ips`), so
//! the next requests from that address are refused without asking Redis until a token is due.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::RateLimitConfig;
use super::leases::{LEASE_SHARE, Leases, Spend};
use super::limited_ips::LimitedIps;
use super::revocations;
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
    leases: Arc<Leases>,
}

/// A charge's flags in the script's ARGV: which buckets it names (its keys come in this order),
/// and whether this router would keep a lease on them.
const ADDRESS: u8 = 1;
const USER: u8 = 2;
const SESSION: u8 = 4;
const LEASE_ADDRESS: u8 = 8;
const LEASE_USER: u8 = 16;

/// Atomic token buckets: each refills by elapsed time (Redis's clock, so replicas agree) and
/// gives one token if it has one, else says how long until it will.
///
/// ARGV: per-IP capacity and tokens per ms, per-user capacity and tokens per ms, the lease
/// share, the most one lease may take from an address's and from a user's bucket, then one
/// flags number per charge (1: the address's bucket, 2: the user's bucket, 4: the session's
/// revocation marker, 8: lease the address's bucket, 16: lease the user's). KEYS: each charge's keys in that order, charge after charge.
///
/// Per charge, in arrival order: the address pays first (a request with a revoked or
/// over-budget user still costs its address a token, as it did when the address was charged on
/// arrival); a revoked session is refused before it takes a user token. From each bucket that
/// paid and is to be leased, the call also takes up to the lease maximum, but never more than
/// 1/share of what that bucket has left: these tokens are the router's to spend (see `leases`).
/// Returns `{ verdict, retry_ms, address_lease, user_lease }` per charge, flattened: verdict 1
/// allowed, 0 address out of tokens, 2 user out of tokens, -1 session revoked.
const TOKEN_BUCKETS: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local share = tonumber(ARGV[5])
local function take(key, capacity, per_ms, lease_most)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1])
  local at = tonumber(state[2])
  if tokens == nil or at == nil then
    tokens = capacity
    at = now
  end
  tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
  local retry_ms, leased = 0, 0
  if tokens >= 1 then
    tokens = tokens - 1
    leased = math.max(0, math.min(lease_most, math.floor(tokens / share)))
    tokens = tokens - leased
  else
    retry_ms = math.ceil((1 - tokens) / per_ms)
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / per_ms) + 1000)
  return retry_ms, leased
end
-- `take` as a verdict: 1 (paid), else `refused` and how long to wait; and the tokens leased.
local function pay(key, capacity, per_ms, lease_most, refused)
  local wait, leased = take(key, capacity, per_ms, lease_most)
  if wait > 0 then
    return refused, wait, leased
  end
  return 1, 0, leased
end
local ip_capacity, ip_per_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local user_capacity, user_per_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local ip_lease, user_lease = tonumber(ARGV[6]), tonumber(ARGV[7])
local answers = {}
local next_key = 1
local function key_if(flags, bit)
  if math.floor(flags / bit) % 2 == 1 then
    next_key = next_key + 1
    return KEYS[next_key - 1]
  end
  return nil
end
for i = 8, #ARGV do
  local flags = tonumber(ARGV[i])
  local address = key_if(flags, 1)
  local user = key_if(flags, 2)
  local revoked = key_if(flags, 4)
  local lease_address = math.floor(flags / 8) % 2 == 1
  local lease_user = math.floor(flags / 16) % 2 == 1
  local verdict, retry_ms, address_leased, user_leased = 1, 0, 0, 0
  if address then
    verdict, retry_ms, address_leased =
      pay(address, ip_capacity, ip_per_ms, lease_address and ip_lease or 0, 0)
  end
  if verdict == 1 and user then
    if revoked and redis.call('EXISTS', revoked) == 1 then
      verdict = -1
    else
      verdict, retry_ms, user_leased =
        pay(user, user_capacity, user_per_ms, lease_user and user_lease or 0, 2)
    end
  end
  answers[#answers + 1] = verdict
  answers[#answers + 1] = retry_ms
  answers[#answers + 1] = address_leased
  answers[#answers + 1] = user_leased
end
return answers
"#;

impl Buckets {
    pub(super) fn open(config: &RateLimitConfig) -> redis::RedisResult<Self> {
        let client = redis::Client::open(config.redis_url.as_str())?;
        let leases = Arc::new(Leases::new(config.lease_for));
        // The script's leading arguments, the same for every call.
        let limits = vec![
            config.per_ip.capacity.to_string(),
            (config.per_ip.refill_per_second / 1000.0).to_string(),
            config.per_user.capacity.to_string(),
            (config.per_user.refill_per_second / 1000.0).to_string(),
            LEASE_SHARE.to_string(),
            leases.most_for(config.per_ip.refill_per_second).to_string(),
            leases
                .most_for(config.per_user.refill_per_second)
                .to_string(),
        ];
        if !config.lease_for.is_zero() {
            revocations::listen(
                client.clone(),
                revocations::channel(&config.revocation_prefix),
                leases.clone(),
            );
        }
        let trips = Trips::new(
            client,
            redis::Script::new(TOKEN_BUCKETS),
            limits,
            config.redis_timeout,
        );
        Ok(Self {
            trips: Arc::new(trips),
            key_prefix: config.key_prefix.clone(),
            revocation_prefix: config.revocation_prefix.clone(),
            limited_ips: LimitedIps::new(config.remembered_ips),
            leases,
        })
    }

    /// How long `ip` is still known to be out of tokens (from an earlier answer), if it is.
    pub(super) fn known_limited(&self, ip: IpAddr) -> Option<Duration> {
        self.limited_ips.limited_for(ip, Instant::now())
    }

    /// Takes one token from each bucket `charge` names: from this router's leases if they hold
    /// one for every bucket (and trust the session), else in (at most) one round trip. Redis
    /// trouble lets the request through.
    pub(super) async fn take(&self, charge: Charge<'_>) -> Verdict {
        if charge.is_empty() {
            return Verdict::Allowed;
        }
        let address = charge.ip.map(|ip| format!("{}:ip:{ip}", self.key_prefix));
        let user = charge
            .user
            .map(|user| format!("{}:user:{user}", self.key_prefix));
        let spend = Spend {
            address: address.as_deref(),
            user: user.as_deref(),
            session: charge.user.and(charge.session),
        };
        let asked_at = Instant::now();
        if self.leases.try_spend(spend, asked_at) {
            return Verdict::Allowed;
        }

        let asking = self.leases.asking(spend, asked_at);
        let answer = self.trips.ask(self.question(spend, asking.leases())).await;
        let Some([verdict, retry_ms, address_leased, user_leased]) = answer else {
            return Verdict::Allowed;
        };
        let retry_after_ms = u64::try_from(retry_ms).unwrap_or(0).max(1);
        let verdict = match verdict {
            1 => Verdict::Allowed,
            -1 => Verdict::SessionRevoked,
            0 => Verdict::IpLimited { retry_after_ms },
            _ => Verdict::UserLimited { retry_after_ms },
        };
        let leased = |n: i64| u32::try_from(n).unwrap_or(0);
        asking.answered(
            [leased(address_leased), leased(user_leased)],
            verdict == Verdict::Allowed,
            Instant::now(),
        );
        if let (Some(ip), Verdict::IpLimited { retry_after_ms }) = (charge.ip, verdict) {
            // Counted from when the question was asked: never later than Redis's own answer.
            self.limited_ips
                .learn(ip, asked_at + Duration::from_millis(retry_after_ms));
        }
        verdict
    }

    /// The script's keys and flags for `spend`, leasing the address's and the user's bucket as
    /// `lease` says.
    fn question(&self, spend: Spend<'_>, [lease_address, lease_user]: [bool; 2]) -> Question {
        let mut keys = Vec::with_capacity(3);
        let mut flags = 0;
        if let Some(address) = spend.address {
            keys.push(address.to_owned());
            flags |= ADDRESS;
            if lease_address {
                flags |= LEASE_ADDRESS;
            }
        }
        if let Some(user) = spend.user {
            keys.push(user.to_owned());
            flags |= USER;
            if lease_user {
                flags |= LEASE_USER;
            }
            if let Some(session) = spend.session {
                keys.push(format!("{}:session:{session}", self.revocation_prefix));
                flags |= SESSION;
            }
        }
        Question { keys, flags }
    }
}
