//! The risk service's settings, all from environment variables. The master key is required
//! and never defaulted: a missing or malformed key stops the service at start (exit 2) instead
//! of storing bureau reports nobody can decrypt.

use std::sync::Arc;
use std::time::Duration;

use tenor_contracts::topics;
use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, MongoRelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::loaders::LoaderStats;
use tenor_platform::mongo::MongoConfig;
use tenor_platform::vault::Vault;

use crate::bureau::{FailureMode, SimulationSettings};
use crate::domain::RiskRules;
use crate::events::CONSUMER_GROUP;

#[derive(Debug, Clone)]
pub struct RiskConfig {
    /// `MONGODB_URL` and `RISK_MONGODB_DATABASE` (default `tenor_risk`).
    pub mongo: MongoConfig,
    pub kafka: KafkaConfig,
    /// What this service consumes (`LOAN_EVENTS_TOPIC`, default `loan.events`).
    pub loan_events_topic: String,
    /// Where this service publishes (`RISK_EVENTS_TOPIC`, default `risk.events`).
    pub risk_events_topic: String,
    pub consumer: ConsumerConfig,
    pub relay: MongoRelayConfig,
    pub verifier: VerifierConfig,
    /// Encrypts raw bureau reports (`RISK_MASTER_KEY`, `RISK_MASTER_KEY_ID`,
    /// `RISK_PREVIOUS_MASTER_KEYS`).
    pub vault: Vault,
    pub simulation: SimulationSettings,
    pub worker: WorkerSettings,
    pub rules: RiskRules,
    /// Counts `Loan.riskEvaluations` batches (not from the environment; tests read it).
    pub loader_stats: Arc<LoaderStats>,
}

/// How the bureau work queue runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// One bureau call may take this long (`RISK_BUREAU_TIMEOUT`, 2s).
    pub bureau_timeout: Duration,
    /// After this long from submission, a loan whose bureau call keeps failing gets a FAILED
    /// evaluation (`RISK_BUREAU_DEADLINE`, 60s).
    pub deadline: Duration,
    /// Backoff after the first failure, doubled each time up to the maximum, with jitter
    /// (`RISK_RETRY_INITIAL` 200ms, `RISK_RETRY_MAX` 5s).
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// How often the worker looks for due requests when nobody rang (`RISK_WORKER_POLL`, 1s):
    /// what resumes work after a restart and runs retries.
    pub poll: Duration,
    /// A claimed request is left to its worker this long (`RISK_CLAIM_LEASE`, 10s; longer than
    /// the bureau timeout): a worker that died holding it is replaced after that.
    pub claim_lease: Duration,
    /// Bureau calls in flight at once per replica (`RISK_WORKER_CONCURRENCY`, 32).
    pub concurrency: usize,
    /// Finished requests are deleted this long after they finished (`RISK_REQUEST_RETENTION`,
    /// 7days). Kafka keeps `loan.events` for 7 days by default, so a redelivery inside that time
    /// still finds its request; one after it costs a bureau call, never a second evaluation.
    pub request_retention: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            bureau_timeout: Duration::from_secs(2),
            deadline: Duration::from_secs(60),
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(5),
            poll: Duration::from_secs(1),
            claim_lease: Duration::from_secs(10),
            concurrency: 32,
            request_retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl RiskConfig {
    /// `MONGODB_URL`, `KAFKA_BROKERS` and `RISK_MASTER_KEY` are required; the rest has defaults.
    pub fn from_env(env: &mut Env) -> Self {
        let default_database = tenor_platform::manifest::service("risk")
            .database
            .clone()
            .unwrap_or_else(|| "tenor_risk".to_owned());
        let mongo = MongoConfig::from_env(env, "RISK_MONGODB_DATABASE", &default_database);
        let kafka = KafkaConfig::from_env(env, "tenor-risk");
        let loan_events_topic: String = env.optional("LOAN_EVENTS_TOPIC", topics::LOAN.to_owned());
        let risk_events_topic: String = env.optional("RISK_EVENTS_TOPIC", topics::RISK.to_owned());
        let consumer =
            ConsumerConfig::from_env(env, kafka.clone(), CONSUMER_GROUP, &[&loan_events_topic]);
        Self {
            vault: vault(env),
            simulation: simulation(env),
            worker: worker(env),
            rules: rules(env),
            mongo,
            kafka,
            loan_events_topic,
            risk_events_topic,
            consumer,
            relay: MongoRelayConfig::from_env(env),
            verifier: VerifierConfig::from_env(env),
            loader_stats: Arc::default(),
        }
    }
}

