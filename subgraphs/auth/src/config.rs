//! Auth service configuration (environment variables; README has the table).

use std::time::Duration;

use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, RelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::db::DbConfig;
use tenor_platform::telemetry::TelemetryConfig;

use crate::domain::throttle::ThrottlePolicy;
use crate::keys::KeyFiles;

#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    /// Access-token lifetime (~15 min: short, because access tokens cannot be revoked).
    pub access_ttl: Duration,
    /// Absolute session lifetime: refresh stops working after it.
    pub session_ttl: Duration,
    /// How long the immediately previous refresh token still works after rotation, for a
    /// mobile client whose response got lost. 0 = strict rotation.
    pub refresh_reuse_grace: Duration,
    /// Scopes every customer token carries.
    pub customer_scopes: Vec<String>,
    pub biometric_challenge_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub telemetry: TelemetryConfig,
    pub database: DbConfig,
    pub kafka: KafkaConfig,
    pub relay: RelayConfig,
    pub consumer: ConsumerConfig,
    /// Where auth publishes (`user.registered`).
    pub auth_events_topic: String,
    pub signing_keys: KeyFiles,
    pub active_signing_key: String,
    pub tokens: TokenPolicy,
    pub throttle: ThrottlePolicy,
}

fn duration(env: &mut Env, var: &str, default: Duration) -> Duration {
    env.optional(var, HumanDuration(default)).into()
}

impl AuthConfig {
    pub fn from_env(env: &mut Env) -> Self {
        let kafka = KafkaConfig::from_env(env, "tenor-auth");
        let user_events: String = env.optional("USER_EVENTS_TOPIC", "user.events".to_owned());
        let consumer = ConsumerConfig::from_env(env, kafka.clone(), "tenor-auth", &[&user_events]);
        let verifier = VerifierConfig::from_env(env);
        let defaults = ThrottlePolicy::default();
        let customer_scopes: tenor_platform::config::CommaList = env.optional(
            "AUTH_CUSTOMER_SCOPES",
            tenor_platform::config::CommaList(vec!["loan:apply".into(), "kyc:submit".into()]),
        );
        let signing_keys: KeyFiles = env.required("AUTH_SIGNING_KEYS");
        let active_signing_key: String = env.required("AUTH_ACTIVE_SIGNING_KEY");
        if !signing_keys.0.is_empty()
            && !active_signing_key.is_empty()
            && !signing_keys.0.iter().any(|k| k.kid == active_signing_key)
        {
            env.fail(
                "AUTH_ACTIVE_SIGNING_KEY",
                "names no key in AUTH_SIGNING_KEYS".to_owned(),
            );
        }
        Self {
            telemetry: TelemetryConfig::from_env(env),
            database: DbConfig::from_env(env, "AUTH_DATABASE_URL"),
            relay: RelayConfig::from_env(env),
            consumer,
            kafka,
            auth_events_topic: env.optional("AUTH_EVENTS_TOPIC", "auth.events".to_owned()),
            signing_keys,
            active_signing_key,
            tokens: TokenPolicy {
                issuer: verifier.issuer,
                audience: verifier.audience,
                access_ttl: duration(env, "AUTH_ACCESS_TOKEN_TTL", Duration::from_secs(15 * 60)),
                session_ttl: duration(env, "AUTH_SESSION_TTL", Duration::from_secs(30 * 24 * 3600)),
                refresh_reuse_grace: duration(
                    env,
                    "AUTH_REFRESH_REUSE_GRACE",
                    Duration::from_secs(10),
                ),
                customer_scopes: customer_scopes.0,
                biometric_challenge_ttl: duration(
                    env,
                    "AUTH_BIOMETRIC_CHALLENGE_TTL",
                    Duration::from_secs(60),
                ),
            },
            throttle: ThrottlePolicy {
                free_failures: env.optional("LOGIN_FREE_FAILURES", defaults.free_failures),
                base_delay: duration(env, "LOGIN_BASE_DELAY", defaults.base_delay),
                max_delay: duration(env, "LOGIN_MAX_DELAY", defaults.max_delay),
                lock_after: env.optional("LOGIN_LOCK_AFTER", defaults.lock_after),
                lock_duration: duration(env, "LOGIN_LOCK_DURATION", defaults.lock_duration),
                max_failures_per_source: env.optional(
                    "LOGIN_MAX_FAILURES_PER_SOURCE",
                    defaults.max_failures_per_source,
                ),
                source_window: duration(env, "LOGIN_SOURCE_WINDOW", defaults.source_window),
            },
        }
    }
}
