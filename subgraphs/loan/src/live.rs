//! Live loan status for subscribers.
//!
//! Every loan process reads `loan.events` with a consumer group of its own (`tenor-loan-live-
//! <uuid>`, from the latest offset, never committing), so every replica sees every status
//! change, and fans `loan.status.changed` out to its local subscribers through a broadcast
//! channel. A subscriber too slow to keep up skips what it missed and carries on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::{Context, ID, Result, SimpleObject, Subscription as SubscriptionDerive};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use tenor_contracts::loan::LoanStatusChangedV1;
use tenor_events::Envelope;
use tenor_events::kafka::KafkaConfig;
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::events::domain_status;
use crate::loans::Loans;
use crate::schema::{Loan, LoanStatusGql};
use crate::store;

/// Status changes received by this process, for its subscribers.
#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<LoanStatusChangedV1>,
    assigned: Arc<AtomicBool>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self {
            sender,
            assigned: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LoanStatusChangedV1> {
        self.sender.subscribe()
    }

    /// True once the Kafka consumer has its partitions (before that, events are missed).
    pub fn is_live(&self) -> bool {
        self.assigned.load(Ordering::Relaxed)
    }

    /// Consume `topic` until `shutdown`, forwarding status changes.
    pub async fn run(
        self,
        kafka: KafkaConfig,
        topic: String,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &kafka.brokers)
            .set("client.id", &kafka.client_id)
            .set("group.id", format!("tenor-loan-live-{}", Uuid::new_v4()))
            // Only what happens from now on matters to a live subscriber.
            .set("auto.offset.reset", "latest")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .create()?;
        consumer.subscribe(&[&topic])?;
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                message = consumer.recv() => message,
                () = tokio::time::sleep(Duration::from_millis(100)), if !self.is_live() => {
                    let assigned = consumer.assignment().map(|a| a.count() > 0).unwrap_or(false);
                    self.assigned.store(assigned, Ordering::Relaxed);
                    continue;
                }
            };
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    tracing::warn!(%error, "live consumer receive failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            self.assigned.store(true, Ordering::Relaxed);
            let Ok(envelope) = Envelope::from_slice(message.payload().unwrap_or_default()) else {
                continue;
            };
            if !envelope.is::<LoanStatusChangedV1>() {
                continue;
            }
            match envelope.decode::<LoanStatusChangedV1>() {
                // No subscribers is fine.
                Ok(event) => drop(self.sender.send(event)),
                Err(error) => tracing::warn!(%error, "undecodable loan.status.changed"),
            }
        }
    }
}

/// One status change pushed to a subscriber, with the loan as it is now.
#[derive(SimpleObject)]
pub struct LoanStatusChange {
    pub loan: Loan,
    pub status: LoanStatusGql,
    pub previous_status: Option<LoanStatusGql>,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
}

pub struct Subscription;

#[SubscriptionDerive]
impl Subscription {
    /// Status changes of one of the caller's loans, or of all of them when `loanId` is omitted.
    /// Owner only. Ends with an `UNAUTHENTICATED` error when the access token expires.
    #[graphql(directive = tenor_platform::federation::authenticated::apply())]
    async fn loan_status_changed(
        &self,
        ctx: &Context<'_>,
        loan_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<LoanStatusChange>> + use<>> {
        let principal = ctx.principal()?.clone();
        let loans = ctx.data::<Loans>()?.clone();
        let hub = ctx.data::<LiveHub>()?.clone();
        let only = match loan_id {
            None => None,
            Some(id) => {
                let forbidden = || coded_error("FORBIDDEN", "not your loan");
                let id: Uuid = id.parse().map_err(|_| forbidden())?;
                let mut conn = loans.pool().get().await.map_err(internal_error)?;
                let loan = store::find(&mut conn, id).await.map_err(internal_error)?;
                // Someone else's loan and a loan that does not exist look the same.
                if loan.is_none_or(|l| l.user_id != principal.user_id) {
                    return Err(forbidden());
                }
                Some(id)
            }
        };
        // Subscribe before returning so nothing published after this point is missed.
        let receiver = hub.subscribe();
        let owner = principal.user_id;
        let changes = tokio_stream_from(receiver)
            .filter(move |event| {
                let mine = event.user_id == owner && only.is_none_or(|id| id == event.loan_id);
                async move { mine }
            })
            .then(move |event| {
                let loans = loans.clone();
                async move {
                    let mut conn = loans.pool().get().await.map_err(internal_error)?;
                    let loan = store::find(&mut conn, event.loan_id)
                        .await
                        .map_err(internal_error)?
                        .ok_or_else(|| internal_error("loan of a status event is missing"))?;
                    Ok(LoanStatusChange {
                        loan: Loan(loan),
                        status: domain_status(event.status).into(),
                        previous_status: event.previous_status.map(|s| domain_status(s).into()),
                        reason: event.reason,
                        changed_at: event.changed_at,
                    })
                }
            });
        let expires_at = principal.expires_at;
        let expires_in = (expires_at - Utc::now()).to_std().unwrap_or_default();
        // Pushes stop when the token expires; the last item then says why.
        let expired = futures::stream::once(async move {
            (Utc::now() >= expires_at).then(|| {
                Err(coded_error(
                    "UNAUTHENTICATED",
                    "access token has expired; subscribe again with a fresh token",
                ))
            })
        })
        .filter_map(futures::future::ready);
        Ok(changes
            .take_until(tokio::time::sleep(expires_in))
            .chain(expired))
    }
}

/// The broadcast receiver as a stream; lagging subscribers skip what they missed.
fn tokio_stream_from(
    receiver: broadcast::Receiver<LoanStatusChangedV1>,
) -> impl Stream<Item = LoanStatusChangedV1> {
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "slow subscriber skipped status events");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
