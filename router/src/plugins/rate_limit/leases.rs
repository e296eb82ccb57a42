//! Tokens this router has already taken from Redis and may spend without asking again (a
//! "lease"), and the sessions it may trust without asking whether they were revoked.
//!
//! When a bucket in Redis has plenty of room, the script call that pays a request also takes a
//! few more tokens for this router (see `buckets`): the next requests on that bucket are paid
//! here, with no round trip. The limit still holds across replicas, because every token spent
//! here was taken out of the shared bucket first; a replica can only spend *less* than the
//! shared budget, never more. What keeps that "less" small:
//! - a lease is at most 1/16 of what the bucket has left and at most what it refills in one
//!   lease lifetime, so a nearly empty bucket is never leased and every request is decided in
//!   Redis, exactly as without leases;
//! - a router holds at most one lease per bucket, and asks for the next only when it is spent
//!   and no other request is asking already (a burst on one replica cannot lease a bucket
//!   empty, one call after another);
//! - a lease expires after `lease_for` (1 s by default): tokens a replica took but did not
//!   spend are lost to the bucket, which by then has refilled at least that many.
//!
//! A signed-in request also needs its session to be unrevoked. Redis checks that on every
//! script call; between calls, this router trusts a session only while it hears every
//! revocation as it happens (`revocations`: auth publishes each revoked session on a Redis
//! channel). The rules that keep a revoked session from riding on a lease:
//! - a session is trusted only if Redis found it unrevoked in a call asked while the
//!   subscription was live, and the subscription has not dropped since (each (re)subscription
//!   starts a new generation; a drop empties the trusted set);
//! - a revocation heard forgets the session at once, and is remembered for a while so that a
//!   script answer already on its way (it ran just before the revocation) cannot trust it again.
//! - every script call for a signed-in request still checks its session, and a call that finds
//!   it revoked forgets it: were an announcement lost (auth crashed between setting the key and
//!   publishing it), the session would still be refused once the user's lease is spent — within
//!   `lease_for` or its few tokens.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A lease is at most this share of what the bucket had left (so buckets with little room are
/// decided in Redis, request by request).
pub(super) const LEASE_SHARE: u32 = 16;

/// And at most this many tokens, whatever the bucket's size.
pub(super) const MOST_PER_LEASE: u32 = 64;

/// This router keeps at most this many leases and trusted sessions; beyond, requests are decided
/// in Redis one by one (about 100 bytes each, so a few MiB at most).
const MOST_ENTRIES: usize = 65_536;

/// How long a heard revocation is remembered: longer than any script answer can be on its way
/// (twice the Redis timeout at most).
const REMEMBER_REVOCATION: Duration = Duration::from_secs(10);

/// How long a trusted session stays trusted without another script call confirming it.
const TRUST_SESSION: Duration = Duration::from_secs(60);

/// Expired entries are swept at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What one request asks of the leases: the buckets it pays (their Redis keys) and the session
/// it must not be revoked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Spend<'a> {
    pub(super) address: Option<&'a str>,
    pub(super) user: Option<&'a str>,
    pub(super) session: Option<&'a str>,
}

/// A script call about to be asked: which of its buckets it may lease, and the subscription
/// generation it is asked in. Dropped without an answer (Redis failed, or the request went
/// away), it leases nothing and trusts nobody, and lets the next call ask for the leases.
pub(super) struct Asking<'a> {
    leases: &'a Leases,
    spend: Spend<'a>,
    /// Address, user.
    lease: [bool; 2],
    generation: u64,
}

pub(super) struct Leases {
    lease_for: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, Lease>,
    trusted: HashMap<String, Trust>,
    revoked: HashMap<String, Instant>,
    /// Buckets a script call in flight is leasing.
    leasing: HashSet<String>,
    /// 0 while the revocation subscription is down (no session is trusted), else which
    /// subscription is live.
    generation: u64,
    generations_seen: u64,
    next_sweep: Option<Instant>,
}

struct Lease {
    tokens: u32,
    until: Instant,
}

struct Trust {
    generation: u64,
    until: Instant,
}

