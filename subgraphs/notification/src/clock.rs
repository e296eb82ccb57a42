//! Where "now" comes from. Quiet hours, retries and leases all read the time through a
//! [`Clock`], so a test can stand at 22:00 WIB and then at 08:00 the next day without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// The current time, at the millisecond precision MongoDB stores (what is written reads back
/// equal).
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        millis(Utc::now())
    }
}

/// A clock that stands still until it is set or advanced (tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(millis(now))),
        }
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().expect("clock lock") = millis(now);
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.now.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }
}

/// The default clock as a shared handle.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

fn millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2027-01-15T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ManualClock::at(start);
        assert_eq!(clock.now(), start);
        clock.advance(chrono::Duration::hours(10));
        assert_eq!(clock.now(), start + chrono::Duration::hours(10));
        assert!(
            SystemClock
                .now()
                .timestamp_subsec_nanos()
                .is_multiple_of(1_000_000)
        );
    }
}
