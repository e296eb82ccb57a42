//! Kafka helpers for tests (feature `test-support`): fresh topics per test, publishing raw
//! bytes or envelopes, and reading a topic back from the beginning.

use std::sync::LazyLock;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tenor_platform::testing::kafka_brokers;
use uuid::Uuid;

use crate::envelope::Envelope;
use crate::kafka::{KafkaConfig, ensure_topics, producer};

pub fn kafka_config() -> KafkaConfig {
    KafkaConfig {
        brokers: kafka_brokers(),
        client_id: "tenor-tests".into(),
    }
}

/// A topic `test.<uuid>.<name>` with `partitions`, plus its DLQ.
pub async fn fresh_topic(name: &str, partitions: i32) -> String {
    let topic = format!("test.{}.{name}", Uuid::new_v4().simple());
    let dlq = crate::consumer::dlq_topic(&topic);
    ensure_topics(&kafka_brokers(), &[(&topic, partitions), (&dlq, 1)])
        .await
        .expect("creating test topics (is the stack up? `./dev up`)");
    topic
}

/// Publish raw bytes (what a buggy or foreign producer might send).
pub async fn publish_raw(topic: &str, key: &str, payload: &[u8]) {
    TEST_PRODUCER
        .send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("publishing");
}

/// One producer for every test publish in the process: a new producer first fetches the
/// cluster's metadata and connects, about half a second that a test (or a latency benchmark
/// timing from "published") would otherwise pay on every event. librdkafka runs it on its own
/// threads, so it serves every test's runtime.
static TEST_PRODUCER: LazyLock<FutureProducer> =
    LazyLock::new(|| producer(&kafka_config()).expect("producer"));

/// Publish an event keyed by its subject, as the outbox relay would.
pub async fn publish(topic: &str, envelope: &Envelope) {
    publish_raw(
        topic,
        envelope.subject().unwrap_or_default(),
        &envelope.to_bytes(),
    )
    .await;
}

/// A message as read back from Kafka.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: String,
    pub partition: i32,
    /// `None` when the payload is not a CloudEvent.
    pub envelope: Option<Envelope>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
    /// Kafka's timestamp (the producer's create time, in ms since the epoch): when the relay
    /// handed the event to Kafka — benchmarks measure each hop with it.
    pub timestamp_ms: Option<i64>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Read `topic` from the beginning until `done` says so or `timeout` passes.
pub async fn read_until(
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Received]) -> bool,
) -> Vec<Received> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka_brokers())
        .set("group.id", format!("reader-{}", Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(&received) {
        let Ok(message) = tokio::time::timeout_at(deadline, consumer.recv()).await else {
            break;
        };
        // librdkafka reports passing conditions as consumer errors too: a topic created a moment
        // ago that this client's metadata does not show yet, a broker that restarted and is
        // still loading its group coordinator. Seen once right after `./dev infra` started a
        // stopped Kafka. Keep reading until the deadline; a lasting fault shows as missing
        // messages in the test's own assertion, with these lines beside it.
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                eprintln!("reading {topic}: {error} (retrying until the deadline)");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let payload = message.payload().unwrap_or_default().to_vec();
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let value = String::from_utf8_lossy(h.value.unwrap_or_default());
                        (h.key.to_owned(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        received.push(Received {
            key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
            partition: message.partition(),
            envelope: Envelope::from_slice(&payload).ok(),
            payload,
            headers,
            timestamp_ms: message.timestamp().to_millis(),
        });
    }
    received
}

/// The CloudEvents among `received`.
pub fn envelopes(received: &[Received]) -> Vec<Envelope> {
    received.iter().filter_map(|r| r.envelope.clone()).collect()
}

/// The CloudEvents on `topic` from the beginning until `done` says so or `timeout` passes, each
/// checked to be keyed by its aggregate (the subject): what every subgraph's tests read.
pub async fn read_events(
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Envelope]) -> bool,
) -> Vec<Envelope> {
    let received = read_until(topic, timeout, |r| done(&envelopes(r))).await;
    for message in &received {
        let envelope = message
            .envelope
            .as_ref()
            .unwrap_or_else(|| panic!("only CloudEvents on {topic}"));
        assert_eq!(
            Some(message.key.as_str()),
            envelope.subject(),
            "Kafka key = aggregate id"
        );
    }
    envelopes(&received)
}

/// A fresh test database with the outbox/inbox tables and a service's own `migrations` — the
/// test-side twin of [`crate::migrated_pool`]. `key` names the template (one per schema).
pub async fn service_database(
    key: &str,
    migrations: diesel_migrations::EmbeddedMigrations,
) -> tenor_platform::testing::TestDatabase {
    tenor_platform::testing::TestDatabase::new(key, || vec![crate::MIGRATIONS, migrations]).await
}
