//! The periodic job: verifications that outlived the configured validity become EXPIRED (with
//! `kyc.expired`), and uploads nobody submitted are purged.

use std::time::Duration;

use diesel_async::AsyncConnection;
use tenor_platform::refusal::ServiceError;
use tokio_util::sync::CancellationToken;

use super::{KycService, now};
use crate::domain::KycStatus;
use crate::events::publish;
use crate::store;

/// Rows expired per transaction.
const BATCH: i64 = 100;

impl KycService {
    /// VERIFIED → EXPIRED for every verification past its validity; `kyc.expired` each. Returns
    /// how many expired.
    #[tracing::instrument(skip(self))]
    pub async fn expire_due(&self) -> Result<usize, ServiceError> {
        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        let mut total = 0;
        loop {
            let expired = conn
                .transaction::<_, ServiceError, _>(async |conn| {
                    let at = now();
                    let due = store::lock_due_for_expiry(conn, at, BATCH).await?;
                    for mut submission in due.iter().cloned() {
                        submission.status = KycStatus::Expired;
                        submission.expired_at = Some(at);
                        submission.updated_at = at;
                        store::save_submission(conn, &submission).await?;
                        let event = publish::expired(&submission, at);
                        publish::publish(publisher, conn, &submission, &event).await?;
                    }
                    Ok(due.len())
                })
                .await?;
            total += expired;
            if expired < BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// Run [`Self::expire_due`] and [`Self::purge_abandoned_uploads`] every `interval` until
    /// `shutdown`.
    #[tracing::instrument(name = "expiry_job", skip_all)]
    pub async fn run_expiry(self, interval: Duration, shutdown: CancellationToken) {
        loop {
            match self.expire_due().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "KYC verifications expired"),
                Err(error) => tracing::error!(%error, "KYC expiry pass failed"),
            }
            match self.purge_abandoned_uploads().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "abandoned KYC uploads deleted"),
                Err(error) => tracing::error!(%error, "purging abandoned KYC uploads failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}
