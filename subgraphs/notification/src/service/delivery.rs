//! The delivery worker: claim a due notification with a lease, call its channel (outside any
//! write, under a timeout), then record the attempt — sent, retry later, or failed.
//!
//! ```text
//!  pending ─claim (lease)─► account deleted? ─► skipped, text blanked  (withdrawn)
//!                           quiet hours? ─► defer to 08:00 local      (no attempt counted)
//!                           over the rate limit? ─► defer to the next window
//!                           channel.send ─ok────────────────► sent
//!                                        ─retryable─► attempts < max ? pending at now + backoff
//!                                                                     : failed (reason)
//!                                        ─permanent─────────────────► failed (reason)
//! ```
//!
//! After recording the outcome the worker looks at the account again: a deletion that landed
//! while the message was in flight left it alone, and it is erased now.
//!
//! Each channel has its own slots (`NOTIFICATION_WORKER_CONCURRENCY`) and its own claims, so a
//! provider that is slow or down holds up only its own messages.
//!
//! Crash points: a process killed before the provider answered leaves the notification pending
//! and claimed; once the lease ends any replica claims it again and sends it — nothing is lost.
//! Killed after the provider accepted but before `sent` was written, the message is sent again
//! (at most once more per kill): every message carries the notification id (email header
//! `X-Tenor-Notification-Id`, the SMS/WhatsApp/push idempotency key) so a provider or a mail
//! client can drop the repeat. On FerretDB two replicas claiming the same notification at the
//! same instant can also both send it (the claim is not isolated there; MongoDB's is).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::NotificationService;
use super::policy;
use crate::channels::{Channel, DeliveryError, OutgoingMessage};
use crate::domain::ChannelKind;
use crate::store::erasure;
use crate::store::notifications::{self, Attempt, Notification};

