//! Login throttling per account: after a few free failures each further failure makes the next
//! attempt wait longer (doubling), and after many the account is locked for a while. Lock and
//! delay expire by themselves, so an attacker cannot lock a customer out for good.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures without any delay (typos happen).
    pub free_failures: u32,
    /// Delay after the first counted failure; doubles with each further one.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Consecutive failures that lock the account…
    pub lock_after: u32,
    /// …for this long.
    pub lock_duration: Duration,
    /// Failed attempts from one source (IP) within `source_window` before it is refused.
    pub max_failures_per_source: i64,
    pub source_window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            lock_after: 10,
            lock_duration: Duration::from_secs(15 * 60),
            max_failures_per_source: 100,
            source_window: Duration::from_secs(15 * 60),
        }
    }
}

/// What a failure does to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterFailure {
    pub failed_count: i32,
    /// Login refused until then; `None` = next attempt allowed at once.
    pub refused_until: Option<DateTime<Utc>>,
    pub locked: bool,
}

pub fn after_failure(
    policy: &ThrottlePolicy,
    previous_failures: i32,
    now: DateTime<Utc>,
) -> AfterFailure {
    let failed_count = previous_failures.saturating_add(1);
    let n = failed_count.max(0) as u32;
    if n >= policy.lock_after {
        return AfterFailure {
            failed_count,
            refused_until: Some(now + policy.lock_duration),
            locked: true,
        };
    }
    if n <= policy.free_failures {
        return AfterFailure {
            failed_count,
            refused_until: None,
            locked: false,
        };
    }
    let doublings = (n - policy.free_failures - 1).min(16);
    let delay = policy
        .base_delay
        .saturating_mul(1 << doublings)
        .min(policy.max_delay);
    AfterFailure {
        failed_count,
        refused_until: (!delay.is_zero()).then(|| now + delay),
        locked: false,
    }
}

/// Whether an account that is refused until `until` may try at `now`.
pub fn refused(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<Duration> {
    until
        .filter(|u| *u > now)
        .map(|u| (u - now).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn free_failures_then_doubling_delays_then_a_lock() {
        let policy = ThrottlePolicy::default();
        let now = at(0);
        let delays: Vec<Option<i64>> = (0..10)
            .map(|prev| {
                after_failure(&policy, prev, now)
                    .refused_until
                    .map(|u| (u - now).num_seconds())
            })
            .collect();
        assert_eq!(
            delays,
            vec![
                None,
                None,
                None,
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(60),
                Some(900)
            ]
        );
        assert!(after_failure(&policy, 9, now).locked);
        assert!(!after_failure(&policy, 8, now).locked);
    }

    #[test]
    fn refusals_expire() {
        assert_eq!(refused(Some(at(10)), at(0)), Some(Duration::from_secs(10)));
        assert_eq!(refused(Some(at(10)), at(10)), None);
        assert_eq!(refused(None, at(0)), None);
    }
}
