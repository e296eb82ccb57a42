//! The credit service's settings, all from environment variables (defaults suit `./dev up`).

use std::path::PathBuf;
use std::time::Duration;

use tenor_contracts::topics;
use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, RelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::db::DbConfig;

use crate::domain::RuleBook;
use crate::events::CONSUMER_GROUP;
use crate::service::Settings;

#[derive(Debug, Clone)]
pub struct CreditConfig {
    pub db: DbConfig,
    pub kafka: KafkaConfig,
    /// Where this service publishes (`CREDIT_EVENTS_TOPIC`, default `credit.events`).
    pub credit_events_topic: String,
    pub auth_events_topic: String,
    pub user_events_topic: String,
    pub kyc_events_topic: String,
    pub loan_events_topic: String,
    pub risk_events_topic: String,
    /// The compiled-in rule sets plus those in `CREDIT_RULES_DIR`.
    pub rules: RuleBook,
    pub settings: Settings,
    pub verifier: VerifierConfig,
    pub relay: RelayConfig,
    pub consumer: ConsumerConfig,
}

impl CreditConfig {
    /// `CREDIT_DATABASE_URL` and `KAFKA_BROKERS` are required; everything else has a default.
    pub fn from_env(env: &mut Env) -> Self {
        let db = DbConfig::from_env(env, "CREDIT_DATABASE_URL");
        let kafka = KafkaConfig::from_env(env, "tenor-credit");
        let topic = |env: &mut Env, var: &str, default: &str| -> String {
            env.optional(var, default.to_owned())
        };
        let credit_events_topic = topic(env, "CREDIT_EVENTS_TOPIC", topics::CREDIT);
        let auth_events_topic = topic(env, "AUTH_EVENTS_TOPIC", topics::AUTH);
        let user_events_topic = topic(env, "USER_EVENTS_TOPIC", topics::USER);
        let kyc_events_topic = topic(env, "KYC_EVENTS_TOPIC", topics::KYC);
        let loan_events_topic = topic(env, "LOAN_EVENTS_TOPIC", topics::LOAN);
        let risk_events_topic = topic(env, "RISK_EVENTS_TOPIC", topics::RISK);
        let consumer = ConsumerConfig::from_env(
            env,
            kafka.clone(),
            CONSUMER_GROUP,
            &[
                &auth_events_topic,
                &user_events_topic,
                &kyc_events_topic,
                &loan_events_topic,
                &risk_events_topic,
            ],
        );
        let rules = match env.maybe::<PathBuf>("CREDIT_RULES_DIR") {
            None => RuleBook::compiled(),
            Some(dir) => RuleBook::with_dir(&dir).unwrap_or_else(|problem| {
                env.fail("CREDIT_RULES_DIR", problem);
                RuleBook::compiled()
            }),
        };
        let defaults = Settings::default();
        let duration = |env: &mut Env, var: &str, default: Duration| -> Duration {
            let value: Duration = env.optional(var, HumanDuration(default)).into();
            if value.is_zero() {
                env.fail(var, "must be longer than zero".to_owned());
                return default;
            }
            value
        };
        let settings = Settings {
            input_timeout: duration(env, "CREDIT_INPUT_TIMEOUT", defaults.input_timeout),
            human_review_window: duration(
                env,
                "CREDIT_HUMAN_REVIEW_WINDOW",
                defaults.human_review_window,
            ),
            worker_poll: duration(env, "CREDIT_WORKER_POLL", defaults.worker_poll),
            external_retry_initial: duration(
                env,
                "CREDIT_EXTERNAL_RETRY_INITIAL",
                defaults.external_retry_initial,
            ),
            external_retry_max: duration(
                env,
                "CREDIT_EXTERNAL_RETRY_MAX",
                defaults.external_retry_max,
            ),
            sweep_every: duration(env, "CREDIT_SWEEP_EVERY", defaults.sweep_every),
        };
        if settings.external_retry_max < settings.external_retry_initial {
            env.fail(
                "CREDIT_EXTERNAL_RETRY_MAX",
                "must not be shorter than CREDIT_EXTERNAL_RETRY_INITIAL".to_owned(),
            );
        }
        Self {
            db,
            kafka,
            credit_events_topic,
            auth_events_topic,
            user_events_topic,
            kyc_events_topic,
            loan_events_topic,
            risk_events_topic,
            rules,
            settings,
            verifier: VerifierConfig::from_env(env),
            relay: RelayConfig::from_env(env),
            consumer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_required_variables() {
        let mut env = Env::from_pairs([("KAFKA_BROKERS", "127.0.0.1:29092")]);
        let config = CreditConfig::from_env(&mut env);
        assert_eq!(config.credit_events_topic, "credit.events");
        assert_eq!(
            config.consumer.topics,
            [
                "auth.events",
                "user.events",
                "kyc.events",
                "loan.events",
                "risk.events"
            ]
        );
        assert_eq!(config.consumer.group_id, "tenor-credit");
        assert_eq!(config.settings, Settings::default());
        assert_eq!(config.settings.input_timeout, Duration::from_secs(120));
        assert_eq!(
            config.settings.human_review_window,
            Duration::from_secs(14 * 86_400)
        );
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            ["CREDIT_DATABASE_URL"]
        );
    }

    #[test]
    fn bad_settings_name_their_variable() {
        let dir = std::env::temp_dir().join(format!("credit-rules-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("broken.toml"), "version = ").unwrap();
        let mut env = Env::from_pairs([
            ("CREDIT_DATABASE_URL", "postgres://x/y".to_owned()),
            ("KAFKA_BROKERS", "k:1".to_owned()),
            ("CREDIT_INPUT_TIMEOUT", "soon".to_owned()),
            ("CREDIT_HUMAN_REVIEW_WINDOW", "0s".to_owned()),
            ("CREDIT_RULES_DIR", dir.display().to_string()),
        ]);
        let config = CreditConfig::from_env(&mut env);
        let errors = env.finish(config).unwrap_err();
        assert_eq!(
            errors.vars(),
            [
                "CREDIT_RULES_DIR",
                "CREDIT_INPUT_TIMEOUT",
                "CREDIT_HUMAN_REVIEW_WINDOW"
            ]
        );
        assert!(errors.to_string().contains("broken.toml"), "{errors}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_operator_rule_set_is_added_from_the_directory() {
        let dir = std::env::temp_dir().join(format!("credit-rules-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = include_str!("../rules/2026-12-01.toml")
            .replace("version = \"2026-12-01\"", "version = \"ops-2027-03\"")
            .replace("2026-01-01T00:00:00Z", "2027-03-01T00:00:00Z");
        std::fs::write(dir.join("ops.toml"), text).unwrap();
        let mut env = Env::from_pairs([
            ("CREDIT_DATABASE_URL", "postgres://x/y".to_owned()),
            ("KAFKA_BROKERS", "k:1".to_owned()),
            ("CREDIT_RULES_DIR", dir.display().to_string()),
        ]);
        let config = CreditConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert!(config.rules.version("ops-2027-03").is_some());
        assert!(config.rules.version("2026-12-01").is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
