//! Kafka clients with the settings the event plumbing relies on.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
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

/// What every Kafka client of ours starts from (the relay's producer, the consumers, the live
/// hubs): where the brokers are, who it is, and how it connects. Why each setting, in
/// docs/events.md § Latency and recovery.
pub fn client_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("client.id", &config.client_id)
        // librdkafka doubles its wait between attempts to reach a broker up to 10 s: after a
        // broker restart a client could sleep that long past the broker's return. 1 s bounds
        // it; a broker that is down still gets at most one attempt a second per client
        // (librdkafka adds ±20 % jitter, so clients do not retry in step).
        .set("reconnect.backoff.max.ms", "1000")
        // A broker address that no longer answers at all (a replaced pod's IP) is given up
        // after this, then the next address is tried (librdkafka: 30 s).
        .set("socket.connection.setup.timeout.ms", "10000")
        // Requests are small and latency-bound: send each at once rather than let Nagle hold a
        // request behind an unacknowledged one (librdkafka leaves Nagle on).
        .set("socket.nagle.disable", "true");
    client
}

/// The settings every consumer adds to [`client_config`] (the event consumer and the live
/// hubs): how fast it notices and gets over a broker that went away.
pub(crate) fn consumer_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = client_config(config);
    client
        // After a failed fetch (the broker went away, a leader moved) librdkafka waits this long
        // before fetching that partition again (default 500 ms).
        .set("fetch.error.backoff.ms", "100")
        // A member learns of a rebalance, or that the coordinator forgot it, on its next
        // heartbeat (default every 3 s); 1 s is still well under the session timeout's third.
        .set("heartbeat.interval.ms", "1000");
    client
}

/// The producer used by the outbox relay and the DLQ: idempotent with `acks=all`, so a retried
/// send never duplicates or reorders messages within a partition.
///
/// One per process and configuration, shared by whoever asks (the relay, every consumer's DLQ,
/// the readiness check). Each rdkafka producer owns a polling thread that, between two 100 ms
/// waits, spins for up to the last millisecond (rdkafka 0.39 rounds the time left down to whole
/// milliseconds and polls without waiting until it is over): about 1 % of a core per producer,
/// busy or idle. A service with a relay and two consumers had three.
pub fn producer(config: &KafkaConfig) -> KafkaResult<FutureProducer> {
    static PRODUCERS: LazyLock<Mutex<HashMap<(String, String), FutureProducer>>> =
        LazyLock::new(Mutex::default);
    let key = (config.brokers.clone(), config.client_id.clone());
    let mut producers = PRODUCERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(producer) = producers.get(&key) {
        return Ok(producer.clone());
    }
    let producer = new_producer(config)?;
    producers.insert(key, producer.clone());
    Ok(producer)
}

fn new_producer(config: &KafkaConfig) -> KafkaResult<FutureProducer> {
    client_config(config)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        // Send at once (librdkafka waits 5 ms for more): a relay hands a whole batch over in
        // one go and an event's latency is the product here. Batching still happens while
        // requests are in flight (up to 5 with idempotence), so throughput under load holds.
        .set("linger.ms", "0")
        .set("message.timeout.ms", "30000")
        .create()
}

/// Create the topics that are missing (existing ones are left alone, whatever their partition
/// count). Safe to call from several processes at once: a topic that another caller created first
/// counts as created. What a broker that is still starting answers (timeouts, no controller yet)
/// is retried for up to 30 s.
pub async fn ensure_topics(brokers: &str, topics: &[(&str, i32)]) -> KafkaResult<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pending = topics.to_vec();
    loop {
        let specs: Vec<NewTopic<'_>> = pending
            .iter()
            .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
            .collect();
        let (retry, last): (Vec<(&str, i32)>, RDKafkaErrorCode) =
            match admin.create_topics(&specs, &options).await {
                Ok(results) => {
                    let mut retry = Vec::new();
                    let mut last = RDKafkaErrorCode::NoError;
                    for result in results {
                        match result {
                            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                            Err((topic, code)) if retriable(code) => {
                                retry.extend(pending.iter().filter(|(n, _)| *n == topic));
                                last = code;
                            }
                            Err((topic, code)) => {
                                tracing::error!(%topic, ?code, "creating topic failed");
                                return Err(KafkaError::AdminOp(code));
                            }
                        }
                    }
                    (retry, last)
                }
                Err(KafkaError::AdminOp(code)) if retriable(code) => (pending.clone(), code),
                Err(e) => return Err(e),
            };
        if retry.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            tracing::error!(topics = ?retry, code = ?last, "creating topics: broker not ready");
            return Err(KafkaError::AdminOp(last));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        pending = retry;
    }
}

