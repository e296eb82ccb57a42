//! Shared fixtures for the event-plumbing tests: per-test topics and databases on the stack.

#![allow(dead_code)]

use std::time::Duration;

use diesel_async::RunQueryDsl;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use serde::{Deserialize, Serialize};
use tenor_events::kafka::{KafkaConfig, ensure_topics, producer};
use tenor_events::{DomainEvent, Envelope, MIGRATIONS};
use tenor_platform::testing::{TestDatabase, kafka_brokers};
use uuid::Uuid;

/// A stand-in domain event for the plumbing tests.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WidgetChanged {
    pub widget_id: Uuid,
    pub seq: u32,
    #[serde(default)]
    pub fail: bool,
}

impl DomainEvent for WidgetChanged {
    const TYPE: &'static str = "widget.changed.v1";
}

pub fn widget_event(widget_id: Uuid, seq: u32) -> Envelope {
    Envelope::new(
        "/tenor/test",
        widget_id.to_string(),
        &WidgetChanged {
            widget_id,
            seq,
            fail: false,
        },
        None,
    )
    .unwrap()
}

pub fn kafka() -> KafkaConfig {
    KafkaConfig {
        brokers: kafka_brokers(),
        client_id: "tenor-events-tests".into(),
    }
}

/// A fresh topic (and its DLQ) for one test.
pub async fn topic(partitions: i32) -> String {
    let name = format!("test.{}.events", Uuid::new_v4().simple());
    let dlq = format!("{name}.dlq");
    ensure_topics(&kafka_brokers(), &[(&name, partitions), (&dlq, 1)])
        .await
        .expect("creating test topics (is the stack up? `./dev up`)");
    name
}

/// A database with the outbox/inbox tables and a `widgets` business table.
pub async fn database() -> TestDatabase {
    let db = TestDatabase::new("events", || vec![MIGRATIONS]).await;
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query(
        "CREATE TABLE widgets (id UUID PRIMARY KEY, applied INT NOT NULL DEFAULT 0);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    db
}

/// A message as read back from Kafka.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: String,
    pub partition: i32,
    pub envelope: Option<Envelope>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
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
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(&received) {
        let next = tokio::time::timeout_at(deadline, consumer.recv()).await;
        let Ok(message) = next else { break };
        let message = message.unwrap();
        let payload = message.payload().unwrap_or_default().to_vec();
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
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
        });
    }
    received
}

/// Publish raw bytes (what a buggy or foreign producer might send).
pub async fn publish_raw(topic: &str, key: &str, payload: &[u8]) {
    let producer = producer(&kafka()).unwrap();
    producer
        .send(
            rdkafka::producer::FutureRecord::to(topic)
                .key(key)
                .payload(payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
}