impl Leases {
    /// `lease_for` zero: nothing is ever leased (every request is decided in Redis).
    pub(super) fn new(lease_for: Duration) -> Self {
        Self {
            lease_for,
            state: Mutex::default(),
        }
    }

    /// How many tokens one lease may hold for a bucket refilling `refill_per_second`: what it
    /// refills while the lease lives, at most [`MOST_PER_LEASE`].
    pub(super) fn most_for(&self, refill_per_second: f64) -> u32 {
        let refilled = (refill_per_second * self.lease_for.as_secs_f64()).floor();
        if refilled >= f64::from(MOST_PER_LEASE) {
            MOST_PER_LEASE
        } else {
            // Non-negative and below MOST_PER_LEASE here.
            refilled.max(0.0) as u32
        }
    }

    /// Pays `spend` from leases if every bucket it names has a token here and its session is
    /// trusted; otherwise takes nothing (the whole charge goes to Redis).
    pub(super) fn try_spend(&self, spend: Spend<'_>, now: Instant) -> bool {
        let mut state = self.lock();
        let state = &mut *state;
        if let (Some(_), Some(session)) = (spend.user, spend.session) {
            let trusted = state.trusted.get(session).is_some_and(|trust| {
                state.generation != 0 && trust.generation == state.generation && trust.until > now
            });
            if !trusted {
                return false;
            }
        }
        let keys = [spend.address, spend.user];
        if !keys.iter().flatten().all(|key| state.holds(key, now)) {
            return false;
        }
        for key in keys.into_iter().flatten() {
            if let Some(lease) = state.tokens.get_mut(key) {
                lease.tokens -= 1;
            }
        }
        true
    }

    /// The script call for `spend` is about to be asked: each of its buckets is leased unless
    /// this router still holds tokens for it or another call is leasing it already.
    pub(super) fn asking<'a>(&'a self, spend: Spend<'a>, now: Instant) -> Asking<'a> {
        let mut state = self.lock();
        let state = &mut *state;
        let room = !self.lease_for.is_zero()
            && state.tokens.len() < MOST_ENTRIES
            && state.trusted.len() < MOST_ENTRIES;
        let mut lease = [false; 2];
        for (key, lease) in [spend.address, spend.user].into_iter().zip(&mut lease) {
            let Some(key) = key else { continue };
            *lease = room && !state.holds(key, now) && state.leasing.insert(key.to_owned());
        }
        Asking {
            leases: self,
            spend,
            lease,
            generation: state.generation,
        }
    }

    /// The revocation subscription is live (again): a new generation, trusting nobody yet.
    pub(super) fn subscription_live(&self) {
        let mut state = self.lock();
        state.generations_seen += 1;
        state.generation = state.generations_seen;
        state.trusted.clear();
    }

    /// The subscription dropped: revocations may be missed from now on, so no session is
    /// trusted until it is back.
    pub(super) fn subscription_lost(&self) {
        let mut state = self.lock();
        state.generation = 0;
        state.trusted.clear();
    }

