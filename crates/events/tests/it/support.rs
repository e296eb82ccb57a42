//! Shared fixtures for the event-plumbing tests: per-test topics and databases on the stack.

use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use tenor_events::kafka::KafkaConfig;
pub use tenor_events::testing::{fresh_topic, kafka_config, publish_raw, read_until};
use tenor_events::{DomainEvent, Envelope, MIGRATIONS};
use tenor_platform::testing::TestDatabase;
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

/// Publishes widget `widget`'s event `seq`, keyed by the widget as an outbox keys by aggregate.
pub async fn publish_widget(topic: &str, widget: Uuid, seq: u32) {
    publish_raw(
        topic,
        &widget.to_string(),
        &widget_event(widget, seq).to_bytes(),
    )
    .await;
}

pub fn kafka() -> KafkaConfig {
    kafka_config()
}

/// A fresh topic (and its DLQ) for one test.
pub async fn topic(partitions: i32) -> String {
    fresh_topic("events", partitions).await
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

/// A fresh MongoDB database on the stack's server, for one test.
pub async fn mongo_database() -> mongodb::Database {
    let config = tenor_platform::mongo::MongoConfig {
        url: tenor_platform::testing::mongodb_url(),
        database: format!("test_events_{}", Uuid::new_v4().simple()),
    };
    tenor_platform::mongo::database(&config)
        .await
        .expect("MongoDB client (is the stack up? `./dev up`)")
}

/// How many messages `topic` holds, over all its partitions.
pub async fn message_count(topic: &str) -> usize {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka().brokers)
        .create()
        .unwrap();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let timeout = std::time::Duration::from_secs(5);
        let metadata = consumer.fetch_metadata(Some(&topic), timeout).unwrap();
        metadata.topics()[0]
            .partitions()
            .iter()
            .map(|p| {
                let (low, high) = consumer.fetch_watermarks(&topic, p.id(), timeout).unwrap();
                (high - low) as usize
            })
            .sum()
    })
    .await
    .unwrap()
}
