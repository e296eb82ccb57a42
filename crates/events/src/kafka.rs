//! Kafka clients with the settings the event plumbing relies on.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaResult, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, Producer};
use tenor_platform::config::Env;
use tenor_platform::http::{ReadinessCheck, check};

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub brokers: String,
    /// Identifies this service in broker logs and metrics.
    pub client_id: String,
}

impl KafkaConfig {
    /// `KAFKA_BROKERS` (required).
    pub fn from_env(env: &mut Env, client_id: &str) -> Self {
        Self {
            brokers: env.required("KAFKA_BROKERS"),
            client_id: client_id.to_owned(),
        }
    }
}

/// The producer used by the outbox relay and the DLQ: idempotent with `acks=all`, so a retried
/// send never duplicates or reorders messages within a partition.
pub fn producer(config: &KafkaConfig) -> KafkaResult<FutureProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .set("client.id", &config.client_id)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "30000")
        .create()
}

/// Create the topics that are missing (existing ones are left alone).
pub async fn ensure_topics(brokers: &str, topics: &[(&str, i32)]) -> KafkaResult<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let specs: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&specs, &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(rdkafka::error::KafkaError::AdminOp(code)).inspect_err(|_| {
                    tracing::error!(%topic, ?code, "creating topic failed");
                });
            }
        }
    }
    Ok(())
}

/// Ready when the broker answers a metadata request.
pub fn readiness(producer: FutureProducer) -> Arc<dyn ReadinessCheck> {
    check("kafka", move || {
        let producer = producer.clone();
        async move {
            // librdkafka's metadata call blocks its thread: keep it off the async workers.
            tokio::task::spawn_blocking(move || {
                producer
                    .client()
                    .fetch_metadata(None, Duration::from_secs(2))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())?
        }
    })
}