fn duration(env: &mut Env, var: &str, default: Duration) -> Duration {
    env.optional(var, HumanDuration(default)).into()
}

fn vault(env: &mut Env) -> Vault {
    Vault::from_env(env, "RISK", "risk-1")
}

fn simulation(env: &mut Env) -> SimulationSettings {
    let default = SimulationSettings::default();
    let settings = SimulationSettings {
        failures: env.optional("RISK_BUREAU_FAILURES", FailureMode::None),
        latency_min: duration(env, "RISK_BUREAU_LATENCY_MIN", default.latency_min),
        latency_max: duration(env, "RISK_BUREAU_LATENCY_MAX", default.latency_max),
    };
    if settings.latency_min > settings.latency_max {
        env.fail(
            "RISK_BUREAU_LATENCY_MIN",
            "must not exceed RISK_BUREAU_LATENCY_MAX".into(),
        );
    }
    settings
}

fn worker(env: &mut Env) -> WorkerSettings {
    let default = WorkerSettings::default();
    let settings = WorkerSettings {
        bureau_timeout: duration(env, "RISK_BUREAU_TIMEOUT", default.bureau_timeout),
        deadline: duration(env, "RISK_BUREAU_DEADLINE", default.deadline),
        retry_initial: duration(env, "RISK_RETRY_INITIAL", default.retry_initial),
        retry_max: duration(env, "RISK_RETRY_MAX", default.retry_max),
        poll: duration(env, "RISK_WORKER_POLL", default.poll),
        claim_lease: duration(env, "RISK_CLAIM_LEASE", default.claim_lease),
        concurrency: env.optional("RISK_WORKER_CONCURRENCY", default.concurrency),
        request_retention: duration(env, "RISK_REQUEST_RETENTION", default.request_retention),
    };
    if settings.request_retention.is_zero() {
        env.fail("RISK_REQUEST_RETENTION", "must be above zero".into());
    }
    if settings.claim_lease <= settings.bureau_timeout {
        env.fail(
            "RISK_CLAIM_LEASE",
            "must be longer than RISK_BUREAU_TIMEOUT (a live call must not be taken over)".into(),
        );
    }
    if settings.retry_initial.is_zero() || settings.retry_initial > settings.retry_max {
        env.fail(
            "RISK_RETRY_INITIAL",
            "must be above zero and not exceed RISK_RETRY_MAX".into(),
        );
    }
    if settings.poll.is_zero() {
        env.fail("RISK_WORKER_POLL", "must be above zero".into());
    }
    if settings.concurrency == 0 {
        env.fail("RISK_WORKER_CONCURRENCY", "must be at least 1".into());
    }
    settings
}

