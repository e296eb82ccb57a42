//! Transactional outbox and its relay to Kafka (docs/conventions.md § Events).
//!
//! [`enqueue`] writes an event in the caller's transaction, next to the state change it
//! describes: both commit or neither does. [`OutboxRelay`] then publishes pending rows in id
//! order and marks them. It wakes on the `tenor_outbox` notification that the insert trigger
//! fires at commit, and polls as a safety net.
//!
//! Delivery is at-least-once: a crash after Kafka acknowledged a batch but before the rows were
//! marked republishes that batch with the same event ids, and consumers drop the duplicates
//! (see [`crate::inbox`]). Only one relay publishes at a time (a transaction-scoped advisory
//! lock), so replicas never interleave one aggregate's events out of order.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures::StreamExt;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::db::PgPool;
use tenor_platform::telemetry::traces::{continue_trace, traceparent_of};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::envelope::Envelope;

diesel::table! {
    outbox_events (id) {
        id -> Int8,
        event_id -> Uuid,
        topic -> Text,
        partition_key -> Text,
        event_type -> Text,
        payload -> Jsonb,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

/// Structured-mode CloudEvents over Kafka carry this content type.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json";

/// Kafka header naming the relay's publish span, when spans are exported: the consumer's span
/// becomes its child, so a trace shows the hop through the outbox (the event itself keeps the
/// `traceparent` of the span that made it).
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Why an event could not be put in the outbox.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("building the event: {0}")]
    Envelope(#[from] crate::envelope::EnvelopeError),
    #[error("writing the outbox: {0}")]
    Outbox(#[from] diesel::result::Error),
}

/// A failed publish is a service error: the outbox write is a database error like any other
/// (so a retry on serialization failure sees it), a bad envelope is a publish error.
impl From<PublishError> for tenor_platform::refusal::ServiceError {
    fn from(error: PublishError) -> Self {
        match error {
            PublishError::Outbox(error) => Self::Database(error),
            PublishError::Envelope(error) => Self::Publish(Box::new(error)),
        }
    }
}

impl<R> From<PublishError> for tenor_platform::refusal::Failure<R> {
    fn from(error: PublishError) -> Self {
        Self::Error(error.into())
    }
}

/// Where one service's events go: its CloudEvents `source` and its topic (from configuration,
/// so tests can use their own).
#[derive(Debug, Clone)]
pub struct Publisher {
    source: &'static str,
    topic: String,
}

impl Publisher {
    pub fn new(source: &'static str, topic: impl Into<String>) -> Self {
        Self {
            source,
            topic: topic.into(),
        }
    }

    /// Enqueues `event` about the aggregate `subject` (also its Kafka key, so one aggregate's
    /// events stay ordered) inside the caller's open transaction.
    pub async fn publish<E: crate::envelope::DomainEvent>(
        &self,
        conn: &mut AsyncPgConnection,
        subject: Uuid,
        event: &E,
    ) -> Result<(), PublishError> {
        let envelope = Envelope::new(self.source, subject.to_string(), event, None)?;
        enqueue(conn, &self.topic, &envelope).await?;
        Ok(())
    }
}

/// Record `event` for publication on `topic`, inside the caller's open transaction. The Kafka
/// key is the event's subject (the aggregate id).
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    topic: &str,
    event: &Envelope,
) -> QueryResult<()> {
    let key = event.subject().unwrap_or_default().to_owned();
    diesel::insert_into(outbox_events::table)
        .values((
            outbox_events::event_id.eq(event.id()),
            outbox_events::topic.eq(topic),
            outbox_events::partition_key.eq(key),
            outbox_events::event_type.eq(event.event_type()),
            outbox_events::payload.eq(event.to_json()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Safety-net poll when no notification arrives (e.g. the listener reconnects).
    pub poll_interval: Duration,
    pub batch_size: i64,
    /// Published rows are kept this long for audit and replay, then deleted.
    pub retention: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            batch_size: 500,
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl RelayConfig {
    /// `OUTBOX_POLL_INTERVAL` (500ms), `OUTBOX_BATCH_SIZE` (500), `OUTBOX_RETENTION` (7days).
    pub fn from_env(env: &mut Env) -> Self {
        let default = Self::default();
        Self {
            poll_interval: env
                .optional("OUTBOX_POLL_INTERVAL", HumanDuration(default.poll_interval))
                .into(),
            batch_size: env.optional("OUTBOX_BATCH_SIZE", default.batch_size),
            retention: env
                .optional("OUTBOX_RETENTION", HumanDuration(default.retention))
                .into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// An arbitrary constant shared by every relay of one database.
const RELAY_LOCK: i64 = 0x7ea0_0002;

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(Queryable)]
struct Pending {
    id: i64,
    event_id: Uuid,
    topic: String,
    partition_key: String,
    payload: serde_json::Value,
}

pub struct OutboxRelay {
    pool: PgPool,
    database_url: String,
    producer: FutureProducer,
    config: RelayConfig,
}

impl OutboxRelay {
    pub fn new(
        pool: PgPool,
        database_url: impl Into<String>,
        producer: FutureProducer,
        config: RelayConfig,
    ) -> Self {
        Self {
            pool,
            database_url: database_url.into(),
            producer,
            config,
        }
    }

    /// Relay until `shutdown` is cancelled. Errors are logged and retried: the rows stay in the
    /// outbox, so nothing is lost while Kafka or PostgreSQL is away.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = None;
        let mut last_cleanup = std::time::Instant::now();
        loop {
            let drained = match self.publish_pending().await {
                Ok(count) => count < self.config.batch_size as usize,
                Err(error) => {
                    tracing::warn!(%error, "outbox relay failed; retrying");
                    true
                }
            };
            if last_cleanup.elapsed() > Duration::from_secs(3600) {
                last_cleanup = std::time::Instant::now();
                if let Err(error) = self
                    .delete_published_before(Utc::now() - self.config.retention)
                    .await
                {
                    tracing::warn!(%error, "outbox cleanup failed");
                }
            }
            if !drained {
                continue;
            }
            if listener.is_none() {
                listener = self.listen().await;
            }
            let notified = async {
                match listener.as_mut() {
                    Some(conn) => {
                        let mut stream = std::pin::pin!(conn.notifications_stream());
                        stream.next().await.is_some_and(|n| n.is_ok())
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                alive = notified => if !alive { listener = None },
                () = tokio::time::sleep(self.config.poll_interval) => {},
            }
        }
    }

    async fn listen(&self) -> Option<AsyncPgConnection> {
        let mut conn = AsyncPgConnection::establish(&self.database_url)
            .await
            .inspect_err(|error| tracing::warn!(%error, "outbox listener unavailable; polling"))
            .ok()?;
        diesel::sql_query("LISTEN tenor_outbox")
            .execute(&mut conn)
            .await
            .ok()?;
        Some(conn)
    }

    /// Publish one batch of pending events; returns how many were published (0 also when
    /// another relay holds the lock).
    pub async fn publish_pending(&self) -> Result<usize, RelayError> {
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| RelayError::Pool(e.to_string()))?;
        let producer = &self.producer;
        let batch_size = self.config.batch_size;
        conn.transaction::<_, RelayError, _>(async |conn| {
            let Locked { locked } = diesel::sql_query(format!(
                "SELECT pg_try_advisory_xact_lock({RELAY_LOCK}) AS locked"
            ))
            .get_result(conn)
            .await?;
            if !locked {
                return Ok(0);
            }
            let pending: Vec<Pending> = outbox_events::table
                .filter(outbox_events::published_at.is_null())
                .order(outbox_events::id)
                .limit(batch_size)
                .select((
                    outbox_events::id,
                    outbox_events::event_id,
                    outbox_events::topic,
                    outbox_events::partition_key,
                    outbox_events::payload,
                ))
                .load(conn)
                .await?;
            if pending.is_empty() {
                return Ok(0);
            }
            publish_in_order(producer, &pending).await?;
            let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
            diesel::update(outbox_events::table.filter(outbox_events::id.eq_any(&ids)))
                .set(outbox_events::published_at.eq(Utc::now()))
                .execute(conn)
                .await?;
            metrics::counter!("outbox_events_published_total").increment(ids.len() as u64);
            Ok(ids.len())
        })
        .await
    }

    async fn delete_published_before(&self, cutoff: DateTime<Utc>) -> Result<usize, RelayError> {
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| RelayError::Pool(e.to_string()))?;
        Ok(
            diesel::delete(outbox_events::table.filter(outbox_events::published_at.lt(cutoff)))
                .execute(&mut conn)
                .await?,
        )
    }
}

/// Hand the whole batch to the producer at once, then wait for every acknowledgement.
async fn publish_in_order(
    producer: &FutureProducer,
    pending: &[Pending],
) -> Result<(), RelayError> {
    let outgoing: Vec<Outgoing<'_>> = pending
        .iter()
        .map(|p| Outgoing {
            topic: &p.topic,
            key: &p.partition_key,
            event_id: p.event_id.to_string(),
            payload: p.payload.to_string().into_bytes(),
            trace: EventTrace::of(&p.payload),
        })
        .collect();
    Ok(send_in_order(producer, &outgoing).await?)
}

/// One enveloped event on its way to Kafka: what every relay (this one, and the MongoDB one in
/// [`crate::mongo_outbox`]) hands to [`send_in_order`].
pub(crate) struct Outgoing<'a> {
    pub topic: &'a str,
    /// The aggregate id, so one aggregate's events stay on one partition, in order.
    pub key: &'a str,
    pub event_id: String,
    /// The CloudEvent in JSON structured mode.
    pub payload: Vec<u8>,
    /// What the relay's publish span is named after and continues.
    pub trace: EventTrace,
}

/// What the relay's publish span needs from a CloudEvent: its type and the span that made it.
#[derive(Debug, Default)]
pub(crate) struct EventTrace {
    event_type: String,
    traceparent: Option<String>,
}

impl EventTrace {
    pub fn of(event: &serde_json::Value) -> Self {
        let text = |name: &str| event.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Self {
            event_type: text("type").unwrap_or_default(),
            traceparent: text("traceparent"),
        }
    }

    /// A span from now until the broker acknowledged, in the event's trace; its `traceparent`
    /// when spans are exported.
    fn publish_span(&self, event_id: &str, topic: &str) -> (tracing::Span, Option<String>) {
        let span = tracing::info_span!(
            "publish",
            otel.name = format!("publish {}", self.event_type),
            otel.kind = "producer",
            event_id,
            event_type = self.event_type.as_str(),
            topic,
        );
        continue_trace(&span, self.traceparent.as_deref());
        let traceparent = traceparent_of(&span);
        (span, traceparent)
    }
}

/// Send every event at once with the CloudEvents headers, then wait for every acknowledgement.
/// The idempotent producer keeps per-partition order even with several requests in flight, so
/// events keep the order of `events`.
pub(crate) async fn send_in_order(
    producer: &FutureProducer,
    events: &[Outgoing<'_>],
) -> Result<(), rdkafka::error::KafkaError> {
    let mut deliveries = Vec::with_capacity(events.len());
    // Each event's publish span ends when this function returns: after every acknowledgement.
    let mut spans = Vec::with_capacity(events.len());
    for event in events {
        let (span, traceparent) = event.trace.publish_span(&event.event_id, event.topic);
        spans.push(span);
        let mut headers = OwnedHeaders::new()
            .insert(Header {
                key: "content-type",
                value: Some(CLOUDEVENTS_JSON),
            })
            .insert(Header {
                key: "ce_id",
                value: Some(event.event_id.as_str()),
            });
        if let Some(traceparent) = &traceparent {
            headers = headers.insert(Header {
                key: TRACEPARENT_HEADER,
                value: Some(traceparent.as_str()),
            });
        }
        let record = FutureRecord::to(event.topic)
            .key(event.key)
            .payload(&event.payload)
            .headers(headers);
        match producer.send_result(record) {
            Ok(delivery) => deliveries.push(delivery),
            Err((error, _)) => return Err(error),
        }
    }
    for delivery in deliveries {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((error, _))) => return Err(error),
            Err(_) => return Err(rdkafka::error::KafkaError::Canceled),
        }
    }
    Ok(())
}
