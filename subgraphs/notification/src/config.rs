//! The notification service's settings, all from environment variables, checked at start
//! (exit 2 naming every bad one).

use std::time::Duration;

use tenor_contracts::topics;
use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, MongoRelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::mongo::MongoConfig;

use crate::channels::ChannelsConfig;
use crate::events::CONSUMER_GROUP;
use crate::schedule::QuietHours;

#[derive(Debug, Clone)]
pub struct NotificationConfig {
    /// `MONGODB_URL` and `NOTIFICATION_MONGODB_DATABASE` (default `tenor_notification`).
    pub mongo: MongoConfig,
    /// `REDIS_URL` (default `redis://127.0.0.1:26479/`): dedupe keys and rate-limit counters.
    pub redis_url: String,
    /// Put before every Redis key (`NOTIFICATION_REDIS_PREFIX`, `tenor:notification`).
    pub redis_prefix: String,
    pub kafka: KafkaConfig,
    /// What this service consumes: `LOAN_EVENTS_TOPIC`, `KYC_EVENTS_TOPIC`, `AUTH_EVENTS_TOPIC`,
    /// `USER_EVENTS_TOPIC`, `CREDIT_EVENTS_TOPIC` (defaults `loan.events`, `kyc.events`,
    /// `auth.events`, `user.events`, `credit.events`).
    pub source_topics: SourceTopics,
    /// Where this service publishes (`NOTIFICATION_EVENTS_TOPIC`, `notification.events`).
    pub notification_events_topic: String,
    pub consumer: ConsumerConfig,
    pub relay: MongoRelayConfig,
    pub verifier: VerifierConfig,
    /// Email, SMS, WhatsApp and push providers (see [`crate::channels`]).
    pub channels: ChannelsConfig,
    /// When reminders and collection messages may go out (see [`crate::schedule`]).
    pub quiet_hours: QuietHours,
    pub delivery: DeliverySettings,
    /// `notificationReceived` subscriptions one account may hold on this replica
    /// (`LIVE_SUBSCRIPTIONS_PER_USER`, 20).
    pub live_subscriptions_per_user: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTopics {
    pub loan: String,
    pub kyc: String,
    pub auth: String,
    pub user: String,
    /// Referrals to a person (`credit.referred`); decisions reach the borrower through loan.
    pub credit: String,
}

/// How the delivery worker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySettings {
    /// Provider calls per notification before it is failed (`NOTIFICATION_MAX_ATTEMPTS`, 5).
    pub max_attempts: u32,
    /// Backoff after the first failed call, doubled each time up to the maximum, with jitter
    /// (`NOTIFICATION_RETRY_INITIAL` 1s, `NOTIFICATION_RETRY_MAX` 5min).
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Messages one borrower may be sent per window (`NOTIFICATION_USER_RATE_LIMIT`, 20); more
    /// wait for the next window, never dropped. Window: `NOTIFICATION_USER_RATE_WINDOW` (1h).
    pub user_rate_limit: u32,
    pub user_rate_window: Duration,
    /// One provider call may take this long (`NOTIFICATION_SEND_TIMEOUT`, 10s).
    pub send_timeout: Duration,
    /// A claimed notification is left to its worker this long (`NOTIFICATION_CLAIM_LEASE`, 30s;
    /// longer than the send timeout): a worker that died holding it is replaced after that.
    pub claim_lease: Duration,
    /// How often the worker looks for due notifications when nobody rang
    /// (`NOTIFICATION_WORKER_POLL`, 1s): what resumes work after a restart and runs retries.
    pub poll: Duration,
    /// Provider calls in flight at once per channel and replica
    /// (`NOTIFICATION_WORKER_CONCURRENCY`, 16): a slow provider fills its own slots only.
    pub concurrency: usize,
    /// How long a handled event's Redis dedupe key lives (`NOTIFICATION_DEDUPE_TTL`, 7days,
    /// Kafka's default retention); the unique indexes stay the guarantee after that.
    pub dedupe_ttl: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            user_rate_limit: 20,
            user_rate_window: Duration::from_secs(3600),
            send_timeout: Duration::from_secs(10),
            claim_lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            concurrency: 16,
            dedupe_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl NotificationConfig {
    /// `MONGODB_URL` and `KAFKA_BROKERS` are required; the rest has defaults.
    pub fn from_env(env: &mut Env) -> Self {
        let default_database = tenor_platform::manifest::service("notification")
            .database
            .clone()
            .unwrap_or_else(|| "tenor_notification".to_owned());
        let mongo = MongoConfig::from_env(env, "NOTIFICATION_MONGODB_DATABASE", &default_database);
        let redis_url: String = env.optional("REDIS_URL", "redis://127.0.0.1:26479/".to_owned());
        if redis::Client::open(redis_url.as_str()).is_err() {
            env.fail("REDIS_URL", "is not a redis:// URL".to_owned());
        }
        let kafka = KafkaConfig::from_env(env, "tenor-notification");
        let source_topics = SourceTopics {
            loan: env.optional("LOAN_EVENTS_TOPIC", topics::LOAN.to_owned()),
            kyc: env.optional("KYC_EVENTS_TOPIC", topics::KYC.to_owned()),
            auth: env.optional("AUTH_EVENTS_TOPIC", topics::AUTH.to_owned()),
            user: env.optional("USER_EVENTS_TOPIC", topics::USER.to_owned()),
            credit: env.optional("CREDIT_EVENTS_TOPIC", topics::CREDIT.to_owned()),
        };
        let mut consumer = ConsumerConfig::from_env(
            env,
            kafka.clone(),
            CONSUMER_GROUP,
            &[
                &source_topics.loan,
                &source_topics.kyc,
                &source_topics.auth,
                &source_topics.user,
                &source_topics.credit,
            ],
        );
        // One event at a time, whatever CONSUMER_CONCURRENCY says: FerretDB does not isolate two
        // updates of one document (store/mod.rs), and events of different keys touch one
        // document — a loan event's intake (keyed by the loan) writes the borrower's messages
        // while their erasure (keyed by the user) blanks them. Intake checks the account again
        // after its writes, which covers another replica's erasure, but one at a time here
        // keeps a replica's own writes from interleaving at all.
        consumer.concurrency = 1;
        Self {
            redis_prefix: env
                .optional("NOTIFICATION_REDIS_PREFIX", "tenor:notification".to_owned()),
            notification_events_topic: env
                .optional("NOTIFICATION_EVENTS_TOPIC", topics::NOTIFICATION.to_owned()),
            relay: MongoRelayConfig::from_env(env),
            verifier: VerifierConfig::from_env(env),
            channels: ChannelsConfig::from_env(env),
            quiet_hours: QuietHours::from_env(env),
            delivery: delivery(env),
            live_subscriptions_per_user: tenor_events::live::subscriptions_per_user(env),
            mongo,
            redis_url,
            kafka,
            source_topics,
            consumer,
        }
    }
}

fn duration(env: &mut Env, var: &str, default: Duration) -> Duration {
    env.optional(var, HumanDuration(default)).into()
}

fn delivery(env: &mut Env) -> DeliverySettings {
    let default = DeliverySettings::default();
    let settings = DeliverySettings {
        max_attempts: env.optional("NOTIFICATION_MAX_ATTEMPTS", default.max_attempts),
        retry_initial: duration(env, "NOTIFICATION_RETRY_INITIAL", default.retry_initial),
        retry_max: duration(env, "NOTIFICATION_RETRY_MAX", default.retry_max),
        user_rate_limit: env.optional("NOTIFICATION_USER_RATE_LIMIT", default.user_rate_limit),
        user_rate_window: duration(
            env,
            "NOTIFICATION_USER_RATE_WINDOW",
            default.user_rate_window,
        ),
        send_timeout: duration(env, "NOTIFICATION_SEND_TIMEOUT", default.send_timeout),
        claim_lease: duration(env, "NOTIFICATION_CLAIM_LEASE", default.claim_lease),
        poll: duration(env, "NOTIFICATION_WORKER_POLL", default.poll),
        concurrency: env.optional("NOTIFICATION_WORKER_CONCURRENCY", default.concurrency),
        dedupe_ttl: duration(env, "NOTIFICATION_DEDUPE_TTL", default.dedupe_ttl),
    };
    if settings.max_attempts == 0 {
        env.fail("NOTIFICATION_MAX_ATTEMPTS", "must be at least 1".into());
    }
    if settings.retry_initial.is_zero() || settings.retry_initial > settings.retry_max {
        env.fail(
            "NOTIFICATION_RETRY_INITIAL",
            "must be above zero and not exceed NOTIFICATION_RETRY_MAX".into(),
        );
    }
    if settings.user_rate_limit == 0 {
        env.fail("NOTIFICATION_USER_RATE_LIMIT", "must be at least 1".into());
    }
    if settings.user_rate_window < Duration::from_secs(1) {
        env.fail(
            "NOTIFICATION_USER_RATE_WINDOW",
            "must be at least 1s".into(),
        );
    }
    if settings.send_timeout.is_zero() {
        env.fail(
            "NOTIFICATION_SEND_TIMEOUT",
            "must be above zero (every provider call would time out)".into(),
        );
    }
    if settings.claim_lease <= settings.send_timeout {
        env.fail(
            "NOTIFICATION_CLAIM_LEASE",
            "must be longer than NOTIFICATION_SEND_TIMEOUT (a live call must not be taken over)"
                .into(),
        );
    }
    if settings.poll.is_zero() {
        env.fail("NOTIFICATION_WORKER_POLL", "must be above zero".into());
    }
    if settings.concurrency == 0 {
        env.fail(
            "NOTIFICATION_WORKER_CONCURRENCY",
            "must be at least 1".into(),
        );
    }
    if settings.dedupe_ttl < Duration::from_secs(1) {
        env.fail("NOTIFICATION_DEDUPE_TTL", "must be at least 1s".into());
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_variables_are_named_and_defaults_documented() {
        let mut env = Env::from_pairs([("KAFKA_BROKERS", "k:1")]);
        let config = NotificationConfig::from_env(&mut env);
        assert_eq!(config.mongo.database, "tenor_notification");
        assert_eq!(config.notification_events_topic, "notification.events");
        assert_eq!(
            config.consumer.topics,
            [
                "loan.events",
                "kyc.events",
                "auth.events",
                "user.events",
                "credit.events"
            ]
        );
        assert_eq!(config.consumer.group_id, "tenor-notification");
        assert_eq!(config.delivery, DeliverySettings::default());
        assert_eq!(config.delivery.max_attempts, 5);
        assert_eq!(env.finish(config).unwrap_err().vars(), ["MONGODB_URL"]);
    }

    #[test]
    fn contradictory_delivery_settings_are_refused() {
        let mut env = Env::from_pairs([
            ("MONGODB_URL", "mongodb://127.0.0.1:27117/"),
            ("KAFKA_BROKERS", "k:1"),
            ("REDIS_URL", "http://not-redis"),
            ("NOTIFICATION_MAX_ATTEMPTS", "0"),
            ("NOTIFICATION_RETRY_INITIAL", "10m"),
            ("NOTIFICATION_USER_RATE_LIMIT", "0"),
            ("NOTIFICATION_SEND_TIMEOUT", "30s"),
            ("NOTIFICATION_CLAIM_LEASE", "5s"),
        ]);
        let config = NotificationConfig::from_env(&mut env);
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            [
                "REDIS_URL",
                "NOTIFICATION_MAX_ATTEMPTS",
                "NOTIFICATION_RETRY_INITIAL",
                "NOTIFICATION_USER_RATE_LIMIT",
                "NOTIFICATION_CLAIM_LEASE",
            ]
        );
    }
}
