//! The external score, fetched by a worker with no transaction, lock or pooled connection held
//! while the provider answers (the provider can be slow; a call under a transaction would hold
//! a connection that long):
//!
//! ```text
//!  consumer: score seeded, external_score NULL ── commit ── wake
//!  worker:   read due scores (short read) → provider (nothing held) → BEGIN; lock score;
//!            still missing? → EXTERNAL row + score + try to decide; COMMIT
//!  provider down: attempts+1, next try after a doubling backoff; still missing at the input
//!            timeout → the sweeper refers it (MISSING_INPUT)
//! ```
//!
//! It also polls, so work left by a crashed process is resumed. Two workers may both ask the
//! provider for one score; the second finds it recorded and changes nothing.

use std::time::Duration;

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_platform::refusal::ServiceError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Credit, chrono_duration};
use crate::domain::status::{DecisionState, ScoreSource};
use crate::providers::{ExternalScore, ScoreRequest};
use crate::store::scores;

/// Scores fetched per round.
const BATCH: i64 = 20;

impl Credit {
    /// Fetch due external scores until `shutdown`: on every wake-up and every poll.
    pub async fn external_loop(self, shutdown: CancellationToken) {
        loop {
            if let Err(error) = self.fetch_due_external_scores().await {
                tracing::warn!(error = %format!("{error:#}"), "external score round failed");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.worker_poll) => {}
            }
        }
    }

    /// One round; how many scores were recorded.
    #[tracing::instrument(skip_all)]
    pub async fn fetch_due_external_scores(&self) -> Result<usize, ServiceError> {
        let due = {
            let mut conn = self.conn().await?;
            scores::due_for_external(&mut conn, Utc::now(), BATCH).await?
            // The connection goes back to the pool here, before any provider call.
        };
        let mut recorded = 0;
        for (id, loan_id, user_id, attempts) in due {
            match self.provider.score(ScoreRequest { user_id, loan_id }).await {
                Ok(answer) => {
                    if self.record_external(id, &answer).await? {
                        recorded += 1;
                    }
                }
                Err(error) => {
                    let wait = self.backoff(attempts + 1);
                    tracing::warn!(%loan_id, %error, attempts = attempts + 1, ?wait, "score provider failed; retrying later");
                    let mut conn = self.conn().await?;
                    scores::external_failed(&mut conn, id, Utc::now() + chrono_duration(wait))
                        .await?;
                }
            }
        }
        Ok(recorded)
    }

    /// Record the provider's answer and try to decide, unless another worker already did.
    async fn record_external(
        &self,
        id: Uuid,
        answer: &ExternalScore,
    ) -> Result<bool, ServiceError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, ServiceError, _>(async |conn| {
            let Some(score) = scores::lock(conn, id).await? else {
                return Ok(false);
            };
            if score.external_score.is_some() || score.decision != DecisionState::Pending {
                return Ok(false);
            }
            let reason = format!("{}: {}", answer.vendor, answer.reason);
            scores::insert_entry(
                conn,
                id,
                ScoreSource::External,
                answer.score,
                &reason,
                &answer.raw,
                None,
            )
            .await?;
            scores::set_score(conn, id, ScoreSource::External, answer.score).await?;
            let score = scores::lock(conn, id).await?.expect("locked above");
            self.try_decide(conn, &score, Utc::now()).await?;
            Ok(true)
        })
        .await
    }

    fn backoff(&self, attempt: i32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).max(0) as u32);
        self.settings
            .external_retry_initial
            .saturating_mul(factor)
            .min(self.settings.external_retry_max)
    }
}
