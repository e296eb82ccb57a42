//! Addresses this router knows to be out of tokens, and until when: learned from the buckets'
//! answers, so a flood from one address is refused here without a Redis round trip per request.
//!
//! Only ever a shortcut for what Redis would answer: an entry is written when Redis said the
//! address's bucket is empty, and lasts until the moment Redis said a token would be back
//! (counted from when the question was asked, so never longer). Other replicas learn the same
//! from their own answers; an address missing here is simply asked about.
//!
//! Bounded: a full table first drops what has expired; if it is still full, the newest address
//! is not remembered (it keeps being asked about, as without this table).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(super) struct LimitedIps {
    until: Mutex<HashMap<IpAddr, Instant>>,
    capacity: usize,
}

impl LimitedIps {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            until: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// How long `ip` stays out of tokens, if it is known to be at `now`.
    pub(super) fn limited_for(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let until = *self.lock().get(&ip)?;
        until.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    /// Remembers that `ip` has no token before `until`.
    pub(super) fn learn(&self, ip: IpAddr, until: Instant) {
        if self.capacity == 0 {
            return;
        }
        let mut table = self.lock();
        if table.len() >= self.capacity && !table.contains_key(&ip) {
            let now = Instant::now();
            table.retain(|_, until| *until > now);
            if table.len() >= self.capacity {
                return;
            }
        }
        table.insert(ip, until);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Instant>> {
        // A panic while holding the lock leaves a consistent map (every write is one insert or
        // one retain), so a poisoned lock is still usable.
        self.until.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([203, 0, 113, last])
    }

    #[test]
    fn an_address_is_limited_until_the_time_learned_and_not_after() {
        let table = LimitedIps::new(8);
        let now = Instant::now();
        table.learn(ip(1), now + Duration::from_millis(500));
        assert_eq!(
            table.limited_for(ip(1), now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(table.limited_for(ip(2), now), None);
        assert_eq!(
            table.limited_for(ip(1), now + Duration::from_millis(500)),
            None
        );
    }

    #[test]
    fn a_full_table_drops_expired_entries_and_never_grows_past_its_capacity() {
        let table = LimitedIps::new(2);
        let now = Instant::now();
        table.learn(ip(1), now); // already expired
        table.learn(ip(2), now + Duration::from_secs(60));
        table.learn(ip(3), now + Duration::from_secs(60));
        assert_eq!(table.len(), 2, "the expired entry made room");
        assert!(table.limited_for(ip(3), now).is_some());
        table.learn(ip(4), now + Duration::from_secs(60));
        assert_eq!(table.len(), 2);
        assert_eq!(
            table.limited_for(ip(4), now),
            None,
            "no room: not remembered"
        );
        // A known address is updated in place even when full.
        table.learn(ip(2), now + Duration::from_secs(1));
        assert_eq!(table.limited_for(ip(2), now), Some(Duration::from_secs(1)));
    }
}