/// Thresholds that differ from the defaults are a new rule set: they need their own
/// `RISK_RULES_VERSION`, or stored levels could not be explained.
fn rules(env: &mut Env) -> RiskRules {
    let default = RiskRules::default();
    let version: Option<String> = env.maybe("RISK_RULES_VERSION");
    let rules = RiskRules {
        version: version.clone().unwrap_or_else(|| default.version.clone()),
        high_collectability: env.optional("RISK_HIGH_COLLECTABILITY", default.high_collectability),
        high_score_below: env.optional("RISK_HIGH_SCORE_BELOW", default.high_score_below),
        medium_score_below: env.optional("RISK_MEDIUM_SCORE_BELOW", default.medium_score_below),
        medium_platforms: env.optional("RISK_MEDIUM_PLATFORMS", default.medium_platforms),
        medium_days_past_due: env
            .optional("RISK_MEDIUM_DAYS_PAST_DUE", default.medium_days_past_due),
    };
    if !(1..=5).contains(&rules.high_collectability) {
        env.fail("RISK_HIGH_COLLECTABILITY", "must be 1–5".into());
    }
    if rules.high_score_below > rules.medium_score_below {
        env.fail(
            "RISK_HIGH_SCORE_BELOW",
            "must not exceed RISK_MEDIUM_SCORE_BELOW".into(),
        );
    }
    let changed = RiskRules {
        version: default.version.clone(),
        ..rules.clone()
    } != default;
    if changed && version.is_none() {
        env.fail(
            "RISK_RULES_VERSION",
            "is required when a risk threshold differs from its default".into(),
        );
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenor_platform::vault::Key32;

    fn base() -> Vec<(&'static str, String)> {
        vec![
            ("MONGODB_URL", "mongodb://127.0.0.1:27117/".to_owned()),
            ("KAFKA_BROKERS", "k:1".to_owned()),
            ("RISK_MASTER_KEY", Key32::random().to_base64()),
        ]
    }

    #[test]
    fn required_variables_are_named_and_defaults_documented() {
        let mut env = Env::from_pairs([("KAFKA_BROKERS", "k:1")]);
        let config = RiskConfig::from_env(&mut env);
        assert_eq!(config.loan_events_topic, "loan.events");
        assert_eq!(config.risk_events_topic, "risk.events");
        assert_eq!(config.consumer.group_id, "tenor-risk");
        assert_eq!(config.mongo.database, "tenor_risk");
        assert_eq!(config.vault.current_key_id(), "risk-1");
        assert_eq!(config.worker, WorkerSettings::default());
        assert_eq!(config.rules, RiskRules::default());
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            ["MONGODB_URL", "RISK_MASTER_KEY"]
        );
    }

    #[test]
    fn a_malformed_key_is_named_without_echoing_it() {
        let mut pairs = base();
        pairs[2].1 = "c2hvcnQ=".to_owned();
        pairs.push(("RISK_PREVIOUS_MASTER_KEYS", "old=bm90LWEta2V5".to_owned()));
        let mut env = Env::from_pairs(pairs);
        let config = RiskConfig::from_env(&mut env);
        let errors = env.finish(config).unwrap_err();
        assert_eq!(
            errors.vars(),
            ["RISK_MASTER_KEY", "RISK_PREVIOUS_MASTER_KEYS"]
        );
        assert!(!errors.to_string().contains("c2hvcnQ"), "{errors}");
        assert!(!errors.to_string().contains("bm90LWEta2V5"), "{errors}");
    }

    #[test]
    fn rotation_keys_open_old_reports() {
        let old = Key32::random();
        let mut pairs = base();
        pairs.extend([
            ("RISK_MASTER_KEY_ID", "risk-2".to_owned()),
            (
                "RISK_PREVIOUS_MASTER_KEYS",
                format!("risk-1={}", old.to_base64()),
            ),
        ]);
        let mut env = Env::from_pairs(pairs);
        let config = RiskConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert_eq!(config.vault.current_key_id(), "risk-2");
        let sealed = Vault::new("risk-1", old).seal(b"e", b"report");
        assert_eq!(config.vault.open(b"e", &sealed).unwrap(), b"report");
    }

    #[test]
    fn contradictory_worker_and_rule_settings_are_refused() {
        let mut pairs = base();
        pairs.extend([
            ("RISK_BUREAU_TIMEOUT", "5s".to_owned()),
            ("RISK_CLAIM_LEASE", "2s".to_owned()),
            ("RISK_BUREAU_FAILURES", "often".to_owned()),
            ("RISK_HIGH_SCORE_BELOW", "700".to_owned()),
        ]);
        let mut env = Env::from_pairs(pairs);
        let config = RiskConfig::from_env(&mut env);
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            [
                "RISK_BUREAU_FAILURES",
                "RISK_CLAIM_LEASE",
                "RISK_HIGH_SCORE_BELOW",
                "RISK_RULES_VERSION"
            ]
        );
    }

    #[test]
    fn changed_thresholds_with_their_own_version_are_accepted() {
        let mut pairs = base();
        pairs.extend([
            ("RISK_MEDIUM_PLATFORMS", "3".to_owned()),
            ("RISK_RULES_VERSION", "strict-2027".to_owned()),
            ("RISK_BUREAU_FAILURES", "0.1".to_owned()),
        ]);
        let mut env = Env::from_pairs(pairs);
        let config = RiskConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert_eq!(config.rules.medium_platforms, 3);
        assert_eq!(config.rules.version, "strict-2027");
        assert_eq!(config.simulation.failures, FailureMode::Fraction(0.1));
    }
}