impl NotificationService {
    /// Deliver until `shutdown`. Calls in flight are dropped on shutdown, as a crash would drop
    /// them: their notifications are claimed again after the lease.
    pub async fn run_worker(self, shutdown: CancellationToken) {
        let slots: HashMap<ChannelKind, Arc<Semaphore>> = ChannelKind::ALL
            .into_iter()
            .map(|kind| {
                let slots = Semaphore::new(self.settings.delivery.concurrency);
                (kind, Arc::new(slots))
            })
            .collect();
        let mut running = JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            for (kind, slots) in &slots {
                self.start_due(*kind, slots, &mut running).await;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.work.notified() => {},
                Some(_) = running.join_next(), if !running.is_empty() => {},
                () = tokio::time::sleep(self.settings.delivery.poll) => {},
            }
        }
        running.shutdown().await;
    }

    /// Claim due notifications of `kind` while it has a free slot, each sent in its own task.
    async fn start_due(
        &self,
        kind: ChannelKind,
        slots: &Arc<Semaphore>,
        running: &mut JoinSet<()>,
    ) {
        loop {
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                return;
            };
            let lease = self.settings.delivery.claim_lease;
            let claimed =
                notifications::claim_due(&self.notifications(), kind, self.now(), lease).await;
            let notification = match claimed {
                Ok(Some(notification)) => notification,
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(%error, "claiming notifications failed; retrying on the next poll");
                    return;
                }
            };
            self.start(notification, slot, running);
        }
    }

    fn start(
        &self,
        notification: Notification,
        slot: OwnedSemaphorePermit,
        running: &mut JoinSet<()>,
    ) {
        let span = tracing::info_span!(
            "delivery",
            notification_id = %notification.id,
            channel = notification.channel.as_str(),
            attempt = notification.attempts.len() + 1
        );
        let service = self.clone();
        running.spawn(
            async move {
                if let Err(error) = service.deliver(notification).await {
                    // The notification stays claimed until its lease ends, then is tried again.
                    tracing::warn!(error = %format!("{error:#}"), "recording a delivery failed");
                }
                drop(slot);
            }
            .instrument(span),
        );
    }

    /// One claimed notification: held back, withdrawn (the account is deleted), or sent once
    /// and the outcome recorded.
    async fn deliver(&self, notification: Notification) -> anyhow::Result<()> {
        let now = self.now();
        let collection = self.notifications();
        // A deletion skips the messages a worker holds; this one is ours to withdraw.
        if self.account_deleted(notification.user_id).await? {
            erasure::withdraw_message(&collection, notification.id).await?;
            tracing::info!("account deleted; withdrawn, not sent");
            return Ok(());
        }
        if notification.quiet_hours {
            let allowed = self
                .settings
                .quiet_hours
                .next_allowed(now, notification.zone);
            if allowed > now {
                notifications::defer(&collection, notification.id, now, allowed, "quiet hours")
                    .await?;
                return Ok(());
            }
        }
        if let Some(next_window) = self.over_rate_limit(&notification, now).await {
            let next = self.allowed_at(&notification, next_window);
            notifications::defer(&collection, notification.id, now, next, "rate limit").await?;
            tracing::info!(next_attempt_at = %next, "borrower over the rate limit; deferred");
            return Ok(());
        }
        let Some(channel) = self.channels.get(notification.channel) else {
            // Configured when the event came in, gone since (a restart without it).
            let attempt = Attempt {
                at: now,
                provider: "none".to_owned(),
                outcome: "permanent".to_owned(),
                response: "channel not configured".to_owned(),
            };
            let reason = format!("{} not available", notification.channel.as_str());
            notifications::mark_failed(&collection, notification.id, &attempt, &reason).await?;
            return Ok(());
        };
        self.send(channel.as_ref(), &notification).await?;
        // A deletion that landed while it was in flight skipped it; its outcome, just
        // recorded, is erased like every other message of the account.
        self.erase_if_deleted(notification.user_id).await?;
        Ok(())
    }

    /// Call the provider, then record what came of it.
    async fn send(&self, channel: &dyn Channel, notification: &Notification) -> anyhow::Result<()> {
        let message = OutgoingMessage {
            notification_id: notification.id.to_string(),
            channel: notification.channel,
            to: notification.to.clone(),
            title: notification.title.clone(),
            body: notification.content.clone(),
            language: notification.language,
        };
        let started = std::time::Instant::now();
        let timeout = self.settings.delivery.send_timeout;
        let answer = tokio::time::timeout(timeout, channel.send(&message))
            .await
            .unwrap_or_else(|_| {
                Err(DeliveryError::Retryable {
                    reason: format!("no answer within {timeout:?}"),
                    response: None,
                })
            });
        let kind = notification.channel.as_str();
        metrics::histogram!("notification_send_seconds", "channel" => kind)
            .record(started.elapsed().as_secs_f64());
        let at = self.now();
        let provider = channel.provider().to_owned();
        let collection = self.notifications();
        let attempts = notification.attempts.len() as u32 + 1;
        match answer {
            Ok(receipt) => {
                let attempt = Attempt {
                    at,
                    provider: receipt.provider.clone(),
                    outcome: "sent".to_owned(),
                    response: receipt.response.clone(),
                };
                notifications::mark_sent(
                    &collection,
                    notification.id,
                    &attempt,
                    receipt.provider_message_id.as_deref(),
                )
                .await?;
                metrics::counter!("notification_sent_total", "channel" => kind).increment(1);
                let age = (at - notification.created_at).to_std().unwrap_or_default();
                metrics::histogram!("notification_delivery_seconds", "channel" => kind)
                    .record(age.as_secs_f64());
                tracing::info!(attempts, "notification sent");
            }
            Err(DeliveryError::Permanent { reason, response }) => {
                let attempt = failed_attempt(at, provider, "permanent", &reason, response);
                notifications::mark_failed(&collection, notification.id, &attempt, &reason).await?;
                metrics::counter!("notification_failed_total", "channel" => kind).increment(1);
                tracing::warn!(%reason, "provider refused the notification for good");
            }
            Err(DeliveryError::Retryable { reason, response }) => {
                let attempt = failed_attempt(at, provider, "retryable", &reason, response);
                let delivery = &self.settings.delivery;
                if attempts >= delivery.max_attempts {
                    let reason = format!("{reason} (after {attempts} attempts)");
                    notifications::mark_failed(&collection, notification.id, &attempt, &reason)
                        .await?;
                    metrics::counter!("notification_failed_total", "channel" => kind).increment(1);
                    tracing::warn!(%reason, "notification failed after its last attempt");
                    return Ok(());
                }
                let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0.8..1.2);
                let wait =
                    policy::backoff(delivery.retry_initial, delivery.retry_max, attempts, jitter);
                let next = self.allowed_at(
                    notification,
                    at + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
                );
                notifications::retry_at(&collection, notification.id, &attempt, next).await?;
                tracing::warn!(%reason, next_attempt_at = %next, "send failed; retrying");
                self.ring_at(wait);
            }
        }
        Ok(())
    }

    /// `at`, or the next moment quiet hours allow when the notification keeps them.
    fn allowed_at(
        &self,
        notification: &Notification,
        at: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        if notification.quiet_hours {
            self.settings
                .quiet_hours
                .next_allowed(at, notification.zone)
        } else {
            at
        }
    }

    /// Count this message against its borrower's window; `Some(start of the next window)` when
    /// the borrower is over the limit. Without Redis the message goes (logged).
    async fn over_rate_limit(
        &self,
        notification: &Notification,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let delivery = &self.settings.delivery;
        let (window, next) = policy::rate_window(now, delivery.user_rate_window);
        match self
            .cache
            .count_message(notification.user_id, window, delivery.user_rate_window)
            .await
        {
            Ok(count) if count > u64::from(delivery.user_rate_limit) => Some(next),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "rate limit unavailable; sending");
                None
            }
        }
    }

    /// Ring the worker after `wait` instead of waiting for the next poll.
    fn ring_at(&self, wait: std::time::Duration) {
        let work = self.work.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            work.notify_one();
        });
    }
}

fn failed_attempt(
    at: chrono::DateTime<chrono::Utc>,
    provider: String,
    outcome: &str,
    reason: &str,
    response: Option<String>,
) -> Attempt {
    Attempt {
        at,
        provider,
        outcome: outcome.to_owned(),
        response: response.unwrap_or_else(|| reason.to_owned()),
    }
}
