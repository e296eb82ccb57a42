//! New inbox items for subscribers: the hub the `notificationReceived` subscription
//! (`schema/subscriptions.rs`) listens to. It knows nothing of GraphQL.
//!
//! Every notification process reads `notification.events` and `auth.events` with a consumer
//! group of its own (`tenor-notification-live-<uuid>`, from the latest offset, never
//! committing), so every replica sees every new item whichever replica took the event in, and
//! fans `notification.inbox.added` out to its local subscribers through a broadcast channel (a
//! subscriber too slow to keep up skips what it missed and carries on); `auth.session.revoked`
//! ends every local subscription opened with a token of that session. Same approach as loan's
//! `loanStatusChanged`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::Stream;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use tenor_contracts::identity::SessionRevokedV1;
use tenor_events::Envelope;
use tenor_events::kafka::KafkaConfig;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::publish::NotificationInboxAddedV1;

/// One new item as the hub hands it out: whose and which (a subscriber reads the item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemAdded {
    pub item_id: Uuid,
    pub user_id: Uuid,
}

/// How long a revoked session id is remembered, so a subscription opened with one of its
/// tokens after the event arrived is refused too; longer than any access token lives.
const REVOKED_RETENTION: Duration = Duration::from_secs(60 * 60);

#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<ItemAdded>,
    revocations: broadcast::Sender<Uuid>,
    revoked: Arc<Mutex<HashMap<Uuid, Instant>>>,
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

    /// Whether `session` was revoked (since this process started, within the retention).
    pub fn is_revoked(&self, session: Uuid) -> bool {
        self.revoked
            .lock()
            .expect("revoked sessions lock")
            .contains_key(&session)
    }

    /// Record a revoked session and tell the subscriptions (the set first, so a subscription
    /// that subscribes then checks the set cannot miss it).
    pub fn revoke(&self, session: Uuid) {
        {
            let mut revoked = self.revoked.lock().expect("revoked sessions lock");
            let now = Instant::now();
            revoked.retain(|_, at| now.duration_since(*at) < REVOKED_RETENTION);
            revoked.insert(session, now);
        }
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
            loop {
                if hub.is_revoked(session) {
                    return;
                }
                match receiver.recv().await {
                    Ok(revoked) if revoked == session => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => {
                        return std::future::pending().await;
                    }
                }
            }
        }
    }

    /// Every new item from now on.
    pub fn items(&self) -> impl Stream<Item = ItemAdded> + use<> {
        futures::stream::unfold(self.sender.subscribe(), |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(item) => return Some((item, receiver)),
                    Err(broadcast::error::RecvError::Lagged(skipped)) => {
                        tracing::warn!(skipped, "slow subscriber skipped inbox items");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// True once the Kafka consumer has partitions (before that, items are missed).
    pub fn is_live(&self) -> bool {
        self.assigned.load(Ordering::Relaxed)
    }

    /// Consume `topic` (notification's) and `auth_topic` until `shutdown`, forwarding new inbox
    /// items and session revocations.
    pub async fn run(
        self,
        kafka: KafkaConfig,
        topic: String,
        auth_topic: String,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &kafka.brokers)
            .set("client.id", &kafka.client_id)
            .set(
                "group.id",
                format!("tenor-notification-live-{}", Uuid::new_v4()),
            )
            // Only what happens from now on matters to a live subscriber.
            .set("auto.offset.reset", "latest")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .create()?;
        consumer.subscribe(&[&topic, &auth_topic])?;
        let assigned = |consumer: &StreamConsumer| {
            consumer.assignment().is_ok_and(|assignment| {
                let topics: Vec<String> = assignment
                    .elements()
                    .iter()
                    .map(|p| p.topic().to_owned())
                    .collect();
                topics.contains(&topic) && topics.contains(&auth_topic)
            })
        };
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                message = consumer.recv() => message,
                () = tokio::time::sleep(Duration::from_millis(100)), if !self.is_live() => {
                    self.assigned.store(assigned(&consumer), Ordering::Relaxed);
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
                self.assigned.store(assigned(&consumer), Ordering::Relaxed);
            }
            let Ok(envelope) = Envelope::from_slice(message.payload().unwrap_or_default()) else {
                continue;
            };
            if envelope.is::<NotificationInboxAddedV1>() {
                match envelope.decode::<NotificationInboxAddedV1>() {
                    // No subscribers is fine.
                    Ok(event) => drop(self.sender.send(ItemAdded {
                        item_id: event.notification_id,
                        user_id: event.user_id,
                    })),
                    Err(error) => tracing::warn!(%error, "undecodable notification.inbox.added"),
                }
            } else if envelope.is::<SessionRevokedV1>() {
                match envelope.decode::<SessionRevokedV1>() {
                    Ok(event) => self.revoke(event.session_id),
                    Err(error) => tracing::warn!(%error, "undecodable auth.session.revoked"),
                }
            }
        }
    }
}
