//! Whether this process can reach its database, as its latest attempt found: a request that
//! fails while it cannot is answered `SERVICE_UNAVAILABLE` ("try again shortly"), not
//! `INTERNAL` ("something broke"), so the app retries instead of showing a fault
//! (docs/conventions.md § API conventions).
//!
//! One flag per process, as a service runs one per process with one database. Where several
//! services share a process (tests, benchmarks), one's outage shows in the others' failures
//! too, never in their successes.

use std::sync::atomic::{AtomicBool, Ordering};

static UNREACHABLE: AtomicBool = AtomicBool::new(false);

/// Whether the database refused or dropped the latest connection, with no statement answered
/// since.
pub fn database_unreachable() -> bool {
    UNREACHABLE.load(Ordering::Relaxed)
}

/// Called on every connection attempt's outcome and every statement's: read first, so the
/// hot path (statements answered while all is well) only ever reads the shared flag.
pub(crate) fn note_database(reachable: bool) {
    if UNREACHABLE.load(Ordering::Relaxed) == reachable {
        UNREACHABLE.store(!reachable, Ordering::Relaxed);
        if reachable {
            tracing::info!("database reachable again");
        } else {
            tracing::warn!("database unreachable: failing requests answer SERVICE_UNAVAILABLE");
        }
    }
}

/// A connection attempt: unless [`ConnectAttempt::succeeded`] is called, dropping it notes the
/// database unreachable — including when the pool gives up waiting and drops the attempt.
pub(crate) struct ConnectAttempt {
    done: bool,
}

impl ConnectAttempt {
    pub(crate) fn begin() -> Self {
        Self { done: false }
    }

    pub(crate) fn succeeded(mut self) {
        self.done = true;
        note_database(true);
    }
}

impl Drop for ConnectAttempt {
    fn drop(&mut self) {
        if !self.done {
            note_database(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_or_abandoned_attempt_marks_it_unreachable_and_a_success_clears_it() {
        drop(ConnectAttempt::begin());
        assert!(database_unreachable());
        ConnectAttempt::begin().succeeded();
        assert!(!database_unreachable());
        note_database(false);
        assert!(database_unreachable());
        note_database(true);
        assert!(!database_unreachable());
    }
}
