//! The user service's settings, all from environment variables (see README "Configuration").

use tenor_contracts::topics;
use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, RelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::Env;
use tenor_platform::db::DbConfig;

use crate::events::CONSUMER_GROUP;

#[derive(Debug, Clone)]
pub struct UserConfig {
    pub db: DbConfig,
    pub kafka: KafkaConfig,
    /// Where auth publishes `user.registered` (`AUTH_EVENTS_TOPIC`, default `auth.events`).
    pub auth_events_topic: String,
    /// Where loan publishes its status changes (`LOAN_EVENTS_TOPIC`, default `loan.events`).
    pub loan_events_topic: String,
    /// Where this service publishes (`USER_EVENTS_TOPIC`, default `user.events`).
    pub user_events_topic: String,
    pub verifier: VerifierConfig,
    pub relay: RelayConfig,
    pub consumer: ConsumerConfig,
}

impl UserConfig {
    /// `USER_DATABASE_URL` and `KAFKA_BROKERS` are required; everything else has a default.
    pub fn from_env(env: &mut Env) -> Self {
        let db = DbConfig::from_env(env, "USER_DATABASE_URL");
        let kafka = KafkaConfig::from_env(env, "tenor-user");
        let auth_events_topic: String = env.optional("AUTH_EVENTS_TOPIC", topics::AUTH.to_owned());
        let loan_events_topic: String = env.optional("LOAN_EVENTS_TOPIC", topics::LOAN.to_owned());
        let user_events_topic: String = env.optional("USER_EVENTS_TOPIC", topics::USER.to_owned());
        let consumer = ConsumerConfig::from_env(
            env,
            kafka.clone(),
            CONSUMER_GROUP,
            &[&auth_events_topic, &loan_events_topic],
        );
        Self {
            db,
            kafka,
            auth_events_topic,
            loan_events_topic,
            user_events_topic,
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
    fn required_variables_are_named_and_topics_default() {
        let mut env = Env::from_pairs([("KAFKA_BROKERS", "127.0.0.1:29092")]);
        let config = UserConfig::from_env(&mut env);
        assert_eq!(config.auth_events_topic, "auth.events");
        assert_eq!(config.user_events_topic, "user.events");
        assert_eq!(config.consumer.topics, ["auth.events", "loan.events"]);
        assert_eq!(config.consumer.group_id, "tenor-user");
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            ["USER_DATABASE_URL"]
        );
    }

    #[test]
    fn topics_can_be_overridden() {
        let mut env = Env::from_pairs([
            ("USER_DATABASE_URL", "postgres://x/y"),
            ("KAFKA_BROKERS", "k:1"),
            ("AUTH_EVENTS_TOPIC", "a.test"),
            ("USER_EVENTS_TOPIC", "u.test"),
            ("LOAN_EVENTS_TOPIC", "l.test"),
        ]);
        let config = UserConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert_eq!(config.consumer.topics, ["a.test", "l.test"]);
        assert_eq!(config.user_events_topic, "u.test");
    }
}
