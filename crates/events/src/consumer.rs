//! Consuming events: at-least-once delivery made effectively-once by idempotent handlers,
//! offsets committed only after the effect is durable, bounded retries with backoff, and a
//! dead-letter topic for what cannot be handled.
//!
//! A message that keeps failing goes to `<topic>.dlq` with the error, and the consumer moves on:
//! a poison message never blocks its partition for longer than the retry budget.
//!
//! Events of one key (one aggregate: a loan, a user) are applied one at a time in the order
//! they were published ([`KeyQueues`]); events of different keys are applied side by side, up to
//! `CONSUMER_CONCURRENCY` at once. Kafka promises order per partition, but what needs order is the
//! aggregate, and a partition holds many: a burst of decisions for a thousand loans no longer
//! waits on one transaction at a time. The committed offset of a partition moves only past
//! messages that are all finished ([`Progress`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::request::RequestContext;
use tenor_platform::telemetry::traces::continue_trace;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::aggregates::KeyQueues;
use crate::envelope::Envelope;
use crate::kafka::{KafkaConfig, consumer_config, producer};
use crate::outbox::TRACEPARENT_HEADER;
use crate::progress::Progress;
use crate::trace::TraceParent;

/// What a handler reports when it could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth trying again (a database blip, a lock timeout).
    #[error("{0}")]
    Retryable(anyhow::Error),
    /// Will never succeed (the event contradicts our state): straight to the DLQ.
    #[error("{0}")]
    Permanent(anyhow::Error),
}

impl HandlerError {
    pub fn retryable(error: impl Into<anyhow::Error>) -> Self {
        Self::Retryable(error.into())
    }
    pub fn permanent(error: impl Into<anyhow::Error>) -> Self {
        Self::Permanent(error.into())
    }
}

impl From<diesel::result::Error> for HandlerError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Retryable(error.into())
    }
}

/// Applies one event. Must be idempotent: the same event may arrive more than once.
#[async_trait]
pub trait EventHandler: Send + Sync {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError>;
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub kafka: KafkaConfig,
    pub group_id: String,
    pub topics: Vec<String>,
    /// Attempts per message before it is dead-lettered (≥ 1).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How long the group waits for a member that stopped heartbeating (a killed process)
    /// before giving its partitions to the others — or to its own restart, which otherwise
    /// waits that long too.
    pub session_timeout: Duration,
    /// Events (of different keys) applied at once (≥ 1). Each holds at most one database
    /// connection while it is applied.
    pub concurrency: usize,
    /// Static group membership (`group.instance.id`): this replica's stable name, unique among
    /// the replicas of its service. The coordinator keeps the member's partitions for it until
    /// its session expires, and a rejoin under the same name gets them back at once, without
    /// a rebalance — after a restart of the replica, or when a broker outage outlasted the
    /// session. The cost: a member that stops for good (scaled down, renamed) hands its
    /// partitions over only when its session expires (docs/events.md § Static membership).
    /// `None`: dynamic membership, a clean shutdown hands partitions over at once.
    pub instance_id: Option<String>,
}

/// librdkafka's default is 45 s: a killed consumer's partitions (and its restart) would stall
/// that long. 10 s with the default 3 s heartbeat still tolerates a couple of lost heartbeats.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Four at once keep two cores busy while a handler waits on PostgreSQL, and leave most of a
/// service's default pool of ten connections to requests.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Messages held back behind an earlier event of their aggregate, at most. Past it the consumer
/// stops reading until they drain: memory stays bounded while one aggregate's event retries.
const MAX_WAITING: usize = 256;