    /// Auth revoked `session`.
    pub(super) fn revoked(&self, session: &str, now: Instant) {
        let mut state = self.lock();
        state.trusted.remove(session);
        if state.revoked.len() < MOST_ENTRIES {
            state.revoked.insert(session.to_owned(), now);
        } else {
            // Too many to remember: stop trusting anyone rather than risk the race above.
            state.generation = 0;
            state.trusted.clear();
        }
        state.sweep(now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing here panics while holding the lock; if something did, the maps are still
        // consistent (each update is a single insert or decrement).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Asking<'_> {
    /// Whether the call takes a lease on the address's and on the user's bucket.
    pub(super) fn leases(&self) -> [bool; 2] {
        self.lease
    }

    /// The script's answer: it took `extra` more tokens from the address's and the user's
    /// bucket for this router; `allowed`: the user's bucket paid and the session is unrevoked
    /// (so it may be trusted).
    pub(super) fn answered(self, extra: [u32; 2], allowed: bool, now: Instant) {
        let mut state = self.leases.lock();
        let state = &mut *state;
        let until = now + self.leases.lease_for;
        for (key, extra) in [self.spend.address, self.spend.user].into_iter().zip(extra) {
            let Some(key) = key.filter(|_| extra > 0) else {
                continue;
            };
            let lease = state
                .tokens
                .entry(key.to_owned())
                .or_insert(Lease { tokens: 0, until });
            if lease.until <= now {
                lease.tokens = 0;
            }
            lease.tokens = lease.tokens.saturating_add(extra);
            lease.until = until;
        }
        if let (Some(_), Some(session)) = (self.spend.user, self.spend.session) {
            let live_since_asked = self.generation != 0 && self.generation == state.generation;
            if !allowed {
                // Revoked (or over its budget: trusted again on the next call that pays).
                // Without this, a revocation whose announcement was lost would still be
                // refused, call by call, but the session would stay trusted for the next lease.
                state.trusted.remove(session);
            } else if live_since_asked && !state.revoked.contains_key(session) {
                state.trusted.insert(
                    session.to_owned(),
                    Trust {
                        generation: state.generation,
                        until: now + TRUST_SESSION,
                    },
                );
            }
        }
        state.sweep(now);
        // Dropping `self` ends the leasing.
    }
}

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        if self.lease == [false; 2] {
            return;
        }
        let mut state = self.leases.lock();
        for (key, leased) in [self.spend.address, self.spend.user]
            .into_iter()
            .zip(self.lease)
        {
            if let Some(key) = key.filter(|_| leased) {
                state.leasing.remove(key);
            }
        }
    }
}