/// Answers of a broker that is starting or electing a controller: worth another try.
fn retriable(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        BrokerTransportFailure
            | AllBrokersDown
            | OperationTimedOut
            | RequestTimedOut
            | LeaderNotAvailable
            | BrokerNotAvailable
            | NetworkException
            | NotController
    )
}

/// Create every topic of `services.toml` that is missing, with its partition count: the list
/// `./dev infra` and docker-compose's topic job create too. Idempotent and safe to call from
/// several processes at once.
pub async fn ensure_manifest_topics(brokers: &str) -> KafkaResult<()> {
    ensure_manifest_topics_prefixed(brokers, "").await
}

/// [`ensure_manifest_topics`] with every name prefixed, e.g. `test.<run>.` for a test's own copy
/// of the topics (`test.<run>.loan.events`, `test.<run>.loan.events.dlq`, …).
pub async fn ensure_manifest_topics_prefixed(brokers: &str, prefix: &str) -> KafkaResult<()> {
    let names: Vec<(String, i32)> = tenor_platform::manifest::topics()
        .iter()
        .map(|t| (format!("{prefix}{}", t.name), t.partitions))
        .collect();
    let topics: Vec<(&str, i32)> = names.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    ensure_topics(brokers, &topics).await
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
mod producer_tests {
    use rdkafka::producer::Producer as _;

    use super::{KafkaConfig, producer};

    fn config(client_id: &str) -> KafkaConfig {
        KafkaConfig {
            // Never contacted: a producer connects on its first send.
            brokers: "127.0.0.1:1".to_owned(),
            client_id: client_id.to_owned(),
        }
    }

    #[test]
    fn a_process_has_one_producer_per_configuration() {
        let relay = producer(&config("tenor-test-shared")).unwrap();
        let dlq = producer(&config("tenor-test-shared")).unwrap();
        let other = producer(&config("tenor-test-other")).unwrap();
        assert_eq!(relay.client().native_ptr(), dlq.client().native_ptr());
        assert_ne!(relay.client().native_ptr(), other.client().native_ptr());
    }
}

#[cfg(test)]
mod broker_tests {
    use super::valid_brokers;

    #[test]
    fn broker_lists() {
        for ok in [
            "127.0.0.1:29092",
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

#[cfg(test)]
mod topic_tests {
    //! Against the stack's Kafka (`./dev infra`), like the crate's other tests.

    use std::collections::BTreeMap;
    use std::time::Duration;

    use rdkafka::consumer::{BaseConsumer, Consumer};
    use tenor_platform::manifest;

    use super::*;

    fn brokers() -> String {
        std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:29092".to_owned())
    }

    /// Partition counts of the topics whose names start with `prefix`, once all of `want` show.
    async fn partitions(prefix: &str, want: usize) -> BTreeMap<String, i32> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers())
            .create()
            .unwrap();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            for _ in 0..40 {
                let metadata = consumer
                    .fetch_metadata(None, Duration::from_secs(5))
                    .unwrap();
                let found: BTreeMap<String, i32> = metadata
                    .topics()
                    .iter()
                    .filter(|t| t.name().starts_with(&prefix) && t.error().is_none())
                    .map(|t| (t.name().to_owned(), t.partitions().len() as i32))
                    .collect();
                if found.len() >= want {
                    return found;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            panic!("the topics under {prefix} did not all appear");
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn several_callers_at_once_create_every_manifest_topic_once() {
        let prefix = format!("test.{}.", uuid::Uuid::new_v4().simple());
        let brokers = brokers();
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let (brokers, prefix) = (brokers.clone(), prefix.clone());
                tokio::spawn(
                    async move { ensure_manifest_topics_prefixed(&brokers, &prefix).await },
                )
            })
            .collect();
        for caller in callers {
            caller
                .await
                .unwrap()
                .expect("every caller succeeds (is the stack up? ./dev infra)");
        }
        // Again, now that they all exist.
        ensure_manifest_topics_prefixed(&brokers, &prefix)
            .await
            .unwrap();

        let want: BTreeMap<String, i32> = manifest::topics()
            .iter()
            .map(|t| (format!("{prefix}{}", t.name), t.partitions))
            .collect();
        assert_eq!(partitions(&prefix, want.len()).await, want);
    }

    #[tokio::test]
    async fn the_stack_has_every_manifest_topic() {
        let brokers = brokers();
        let (a, b) = tokio::join!(
            ensure_manifest_topics(&brokers),
            ensure_manifest_topics(&brokers)
        );
        a.and(b).expect("is the stack up? ./dev infra");
        let found = partitions("", 0).await;
        for t in manifest::topics() {
            assert_eq!(found.get(&t.name), Some(&t.partitions), "{}", t.name);
        }
    }
}