impl ConsumerConfig {
    /// `CONSUMER_MAX_ATTEMPTS` (5), `CONSUMER_INITIAL_BACKOFF` (200ms), `CONSUMER_MAX_BACKOFF` (10s),
    /// `CONSUMER_SESSION_TIMEOUT` (10s; the broker accepts 6s–30min by default),
    /// `CONSUMER_CONCURRENCY` (4 events at once), `CONSUMER_INSTANCE_ID` (empty: dynamic
    /// membership), and `CONSUMER_GROUP_PREFIX` (empty): put before `group_id`, so two deployments (or test
    /// stacks) sharing one Kafka cluster do not join each other's consumer groups — a member
    /// killed in one would otherwise stall the other's partitions until its session times out.
    pub fn from_env(env: &mut Env, kafka: KafkaConfig, group_id: &str, topics: &[&str]) -> Self {
        let max_attempts = env.optional("CONSUMER_MAX_ATTEMPTS", 5u32);
        if max_attempts == 0 {
            env.fail("CONSUMER_MAX_ATTEMPTS", "must be at least 1".to_owned());
        }
        let concurrency = env.optional("CONSUMER_CONCURRENCY", DEFAULT_CONCURRENCY);
        if concurrency == 0 {
            env.fail("CONSUMER_CONCURRENCY", "must be at least 1".to_owned());
        }
        let prefix = env.optional("CONSUMER_GROUP_PREFIX", String::new());
        let instance_id = env.optional("CONSUMER_INSTANCE_ID", String::new());
        if !instance_id.is_empty() && !is_valid_instance_id(&instance_id) {
            env.fail(
                "CONSUMER_INSTANCE_ID",
                "must be at most 249 of A-Z a-z 0-9 . _ -".to_owned(),
            );
        }
        Self {
            kafka,
            group_id: format!("{prefix}{group_id}"),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            max_attempts,
            initial_backoff: env
                .optional(
                    "CONSUMER_INITIAL_BACKOFF",
                    HumanDuration(Duration::from_millis(200)),
                )
                .into(),
            max_backoff: env
                .optional(
                    "CONSUMER_MAX_BACKOFF",
                    HumanDuration(Duration::from_secs(10)),
                )
                .into(),
            session_timeout: env
                .optional(
                    "CONSUMER_SESSION_TIMEOUT",
                    HumanDuration(DEFAULT_SESSION_TIMEOUT),
                )
                .into(),
            concurrency,
            instance_id: Some(instance_id).filter(|id| !id.is_empty()),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Kafka checks a `group.instance.id` as it checks a topic name; refusing a bad one here turns a
/// broker's `InvalidConfiguration` at the first join into an error at start-up.
fn is_valid_instance_id(id: &str) -> bool {
    id.len() <= 249
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The dead-letter topic of `topic`.
pub fn dlq_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// Header names on dead-lettered messages.
pub mod dlq_headers {
    pub const ERROR: &str = "tenor-error";
    pub const ATTEMPTS: &str = "tenor-attempts";
    pub const ORIGINAL_TOPIC: &str = "tenor-original-topic";
    pub const ORIGINAL_PARTITION: &str = "tenor-original-partition";
    pub const ORIGINAL_OFFSET: &str = "tenor-original-offset";
    pub const CONSUMER_GROUP: &str = "tenor-consumer-group";
}

pub struct EventConsumer {
    consumer: StreamConsumer,
    dlq: FutureProducer,
    config: ConsumerConfig,
}

/// Why a consumer's session ended.
enum Ended {
    ShutDown,
    /// The client is unusable: e.g. fenced, as a static member, by a newer member under its
    /// instance id — which librdkafka also does to the member itself when it rejoins after its
    /// session timed out (librdkafka issue #3437).
    Fatal(RDKafkaErrorCode),
}

enum Outcome {
    Applied,
    DeadLetter { error: String, attempts: u32 },
    ShuttingDown,
}

impl EventConsumer {
    pub fn new(config: ConsumerConfig) -> rdkafka::error::KafkaResult<Self> {
        let mut client = consumer_config(&config.kafka);
        if let Some(instance_id) = &config.instance_id {
            client.set("group.instance.id", instance_id);
        }
        let consumer: StreamConsumer = client
            .set("group.id", &config.group_id)
            // A new group starts at the beginning: no event published before a service's first
            // start is skipped.
            .set("auto.offset.reset", "earliest")
            // Offsets are stored by us only after the effect is durable, then committed in the
            // background; a crash in between means a redelivery, which the handler absorbs.
            .set("enable.auto.offset.store", "false")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.partition.eof", "false")
            .set(
                "session.timeout.ms",
                config.session_timeout.as_millis().to_string(),
            )
            .create()?;
        let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        let dlq = producer(&config.kafka)?;
        Ok(Self {
            consumer,
            dlq,
            config,
        })
    }

    /// Consume until `shutdown` is cancelled, then commit what was handled. A client that fails
    /// fatally (librdkafka gives up on it for good) is replaced by a new one with the same
    /// configuration, as a restarted process would be.
    pub async fn run(self, handler: Arc<dyn EventHandler>, shutdown: CancellationToken) {
        let mut this = self;
        loop {
            let config = this.config.clone();
            match Arc::new(this)
                .session(handler.clone(), shutdown.clone())
                .await
            {
                Ended::ShutDown => return,
                Ended::Fatal(error) => {
                    tracing::error!(
                        %error,
                        group = %config.group_id,
                        instance_id = config.instance_id.as_deref().unwrap_or_default(),
                        "kafka consumer failed fatally; replacing it with a new one (fenced: \
                         another member took its CONSUMER_INSTANCE_ID, or its session lapsed)"
                    );
                    match Self::replacement(config, &shutdown).await {
                        Some(replacement) => this = replacement,
                        None => return,
                    }
                }
            }
        }
    }

    /// A new consumer on `config`, once one can be created (a second's pause between tries);
    /// `None` on shutdown.
    async fn replacement(config: ConsumerConfig, shutdown: &CancellationToken) -> Option<Self> {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            match Self::new(config.clone()) {
                Ok(consumer) => return Some(consumer),
                Err(error) => tracing::error!(%error, "creating the replacement consumer failed"),
            }
        }
    }

    /// One client's life: consume until shutdown or until the client fails fatally; either way
    /// the events being applied finish first.
    async fn session(
        self: Arc<Self>,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Ended {
        let limit = self.config.concurrency.max(1);
        let mut progress = Progress::default();
        let mut queues = KeyQueues::default();
        let mut running = JoinSet::new();
        let start = |running: &mut JoinSet<_>, message: OwnedMessage| {
            running.spawn(
                self.clone()
                    .handle(message, handler.clone(), shutdown.clone()),
            );
        };
        let ended = loop {
            let room = running.len() < limit && queues.waiting() < MAX_WAITING;
            tokio::select! {
                () = shutdown.cancelled() => break Ended::ShutDown,
                Some(done) = running.join_next() => {
                    if let Some(message) = self.settle(done, &mut progress)
                        && let Some(next) = queues.finish(&key_of(&message))
                    {
                        start(&mut running, next);
                    }
                }
                received = self.consumer.recv(), if room => {
                    let message = match received {
                        Ok(message) => message.detach(),
                        Err(KafkaError::MessageConsumptionFatal(code)) => break Ended::Fatal(code),
                        Err(error) => {
                            receive_failed(&error).await;
                            continue;
                        }
                    };
                    progress.received(message.topic(), message.partition(), message.offset());
                    if let Some(message) = queues.admit(key_of(&message), message) {
                        start(&mut running, message);
                    }
                }
            }
        };
        // Events being applied finish (a retry's wait ends at once on shutdown); what waits
        // behind them is not started, not stored, and redelivered to whoever consumes next.
        while let Some(done) = running.join_next().await {
            self.settle(done, &mut progress);
        }
        if matches!(ended, Ended::ShutDown)
            && let Err(error) = self.consumer.commit_consumer_state(CommitMode::Sync)
        {
            // Nothing stored yet (KafkaError::ConsumerCommit(NoOffset)) is normal here.
            tracing::debug!(%error, "final commit");
        }
        ended
    }

    /// Apply (or dead-letter) one message; whether it is finished, so its offset may count as
    /// done. Not when shutdown came first: the message is redelivered after the restart.
    async fn handle(
        self: Arc<Self>,
        message: OwnedMessage,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> (OwnedMessage, bool) {
        let finished = match self.process(&message, handler.as_ref(), &shutdown).await {
            Outcome::Applied => true,
            Outcome::DeadLetter { error, attempts } => {
                self.dead_letter(&message, &error, attempts, &shutdown)
                    .await
            }
            Outcome::ShuttingDown => false,
        };
        (message, finished)
    }

    /// The outcome of one [`Self::handle`]: a finished message has its partition's committable
    /// offset stored (the background auto-commit sends it) and is returned; a handler's panic
    /// goes on up, as it did before handlers ran as tasks.
    fn settle(
        &self,
        done: Result<(OwnedMessage, bool), tokio::task::JoinError>,
        progress: &mut Progress,
    ) -> Option<OwnedMessage> {
        let (message, finished) =
            done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        if !finished {
            return None;
        }
        let (topic, partition) = (message.topic(), message.partition());
        if let Some(offset) = progress.finished(topic, partition, message.offset())
            && let Err(error) = self.consumer.store_offset(topic, partition, offset)
        {
            // A partition taken away by a rebalance refuses: its new owner redelivers.
            tracing::warn!(%error, topic, partition, "storing offset failed");
        }
        Some(message)
    }

    async fn process(
        &self,
        message: &OwnedMessage,
        handler: &dyn EventHandler,
        shutdown: &CancellationToken,
    ) -> Outcome {
        let envelope = match Envelope::from_slice(message.payload().unwrap_or_default()) {
            Ok(envelope) => envelope,
            Err(error) => {
                return Outcome::DeadLetter {
                    error: error.to_string(),
                    attempts: 0,
                };
            }
        };
        let span = event_span(message, &envelope, "consume");
        let parent = parent_span(message, &envelope);
        // The handler runs as part of the request that caused the event: what it publishes
        // continues the same trace and names the same request id (docs/architecture.md § An
        // event, end to end), with or without exported spans.
        let context = RequestContext {
            request_id: envelope.request_id(),
            traceparent: parent.map(|t| t.as_str().to_owned()),
            user_id: None,
        };
        context
            .scope(self.attempts(&envelope, handler, shutdown).instrument(span))
            .await
    }

    async fn attempts(
        &self,
        envelope: &Envelope,
        handler: &dyn EventHandler,
        shutdown: &CancellationToken,
    ) -> Outcome {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match handler.handle(envelope).await {
                Ok(()) => {
                    metrics::counter!("events_handled_total", "type" => envelope.event_type().to_owned())
                        .increment(1);
                    // Inside the event's span (event id, type, trace id, request id).
                    tracing::info!(attempt, "event handled");
                    return Outcome::Applied;
                }
                Err(HandlerError::Permanent(error)) => {
                    return Outcome::DeadLetter {
                        error: format!("{error:#}"),
                        attempts: attempt,
                    };
                }
                Err(HandlerError::Retryable(error)) if attempt >= self.config.max_attempts => {
                    return Outcome::DeadLetter {
                        error: format!("{error:#}"),
                        attempts: attempt,
                    };
                }
                Err(HandlerError::Retryable(error)) => {
                    tracing::warn!(attempt, error = %format!("{error:#}"), "handler failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return Outcome::ShuttingDown,
                        () = tokio::time::sleep(self.config.backoff(attempt)) => {},
                    }
                }
            }
        }
    }

    /// Publish to the DLQ, retrying until it works: the offset must not move past a message
    /// that is neither applied nor parked. Returns false on shutdown.
    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        error: &str,
        attempts: u32,
        shutdown: &CancellationToken,
    ) -> bool {
        let topic = dlq_topic(message.topic());
        let attempts = attempts.to_string();
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        tracing::error!(%topic, %error, attempts, "event dead-lettered");
        metrics::counter!("events_dead_lettered_total", "topic" => message.topic().to_owned())
            .increment(1);
        let mut failures = 0u32;
        loop {
            let mut headers = OwnedHeaders::new();
            if let Some(original) = message.headers() {
                for header in original.iter() {
                    headers = headers.insert(header);
                }
            }
            let headers = headers
                .insert(header(dlq_headers::ERROR, error))
                .insert(header(dlq_headers::ATTEMPTS, &attempts))
                .insert(header(dlq_headers::ORIGINAL_TOPIC, message.topic()))
                .insert(header(dlq_headers::ORIGINAL_PARTITION, &partition))
                .insert(header(dlq_headers::ORIGINAL_OFFSET, &offset))
                .insert(header(dlq_headers::CONSUMER_GROUP, &self.config.group_id));
            let mut record = FutureRecord::to(&topic)
                .payload(message.payload().unwrap_or_default())
                .headers(headers);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            match self.dlq.send(record, Duration::from_secs(10)).await {
                Ok(_) => return true,
                Err((kafka_error, _)) => {
                    failures += 1;
                    tracing::error!(%kafka_error, "publishing to the DLQ failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return false,
                        () = tokio::time::sleep(self.config.backoff(failures)) => {},
                    }
                }
            }
        }
    }
}

/// What a consumer does with an error `recv` hands it instead of a message. librdkafka reports
/// every failed attempt to reach a broker this way and retries by itself, so these are only
/// logged: waiting after each would, once the broker is back, replay the outage's errors one
/// wait at a time before the first message (seconds after a broker restart). A fatal error
/// leaves the consumer unusable; a pause keeps that from flooding the log.
pub(crate) async fn receive_failed(error: &KafkaError) {
    if matches!(error, KafkaError::MessageConsumptionFatal(_)) {
        tracing::error!(%error, "kafka consumer failed fatally");
        tokio::time::sleep(Duration::from_secs(1)).await;
    } else {
        tracing::warn!(%error, "kafka receive failed; librdkafka retries");
    }
}

/// The span of handling one event (its id, type, trace id and request id on every log line
/// inside), named `<action> <event type>` in its trace — which it continues, see
/// [`parent_span`]. Also for consumers outside [`EventConsumer`], such as a replica's live
/// fan-out.
pub fn event_span(message: &impl Message, envelope: &Envelope, action: &str) -> tracing::Span {
    let parent = parent_span(message, envelope);
    let span = tracing::info_span!(
        "event",
        otel.name = format!("{action} {}", envelope.event_type()),
        otel.kind = "consumer",
        event_id = %envelope.id(),
        event_type = envelope.event_type(),
        trace_id = parent.as_ref().map(|t| t.trace_id().to_owned()).unwrap_or_default(),
        request_id = envelope.request_id().unwrap_or_default(),
    );
    continue_trace(&span, parent.as_ref().map(TraceParent::as_str));
    span
}

/// The span this event's handling continues: the relay's publish span when the producer exported
/// one (Kafka header `traceparent`, same trace as the event), else the span that made the event
/// (the envelope's `traceparent`).
fn parent_span(message: &impl Message, envelope: &Envelope) -> Option<TraceParent> {
    let made = envelope.traceparent();
    let published = message
        .headers()
        .and_then(|headers| {
            headers
                .iter()
                .find(|header| header.key == TRACEPARENT_HEADER)
        })
        .and_then(|header| std::str::from_utf8(header.value?).ok())
        .and_then(TraceParent::parse)
        .filter(|published| {
            made.as_ref()
                .is_some_and(|made| made.trace_id() == published.trace_id())
        });
    published.or(made)
}

/// What orders `message` among others: its key (the aggregate), or, without one, its partition.
fn key_of(message: &OwnedMessage) -> Vec<u8> {
    match message.key() {
        Some(key) => [b"k:", key].concat(),
        None => format!("p:{}/{}", message.topic(), message.partition()).into_bytes(),
    }
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let config = ConsumerConfig {
            kafka: KafkaConfig {
                brokers: String::new(),
                client_id: String::new(),
            },
            group_id: String::new(),
            topics: vec![],
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            instance_id: None,
        };
        assert_eq!(config.backoff(1), Duration::from_millis(100));
        assert_eq!(config.backoff(2), Duration::from_millis(200));
        assert_eq!(config.backoff(3), Duration::from_millis(350));
        assert_eq!(config.backoff(40), Duration::from_millis(350));
    }

    #[test]
    fn an_instance_id_is_checked_as_kafka_checks_it() {
        assert!(is_valid_instance_id("tenor-loan-0"));
        assert!(is_valid_instance_id("loan_7.prod"));
        assert!(!is_valid_instance_id("loan 0"));
        assert!(!is_valid_instance_id("loan/0"));
        assert!(!is_valid_instance_id(&"a".repeat(250)));
    }
}
