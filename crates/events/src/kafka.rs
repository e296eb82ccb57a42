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
        let brokers: String = env.required("KAFKA_BROKERS");
        if !brokers.is_empty() && !valid_brokers(&brokers) {
            env.fail(
                "KAFKA_BROKERS",
                "is not a list of bootstrap servers host[:port][,host[:port]…]".to_owned(),
            );
        }
        Self {
            brokers,
            client_id: client_id.to_owned(),
        }
    }
}

/// `host[:port]`, comma-separated (empty entries ignored), as librdkafka takes them (its own
/// check only logs, and the service would wait for a broker that cannot exist).
fn valid_brokers(brokers: &str) -> bool {
    let mut entries = brokers.split(',').map(str::trim).filter(|b| !b.is_empty());
    let mut any = false;
    entries.all(|broker| {
        any = true;
        let host = match broker.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') => {
                if port.parse::<u16>().is_err() {
                    return false;
                }
                host
            }
            _ => broker,
        };
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b))
    }) && any
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

#[cfg(test)]
mod broker_tests {
    use super::valid_brokers;

    #[test]
    fn broker_lists() {
        for ok in [
            "127.0.0.1:59092",
            "kafka-1:9092, kafka-2:9092",
            "kafka",
            "[::1]:9092",
            "kafka:9092,",
        ] {
            assert!(valid_brokers(ok), "{ok}");
        }
        for bad in [
            "127.0.0.1:x",
            "",
            " , ",
            "a b:9092",
            "http://kafka:9092",
            "kafka:99999",
        ] {
            assert!(!valid_brokers(bad), "{bad}");
        }
    }
}