impl State {
    /// Whether this router holds an unexpired token for the bucket `key`.
    fn holds(&self, key: &str, now: Instant) -> bool {
        self.tokens
            .get(key)
            .is_some_and(|lease| lease.tokens > 0 && lease.until > now)
    }

    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| at > now) {
            return;
        }
        self.next_sweep = Some(now + SWEEP_EVERY);
        self.tokens.retain(|_, lease| lease.until > now);
        self.trusted.retain(|_, trust| trust.until > now);
        self.revoked
            .retain(|_, heard| now.duration_since(*heard) < REMEMBER_REVOCATION);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: &str = "p:ip:10.0.0.1";
    const USER: &str = "p:user:u1";

    fn signed_in(session: &str) -> Spend<'_> {
        Spend {
            address: Some(ADDRESS),
            user: Some(USER),
            session: Some(session),
        }
    }

    const ANONYMOUS: Spend<'static> = Spend {
        address: Some(ADDRESS),
        user: None,
        session: None,
    };

    fn live() -> Leases {
        let leases = Leases::new(Duration::from_secs(1));
        leases.subscription_live();
        leases
    }

    /// A script call for `session` that leased `extra` and found the session unrevoked.
    fn paid(leases: &Leases, session: &str, extra: [u32; 2], now: Instant) {
        leases
            .asking(signed_in(session), now)
            .answered(extra, true, now);
    }

    #[test]
    fn a_lease_pays_exactly_as_many_requests_as_it_holds() {
        let leases = live();
        let now = Instant::now();
        paid(&leases, "s1", [3, 2], now);
        assert!(leases.try_spend(signed_in("s1"), now));
        assert!(leases.try_spend(signed_in("s1"), now));
        // The user's lease is spent: the third request goes to Redis, and takes no address
        // token here either.
        assert!(!leases.try_spend(signed_in("s1"), now));
        assert!(leases.try_spend(ANONYMOUS, now));
        assert!(!leases.try_spend(ANONYMOUS, now));
    }

    #[test]
    fn a_lease_expires() {
        let leases = live();
        let now = Instant::now();
        paid(&leases, "s1", [5, 5], now);
        assert!(!leases.try_spend(signed_in("s1"), now + Duration::from_secs(1)));
    }

    #[test]
    fn a_revoked_session_is_not_paid_from_a_lease() {
        let leases = live();
        let now = Instant::now();
        paid(&leases, "s1", [5, 5], now);
        paid(&leases, "s2", [0, 0], now);
        leases.revoked("s1", now);
        assert!(!leases.try_spend(signed_in("s1"), now));
        // The user's other session still is.
        assert!(leases.try_spend(signed_in("s2"), now));
    }

    #[test]
    fn an_answer_that_crossed_a_revocation_does_not_trust_the_session_again() {
        let leases = live();
        let now = Instant::now();
        let asking = leases.asking(signed_in("s1"), now);
        // Redis found s1 unrevoked, then auth revoked it; the revocation was heard first.
        leases.revoked("s1", now);
        asking.answered([5, 5], true, now);
        assert!(!leases.try_spend(signed_in("s1"), now));
    }

    #[test]
    fn a_session_redis_refused_is_not_trusted() {
        let leases = live();
        let now = Instant::now();
        leases
            .asking(signed_in("s1"), now)
            .answered([5, 0], false, now);
        assert!(!leases.try_spend(signed_in("s1"), now));
        // The address's lease it took is this router's all the same.
        assert!(leases.try_spend(ANONYMOUS, now));
    }

    #[test]
    fn a_session_redis_finds_revoked_is_no_longer_trusted_though_its_revocation_went_unheard() {
        let leases = live();
        let now = Instant::now();
        paid(&leases, "s1", [5, 1], now);
        assert!(leases.try_spend(signed_in("s1"), now));
        // The user's lease is spent; the next call finds the session revoked.
        leases
            .asking(signed_in("s1"), now)
            .answered([0, 0], false, now);
        // A lease taken for the user by another session's call is not the revoked one's.
        paid(&leases, "s2", [0, 5], now);
        assert!(!leases.try_spend(signed_in("s1"), now));
        assert!(leases.try_spend(signed_in("s2"), now));
    }

    #[test]
    fn no_session_is_trusted_while_revocations_may_be_missed() {
        let leases = Leases::new(Duration::from_secs(1));
        let now = Instant::now();
        // Never subscribed.
        paid(&leases, "s1", [5, 5], now);
        assert!(!leases.try_spend(signed_in("s1"), now));

        // Subscribed, then dropped: trust goes with it.
        leases.subscription_live();
        paid(&leases, "s1", [0, 0], now);
        assert!(leases.try_spend(signed_in("s1"), now));
        leases.subscription_lost();
        assert!(!leases.try_spend(signed_in("s1"), now));

        // An answer to a call asked before a drop and a new subscription does not count.
        let asked_before = leases.asking(signed_in("s1"), now);
        leases.subscription_live();
        asked_before.answered([0, 0], true, now);
        assert!(!leases.try_spend(signed_in("s1"), now));
        // The address alone needs no session.
        assert!(leases.try_spend(ANONYMOUS, now));
    }

    #[test]
    fn one_lease_per_bucket_is_asked_for_at_a_time() {
        let leases = live();
        let now = Instant::now();
        let first = leases.asking(signed_in("s1"), now);
        assert_eq!(first.leases(), [true, true]);
        // A second request while the first call is out pays in Redis, leasing nothing.
        assert_eq!(leases.asking(signed_in("s1"), now).leases(), [false; 2]);
        first.answered([4, 0], true, now);
        // The address's lease holds tokens; the user's bucket may be leased again.
        assert_eq!(leases.asking(signed_in("s1"), now).leases(), [false, true]);
        // A call that never got its answer lets the next one ask.
        drop(leases.asking(signed_in("s2"), now));
        assert_eq!(leases.asking(signed_in("s2"), now).leases(), [false, true]);
    }

    #[test]
    fn lease_size_follows_the_refill_rate() {
        let leases = Leases::new(Duration::from_secs(1));
        assert_eq!(leases.most_for(0.05), 0);
        assert_eq!(leases.most_for(5.0), 5);
        assert_eq!(leases.most_for(1e7), MOST_PER_LEASE);
        let off = Leases::new(Duration::ZERO);
        assert_eq!(off.most_for(1e7), 0);
        assert_eq!(
            off.asking(signed_in("s1"), Instant::now()).leases(),
            [false; 2]
        );
    }
}
