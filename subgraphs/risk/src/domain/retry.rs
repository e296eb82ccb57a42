//! When to call the bureau again after a failure: exponential backoff from the initial delay,
//! capped, spread by jitter so a bureau outage does not bring every retry back at once, and
//! never past the deadline (the last attempt happens at the deadline).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The delay after failed attempt number `attempt` (1 for the first), before jitter.
pub fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
    initial.saturating_mul(factor).min(max)
}

/// The next attempt's time: `now` + the backoff scaled by `jitter` (0.8–1.2), at the latest
/// the deadline.
pub fn next_attempt(
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    delay: Duration,
    jitter: f64,
) -> DateTime<Utc> {
    let delay = delay.mul_f64(jitter.clamp(0.8, 1.2));
    let at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
    at.min(deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (initial, max) = (Duration::from_millis(200), Duration::from_secs(5));
        let delays: Vec<u128> = (1..=7)
            .map(|a| backoff(initial, max, a).as_millis())
            .collect();
        assert_eq!(delays, [200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff(initial, max, u32::MAX), max);
    }

    #[test]
    fn the_next_attempt_never_passes_the_deadline() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let deadline = now + chrono::Duration::seconds(1);
        let soon = next_attempt(now, deadline, Duration::from_millis(500), 1.2);
        assert_eq!(soon, now + chrono::Duration::milliseconds(600));
        let late = next_attempt(now, deadline, Duration::from_secs(5), 0.8);
        assert_eq!(late, deadline);
    }
}
