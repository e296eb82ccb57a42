//! Inputs that never came: a score still PENDING past the input timeout is decided with what
//! it has — which refers it to the queue (`MISSING_INPUT`) unless everything arrived meanwhile.
//! It also picks up a risk answer that was committed while the loan's score was being created
//! by another process (neither transaction saw the other's row).
//!
//! After each sweep it sets the backlog gauges an on-call engineer watches: a score PENDING
//! long past the input timeout means the sweeper (or the service) is not running, and a
//! referral waiting long in the queue means borrowers are waiting on staff.

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_platform::refusal::ServiceError;
use tenor_platform::telemetry::seconds_waited;
use tokio_util::sync::CancellationToken;

use super::{Credit, chrono_duration};
use crate::store::scores;

const BATCH: i64 = 50;

/// Gauges set after every sweep, per `database`: scores waiting for an input, and how long the
/// oldest has waited (the sweeper decides each once the input timeout has passed, so this
/// should stay below it); applications in the review queue, and how long the oldest has
/// waited for a person.
pub const PENDING: &str = "tenor_credit_pending_decisions";
pub const PENDING_OLDEST: &str = "tenor_credit_pending_decision_oldest_seconds";
pub const QUEUED: &str = "tenor_credit_review_queue";
pub const QUEUED_OLDEST: &str = "tenor_credit_review_queue_oldest_seconds";

impl Credit {
    /// [`Self::sweep`] every `sweep_every` until `shutdown`, then [`Self::report_backlog`];
    /// `database` (the pool's database name) labels the gauges.
    pub async fn sweep_loop(self, database: String, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.settings.sweep_every) => {}
            }
            if let Err(error) = self.sweep().await {
                tracing::warn!(error = %format!("{error:#}"), "sweep failed");
            }
            if let Err(error) = self.report_backlog(&database).await {
                tracing::warn!(error = %format!("{error:#}"), "reading the backlog failed");
            }
        }
    }

    /// Sets [`PENDING`], [`PENDING_OLDEST`], [`QUEUED`] and [`QUEUED_OLDEST`].
    async fn report_backlog(&self, database: &str) -> Result<(), ServiceError> {
        let mut conn = self.conn().await?;
        let pending = scores::pending_backlog(&mut conn).await?;
        let queued = scores::queue_backlog(&mut conn).await?;
        let now = Utc::now();
        let labels = [("database", database.to_owned())];
        for ((count, oldest), (of, age)) in [
            (pending, (PENDING, PENDING_OLDEST)),
            (queued, (QUEUED, QUEUED_OLDEST)),
        ] {
            metrics::gauge!(of, &labels).set(count as f64);
            metrics::gauge!(age, &labels).set(seconds_waited(oldest, now));
        }
        Ok(())
    }

    /// One sweep; how many scores it decided.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> Result<usize, ServiceError> {
        let now = Utc::now();
        let cutoff = now - chrono_duration(self.settings.input_timeout);
        let mut conn = self.conn().await?;
        let mut overdue = scores::pending_before(&mut conn, cutoff, BATCH).await?;
        overdue.extend(scores::pending_with_unseen_risk(&mut conn, BATCH).await?);
        let mut decided = 0;
        for id in overdue {
            let outcome = conn
                .transaction::<_, ServiceError, _>(async |conn| {
                    let Some(score) = scores::lock(conn, id).await? else {
                        return Ok(None);
                    };
                    self.try_decide(conn, &score, Utc::now()).await
                })
                .await?;
            decided += usize::from(outcome.is_some());
        }
        Ok(decided)
    }
}
