//! The relay: poll documents with pending events, publish each document's events in order,
//! wait for Kafka's acknowledgement, then remove exactly those events from the document.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Collection, Database, IndexModel};
use rdkafka::producer::FutureProducer;
use tenor_platform::config::{Env, HumanDuration};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::lease::{Held, Leases};
use super::{OUTBOX_FIELD, PENDING_FIELD};
use crate::outbox::{EventTrace, Outgoing, send_in_order};

/// Documents published and marked at once within a round.
const DOCUMENTS_IN_FLIGHT: usize = 32;

#[derive(Debug, Clone)]
pub struct MongoRelayConfig {
    /// How often to look for pending events when nobody rang.
    pub poll_interval: Duration,
    /// Documents read per collection per round.
    pub batch_size: i64,
    /// How long a relay's claim on a collection lasts; one that dies holding it delays that
    /// collection's events this long. Longer than a Kafka send may take (30 s).
    pub lease: Duration,
}

impl Default for MongoRelayConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            batch_size: 100,
            lease: Duration::from_secs(60),
        }
    }
}

impl MongoRelayConfig {
    /// `OUTBOX_POLL_INTERVAL` (500ms), `OUTBOX_BATCH_SIZE` (100 documents), `OUTBOX_LEASE` (60s).
    pub fn from_env(env: &mut Env) -> Self {
        let default = Self::default();
        Self {
            poll_interval: env
                .optional("OUTBOX_POLL_INTERVAL", HumanDuration(default.poll_interval))
                .into(),
            batch_size: env.optional("OUTBOX_BATCH_SIZE", default.batch_size),
            lease: env
                .optional("OUTBOX_LEASE", HumanDuration(default.lease))
                .into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MongoRelayError {
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// One pending event as stored in a document's `outbox` array.
struct Stored {
    /// The entry exactly as read, to remove it by value (the local server's `$pull` takes no
    /// conditions, only values; `$pullAll` compares by value on MongoDB too).
    entry: Bson,
    id: String,
    topic: String,
    key: String,
    envelope: String,
}

pub struct MongoOutboxRelay {
    collections: Vec<Collection<Document>>,
    leases: Leases,
    producer: FutureProducer,
    config: MongoRelayConfig,
    wake: Arc<Notify>,
}

impl MongoOutboxRelay {
    /// Relay the pending events of `collections` in `db`. `wake` is the writer's doorbell
    /// ([`super::MongoPublisher::waker`]).
    pub fn new(
        db: &Database,
        collections: &[&str],
        producer: FutureProducer,
        config: MongoRelayConfig,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            collections: collections.iter().map(|c| db.collection(c)).collect(),
            leases: Leases::new(db, config.lease),
            producer,
            config,
            wake,
        }
    }

    /// The index the relay's poll uses, on every relayed collection. Idempotent.
    pub async fn ensure_indexes(&self) -> Result<(), MongoRelayError> {
        for collection in &self.collections {
            let index = IndexModel::builder()
                .keys(doc! { PENDING_FIELD: 1 })
                .build();
            collection.create_index(index).await?;
        }
        Ok(())
    }

    /// Relay until `shutdown` is cancelled. Errors are logged and retried: the events stay in
    /// their documents, so nothing is lost while Kafka or MongoDB is away.
    pub async fn run(self, shutdown: CancellationToken) {
        if let Err(error) = self.ensure_indexes().await {
            tracing::warn!(%error, "mongo outbox index not created; polling without it");
        }
        loop {
            let drained = match self.publish_pending().await {
                Ok(documents) => documents < self.config.batch_size as usize,
                Err(error) => {
                    tracing::warn!(%error, "mongo outbox relay failed; retrying");
                    true
                }
            };
            if !drained {
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {},
                () = tokio::time::sleep(self.config.poll_interval) => {},
            }
        }
    }

    /// One round over every collection: publish and mark the pending events of up to a batch
    /// of documents each. Returns the largest number of documents found in one collection.
    pub async fn publish_pending(&self) -> Result<usize, MongoRelayError> {
        self.round(true).await
    }

    /// A relay that crashes after Kafka acknowledged but before it marked anything: publishes
    /// the pending events and leaves them pending. For tests of that crash.
    #[cfg(feature = "test-support")]
    pub async fn publish_pending_without_marking(&self) -> Result<usize, MongoRelayError> {
        self.round(false).await
    }

    async fn round(&self, mark: bool) -> Result<usize, MongoRelayError> {
        let mut most = 0;
        for collection in &self.collections {
            let Some(held) = self.leases.acquire(collection.name()).await? else {
                continue;
            };
            let relayed = self.relay_collection(collection, &held, mark).await;
            self.leases.release(held).await?;
            most = most.max(relayed?);
        }
        Ok(most)
    }

    /// Under the collection's lease: publish and mark up to a batch of documents, stopping
    /// early when the lease gets old. Returns how many documents were found.
    async fn relay_collection(
        &self,
        collection: &Collection<Document>,
        held: &Held,
        mark: bool,
    ) -> Result<usize, MongoRelayError> {
        let documents = self.pending_documents(collection).await?;
        let found = documents.len();
        // Documents are independent aggregates: their events go out side by side (each
        // document's own events still in order, acknowledged before that document is marked),
        // so one round costs a few round trips, not a few per document.
        futures::stream::iter(documents)
            .take_while(|_| std::future::ready(std::time::Instant::now() <= held.renew_before))
            .map(|document| async move {
                let (id, events) = stored_events(&document);
                self.publish(&events).await?;
                if mark {
                    mark_published(collection, id, &events).await?;
                }
                Ok::<(), MongoRelayError>(())
            })
            .buffer_unordered(DOCUMENTS_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(found)
    }

    async fn pending_documents(
        &self,
        collection: &Collection<Document>,
    ) -> Result<Vec<Document>, MongoRelayError> {
        let documents = collection
            .find(doc! { PENDING_FIELD: true })
            .projection(doc! { OUTBOX_FIELD: 1 })
            .limit(self.config.batch_size)
            .await?
            .try_collect()
            .await?;
        Ok(documents)
    }

    /// Send one document's events in array order and wait for every acknowledgement.
    async fn publish(&self, events: &[Stored]) -> Result<(), MongoRelayError> {
        let outgoing: Vec<Outgoing<'_>> = events
            .iter()
            .map(|e| Outgoing {
                topic: &e.topic,
                key: &e.key,
                event_id: e.id.clone(),
                payload: e.envelope.clone().into_bytes(),
                trace: serde_json::from_str(&e.envelope)
                    .map(|event| EventTrace::of(&event))
                    .unwrap_or_default(),
            })
            .collect();
        send_in_order(&self.producer, &outgoing).await?;
        metrics::counter!("mongo_outbox_events_published_total").increment(events.len() as u64);
        Ok(())
    }
}

/// The document's `_id` and its well-formed pending events, in order. A malformed entry is
/// logged and left in place (it keeps the document pending, so it is seen, not dropped).
fn stored_events(document: &Document) -> (Bson, Vec<Stored>) {
    let id = document.get("_id").cloned().unwrap_or(Bson::Null);
    let entries = document.get_array(OUTBOX_FIELD).map(Vec::as_slice);
    let events = entries
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let stored = entry.as_document().and_then(|e| {
                Some(Stored {
                    entry: entry.clone(),
                    id: e.get_str("id").ok()?.to_owned(),
                    topic: e.get_str("topic").ok()?.to_owned(),
                    key: e.get_str("key").ok()?.to_owned(),
                    envelope: e.get_str("envelope").ok()?.to_owned(),
                })
            });
            if stored.is_none() {
                tracing::error!(document = %id, "malformed mongo outbox entry left in place");
            }
            stored
        })
        .collect();
    (id, events)
}

/// Remove exactly the published events. When the pending list is still exactly what was read,
/// one update empties it and clears the pending flag; otherwise (a writer added more meanwhile)
/// only the published entries go and the document stays pending for the next round.
async fn mark_published(
    collection: &Collection<Document>,
    id: Bson,
    events: &[Stored],
) -> Result<(), MongoRelayError> {
    let entries: Vec<Bson> = events.iter().map(|e| e.entry.clone()).collect();
    let cleared = collection
        .update_one(
            doc! { "_id": id.clone(), OUTBOX_FIELD: &entries },
            doc! { "$set": { OUTBOX_FIELD: [], PENDING_FIELD: false } },
        )
        .await?;
    if cleared.matched_count == 0 && !entries.is_empty() {
        collection
            .update_one(
                doc! { "_id": id },
                doc! { "$pullAll": { OUTBOX_FIELD: entries } },
            )
            .await?;
    }
    Ok(())
}
