//! Live loan status for subscribers: the hub the `loanStatusChanged` subscription
//! (`schema/subscriptions.rs`) listens to. It knows nothing of GraphQL.
//!
//! Every loan process reads `loan.events` and `auth.events` with a consumer group of its own
//! (`tenor-loan-live-<uuid>`, from the latest offset, never committing), so every replica sees
//! every status change and every revoked session. It fans `loan.status.changed` out to its local
//! subscribers through a broadcast channel (a subscriber too slow to keep up skips what it
//! missed and carries on), and `auth.session.revoked` ends every local subscription opened with
//! a token of that session (`sid`), with `UNAUTHENTICATED` — the same way a subscription ends
//! when its token expires.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::Stream;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use tenor_contracts::identity::SessionRevokedV1;
use tenor_contracts::loan::LoanStatusChangedV1;
use tenor_events::Envelope;
use tenor_events::kafka::KafkaConfig;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::publish::domain_status;
use crate::domain::LoanStatus;

/// How long a revoked session id is remembered, so a subscription opened with one of its
/// tokens after the event arrived is refused too. Longer than any access token lives
/// (15 min + leeway by default); after that its tokens are refused as expired anyway.
const REVOKED_RETENTION: Duration = Duration::from_secs(60 * 60);

/// Sessions revoked while this process was running (recently enough to matter).
#[derive(Default)]
struct RevokedSessions {
    seen: HashMap<Uuid, Instant>,
    last_pruned: Option<Instant>,
}

impl RevokedSessions {
    fn insert(&mut self, session: Uuid) {
        let now = Instant::now();
        if self
            .last_pruned
            .is_none_or(|at| now.duration_since(at) > Duration::from_secs(60))
        {
            self.seen
                .retain(|_, at| now.duration_since(*at) < REVOKED_RETENTION);
            self.last_pruned = Some(now);
        }
        self.seen.insert(session, now);
    }
}

/// One status change as the hub hands it to subscribers: the loan's id and owner, not the loan
/// (a subscriber reads the loan as it is now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub status: LoanStatus,
    pub previous_status: Option<LoanStatus>,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
}

impl From<LoanStatusChangedV1> for StatusChange {
    fn from(event: LoanStatusChangedV1) -> Self {
        Self {
            loan_id: event.loan_id,
            user_id: event.user_id,
            status: domain_status(event.status),
            previous_status: event.previous_status.map(domain_status),
            reason: event.reason,
            changed_at: event.changed_at,
        }
    }
}

/// Status changes and session revocations received by this process, for its subscribers.
#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<StatusChange>,
    revocations: broadcast::Sender<Uuid>,
    revoked: Arc<Mutex<RevokedSessions>>,
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
        let (revocations, _) = broadcast::channel(1024);
        Self {
            sender,
            revocations,
            revoked: Arc::default(),
            assigned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Every status change from now on; a subscriber too slow to keep up skips what it
    /// missed.
    pub fn changes(&self) -> impl Stream<Item = StatusChange> + use<> {
        changes_of(self.sender.subscribe())
    }

    /// True once the Kafka consumer has partitions of both topics (before that, events are
    /// missed).
    pub fn is_live(&self) -> bool {
        self.assigned.load(Ordering::Relaxed)
    }

    /// Whether `session` was revoked (since this process started, within the retention).
    pub fn is_revoked(&self, session: Uuid) -> bool {
        self.revoked
            .lock()
            .expect("revoked sessions lock")
            .seen
            .contains_key(&session)
    }

    /// Record a revoked session and tell the subscriptions (the set first, so a subscription
    /// that subscribes then checks the set cannot miss it).
    pub fn revoke(&self, session: Uuid) {
        self.revoked
            .lock()
            .expect("revoked sessions lock")
            .insert(session);
        // No subscribers is fine.
        drop(self.revocations.send(session));
    }

    /// Resolves once `session` is revoked; never for a token without a session.
    pub fn revoked_session(&self, session: Option<Uuid>) -> impl Future<Output = ()> + use<> {
        // Subscribed now, before the subscription is handed out, so nothing is missed.
        let mut receiver = self.revocations.subscribe();
        let hub = self.clone();
        async move {
            let Some(session) = session else {
                return std::future::pending().await;
            };
            if hub.is_revoked(session) {
                return;
            }
            loop {
                match receiver.recv().await {
                    Ok(revoked) if revoked == session => return,
                    Ok(_) => {}
                    // Too many revocations went by unread: the set still has ours if it was one.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if hub.is_revoked(session) {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return std::future::pending().await;
                    }
                }
            }
        }
    }

    /// Consume `loan_topic` and `auth_topic` until `shutdown`, forwarding status changes and
    /// session revocations.
    pub async fn run(
        self,
        kafka: KafkaConfig,
        loan_topic: String,
        auth_topic: String,
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
        consumer.subscribe(&[&loan_topic, &auth_topic])?;
        let has_both = |consumer: &StreamConsumer| {
            consumer.assignment().is_ok_and(|assignment| {
                let topics: Vec<String> = assignment
                    .elements()
                    .iter()
                    .map(|p| p.topic().to_owned())
                    .collect();
                topics.contains(&loan_topic) && topics.contains(&auth_topic)
            })
        };
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                message = consumer.recv() => message,
                () = tokio::time::sleep(Duration::from_millis(100)), if !self.is_live() => {
                    self.assigned.store(has_both(&consumer), Ordering::Relaxed);
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
            if !self.is_live() {
                self.assigned.store(has_both(&consumer), Ordering::Relaxed);
            }
            let Ok(envelope) = Envelope::from_slice(message.payload().unwrap_or_default()) else {
                continue;
            };
            if envelope.is::<LoanStatusChangedV1>() {
                // The change's trace ends here, in this replica's fan-out to its subscribers.
                let span = tenor_events::consumer::event_span(&message, &envelope, "fan out");
                let _in_span = span.enter();
                match envelope.decode::<LoanStatusChangedV1>() {
                    // No subscribers is fine.
                    Ok(event) => drop(self.sender.send(event.into())),
                    Err(error) => tracing::warn!(%error, "undecodable loan.status.changed"),
                }
            } else if envelope.is::<SessionRevokedV1>() {
                match envelope.decode::<SessionRevokedV1>() {
                    Ok(event) => {
                        tracing::debug!(session_id = %event.session_id, "session revoked; ending its subscriptions");
                        self.revoke(event.session_id);
                    }
                    Err(error) => tracing::warn!(%error, "undecodable auth.session.revoked"),
                }
            }
        }
    }
}

/// The broadcast receiver as a stream; lagging subscribers skip what they missed.
fn changes_of(receiver: broadcast::Receiver<StatusChange>) -> impl Stream<Item = StatusChange> {
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
