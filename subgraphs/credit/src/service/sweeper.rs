//! Inputs that never came: a score still PENDING past the input timeout is decided with what
//! it has — which refers it to the queue (`MISSING_INPUT`) unless everything arrived meanwhile.
//! It also picks up a risk answer that was committed while the loan's score was being created
//! by another process (neither transaction saw the other's row).

use chrono::Utc;
use diesel_async::AsyncConnection;
use tenor_platform::refusal::ServiceError;
use tokio_util::sync::CancellationToken;

use super::{Credit, chrono_duration};
use crate::store::scores;

const BATCH: i64 = 50;

impl Credit {
    pub async fn sweep_loop(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.settings.sweep_every) => {}
            }
            if let Err(error) = self.sweep().await {
                tracing::warn!(error = %format!("{error:#}"), "sweep failed");
            }
        }
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
