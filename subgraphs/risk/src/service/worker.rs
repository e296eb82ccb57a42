//! The work queue's worker: claim a due request, call the bureau (nothing else in between,
//! under a timeout), then record the evaluation or schedule the retry.
//!
//! ```text
//!  loan.submitted ─► risk_requests (PENDING) ─claim (lease)─► bureau ─ok──► evaluation + event
//!                         ▲                                     │              (unique per loan)
//!                         └──── reschedule (backoff) ◄──error───┤              then DONE
//!                                                               └─error past the deadline──►
//!                                                                  FAILED evaluation + event
//! ```
//!
//! Crash points: before the evaluation insert, the request stays PENDING and is claimed again
//! once its lease ends (the poll finds it); between the insert and DONE, the next attempt's
//! insert is refused by the unique index on `loan_id` and only marks it DONE. So a loan gets
//! exactly one evaluation and one event, whichever replica or restart finishes it.

use std::sync::Arc;

use tenor_platform::telemetry::traces::continue_trace;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{RiskService, now};
use crate::bureau::{BureauError, BureauRequest, CreditBureau};
use crate::store::{RiskRequest, requests};

impl RiskService {
    /// Work the queue until `shutdown`. Calls in flight are dropped on shutdown, as a crash
    /// would drop them: their requests are claimed again after the lease.
    pub async fn run_worker(self, bureau: Arc<dyn CreditBureau>, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.settings.worker.concurrency));
        let mut running = JoinSet::new();
        let mut handed = self.take_handed();
        loop {
            while running.try_join_next().is_some() {}
            self.start_due(&bureau, &slots, &mut running).await;
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(request) = handed.recv() => {
                    let slot = tokio::select! {
                        () = shutdown.cancelled() => break,
                        slot = slots.clone().acquire_owned() => slot.expect("never closed"),
                    };
                    self.start(&bureau, request, slot, &mut running);
                },
                () = self.work.notified() => {},
                Some(_) = running.join_next(), if !running.is_empty() => {},
                () = tokio::time::sleep(self.settings.worker.poll) => {},
            }
        }
        running.shutdown().await;
    }

    /// Delete finished requests older than `RISK_REQUEST_RETENTION`, now and then (every
    /// replica may; deleting twice is harmless), until `shutdown`.
    pub async fn forget_finished_requests(self, shutdown: CancellationToken) {
        let retention = self.settings.worker.request_retention;
        let every = retention.min(std::time::Duration::from_secs(3600));
        loop {
            let before =
                now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
            match requests::forget_done(&self.requests(), before).await {
                Ok(0) => {}
                Ok(forgotten) => tracing::info!(forgotten, "finished bureau requests deleted"),
                Err(error) => tracing::warn!(%error, "deleting finished bureau requests failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {},
            }
        }
    }

    /// Work on a claimed request in its own task, holding `slot`.
    fn start(
        &self,
        bureau: &Arc<dyn CreditBureau>,
        request: RiskRequest,
        slot: tokio::sync::OwnedSemaphorePermit,
        running: &mut JoinSet<()>,
    ) {
        let span = tracing::info_span!(
            "bureau check",
            loan_id = %request.loan_id,
            attempt = request.attempts
        );
        // The check belongs to the trace of the submission it answers (which the request kept),
        // so the evaluation it publishes continues that trace from this span.
        continue_trace(&span, request.traceparent.as_deref());
        let (service, bureau) = (self.clone(), bureau.clone());
        running.spawn(
            async move {
                service.attempt(bureau.as_ref(), request).await;
                drop(slot);
            }
            .instrument(span),
        );
    }

    /// Claim due requests while there is a free slot, each handled in its own task.
    async fn start_due(
        &self,
        bureau: &Arc<dyn CreditBureau>,
        slots: &Arc<Semaphore>,
        running: &mut JoinSet<()>,
    ) {
        loop {
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                return;
            };
            let lease = self.settings.worker.claim_lease;
            let request = match requests::claim_due(&self.requests(), now(), lease).await {
                Ok(Some(request)) => request,
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(%error, "claiming risk requests failed; retrying on the next poll");
                    return;
                }
            };
            self.start(bureau, request, slot, running);
        }
    }

    /// One bureau call for a claimed request, and what follows from its answer.
    async fn attempt(&self, bureau: &dyn CreditBureau, request: RiskRequest) {
        let call = BureauRequest {
            user_id: request.user_id,
            loan_id: request.loan_id,
            attempt: request.attempts,
        };
        let started = std::time::Instant::now();
        let answer =
            tokio::time::timeout(self.settings.worker.bureau_timeout, bureau.report(&call))
                .await
                .unwrap_or(Err(BureauError::Timeout));
        let result = match &answer {
            Ok(_) => "ok",
            Err(BureauError::Timeout) => "timeout",
            Err(BureauError::Unavailable(_)) => "unavailable",
        };
        metrics::counter!("risk_bureau_calls_total", "result" => result).increment(1);
        metrics::histogram!("risk_bureau_call_seconds").record(started.elapsed().as_secs_f64());
        let vendor = bureau.vendor_name();
        let recorded = match answer {
            Ok(report) => self.record_evaluated(&request, vendor, report).await,
            Err(error) => self.after_bureau_error(&request, vendor, error).await,
        };
        if let Err(error) = recorded {
            // The request stays claimed until its lease ends, then is tried again.
            tracing::warn!(error = %format!("{error:#}"), "recording the bureau answer failed");
        }
    }

    /// Before the deadline: try again later. At or past it: the loan gets a FAILED evaluation.
    async fn after_bureau_error(
        &self,
        request: &RiskRequest,
        vendor: &str,
        error: BureauError,
    ) -> anyhow::Result<()> {
        let at = now();
        if at >= request.deadline {
            return self.record_failed(request, vendor, &error).await;
        }
        let settings = &self.settings.worker;
        let delay = crate::domain::retry::backoff(
            settings.retry_initial,
            settings.retry_max,
            request.attempts,
        );
        let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0.8..1.2);
        let next = crate::domain::retry::next_attempt(at, request.deadline, delay, jitter);
        let code = match &error {
            BureauError::Timeout => "TIMEOUT",
            BureauError::Unavailable(code) => code.as_str(),
        };
        requests::reschedule(&self.requests(), request.loan_id, next, code, at).await?;
        tracing::warn!(%error, next_attempt_at = %next, "bureau call failed; retrying");
        // Ring when the retry is due instead of waiting for the next poll.
        let work = self.work.clone();
        let wait = (next - at).to_std().unwrap_or_default();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            work.notify_one();
        });
        Ok(())
    }
}
