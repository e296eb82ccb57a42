//! Auth service configuration (environment variables; README has the table).

use std::time::Duration;

use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, RelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::db::DbConfig;

use crate::domain::throttle::ThrottlePolicy;
use crate::keys::{self, KeyError, KeyFiles};

#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    /// Access-token lifetime (~15 min). Tokens of a revoked session are refused by the router
    /// through the Redis revocation set until they expire.
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
    pub database: DbConfig,
    pub kafka: KafkaConfig,
    pub relay: RelayConfig,
    pub consumer: ConsumerConfig,
    /// Where auth publishes (`user.registered`, `auth.session.revoked`).
    pub auth_events_topic: String,
    /// The Redis revocation set the router checks, and the consumer that keeps it current.
    pub revocation: RevocationConfig,
    pub signing_keys: KeyFiles,
    pub active_signing_key: String,
    pub tokens: TokenPolicy,
    pub throttle: ThrottlePolicy,
}

/// Where revoked sessions are mirrored for the router (`AUTH_REVOCATION_*`).
#[derive(Debug, Clone)]
pub struct RevocationConfig {
    /// `AUTH_REVOCATION_REDIS_URL`, defaulting to `REDIS_URL`.
    pub redis_url: String,
    /// `AUTH_REVOCATION_KEY_PREFIX` (`tenor:revoked`): keys are `<prefix>:session:<sid>`.
    pub key_prefix: String,
    /// `AUTH_REVOCATION_TTL`: how long a key lives; at least the access-token TTL plus the
    /// leeway verifiers allow on `exp` (the default is exactly that).
    pub ttl: Duration,
    /// Bound on one Redis round trip of the fast path after commit.
    pub timeout: Duration,
    /// The consumer of `auth.events` that mirrors `auth.session.revoked` into Redis (group
    /// `tenor-auth-revocations`).
    pub consumer: tenor_events::ConsumerConfig,
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
        let auth_events_topic: String = env.optional("AUTH_EVENTS_TOPIC", "auth.events".to_owned());
        let access_ttl = duration(env, "AUTH_ACCESS_TOKEN_TTL", Duration::from_secs(15 * 60));
        let revocation = revocation_from_env(
            env,
            &consumer,
            &auth_events_topic,
            access_ttl + verifier.leeway,
        );
        Self {
            database: DbConfig::from_env(env, "AUTH_DATABASE_URL"),
            relay: RelayConfig::from_env(env),
            consumer,
            kafka,
            auth_events_topic,
            revocation,
            signing_keys,
            active_signing_key,
            tokens: TokenPolicy {
                issuer: verifier.issuer,
                audience: verifier.audience,
                access_ttl,
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

/// Reads the key files at once, so a missing or unusable one stops the service with exit 2 and
/// the variable's name instead of a bare I/O error after start-up began.
pub fn check_signing_keys(env: &mut Env, config: &AuthConfig) {
    if config.signing_keys.0.is_empty() || config.active_signing_key.is_empty() {
        return; // already reported as missing
    }
    match keys::load(&config.signing_keys, &config.active_signing_key) {
        Ok(_) | Err(KeyError::ActiveMissing(_)) => {} // the latter is AUTH_ACTIVE_SIGNING_KEY's
        Err(e) => env.fail("AUTH_SIGNING_KEYS", e.to_string()),
    }
}

/// `AUTH_REVOCATION_REDIS_URL` (default `REDIS_URL`), `AUTH_REVOCATION_KEY_PREFIX`
/// (`tenor:revoked`), `AUTH_REVOCATION_TTL` (access-token TTL + `AUTH_LEEWAY`, never less).
fn revocation_from_env(
    env: &mut Env,
    consumer: &ConsumerConfig,
    auth_events_topic: &str,
    token_lifetime: Duration,
) -> RevocationConfig {
    let (var, redis_url) = match env.maybe::<String>("AUTH_REVOCATION_REDIS_URL") {
        Some(url) => ("AUTH_REVOCATION_REDIS_URL", url),
        None => (
            "REDIS_URL",
            env.optional("REDIS_URL", "redis://127.0.0.1:26479/".to_owned()),
        ),
    };
    if redis::Client::open(redis_url.as_str()).is_err() {
        env.fail(var, "is not a redis:// URL".to_owned());
    }
    let ttl = duration(env, "AUTH_REVOCATION_TTL", token_lifetime);
    if ttl < token_lifetime {
        env.fail(
            "AUTH_REVOCATION_TTL",
            "must be at least AUTH_ACCESS_TOKEN_TTL + AUTH_LEEWAY, or revoked tokens would work again"
                .to_owned(),
        );
    }
    // Its own group: it reads auth's own topic, independently of the user.events consumer.
    let mut mirror = consumer.clone();
    mirror.group_id = format!("{}-revocations", consumer.group_id);
    mirror.topics = vec![auth_events_topic.to_owned()];
    // The mirror retries Redis itself and only returns an error when shutting down; with at
    // least two attempts the runner then stops without storing the offset (no dead letter).
    mirror.max_attempts = mirror.max_attempts.max(2);
    RevocationConfig {
        redis_url,
        key_prefix: env.optional("AUTH_REVOCATION_KEY_PREFIX", "tenor:revoked".to_owned()),
        ttl,
        timeout: Duration::from_secs(1),
        consumer: mirror,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AUTH_DATABASE_URL", "postgres://x/y"),
            ("KAFKA_BROKERS", "k:1"),
            ("AUTH_SIGNING_KEYS", "k1=/nonexistent.pem"),
            ("AUTH_ACTIVE_SIGNING_KEY", "k1"),
        ]
    }

    #[test]
    fn revocation_defaults_follow_redis_url_and_the_token_lifetime() {
        let mut env = Env::from_pairs(base());
        let config = AuthConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert_eq!(config.revocation.redis_url, "redis://127.0.0.1:26479/");

        let mut pairs = base();
        pairs.push(("REDIS_URL", "redis://cache.internal:6379/"));
        let mut env = Env::from_pairs(pairs);
        let config = AuthConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert_eq!(config.revocation.redis_url, "redis://cache.internal:6379/");
        assert_eq!(config.revocation.key_prefix, "tenor:revoked");
        assert_eq!(config.revocation.ttl, Duration::from_secs(15 * 60 + 30));
        assert_eq!(
            config.revocation.consumer.group_id,
            "tenor-auth-revocations"
        );
        assert_eq!(config.revocation.consumer.topics, ["auth.events"]);
        assert_eq!(config.consumer.topics, ["user.events"]);
    }

    #[test]
    fn revocation_settings_are_checked() {
        let mut pairs = base();
        pairs.extend([
            ("REDIS_URL", "redis://ignored/"),
            ("AUTH_REVOCATION_REDIS_URL", "redis://revocations:6380/2"),
            ("AUTH_REVOCATION_KEY_PREFIX", "t1:revoked"),
            ("AUTH_ACCESS_TOKEN_TTL", "5m"),
            ("AUTH_LEEWAY", "10s"),
        ]);
        let mut env = Env::from_pairs(pairs.clone());
        let config = AuthConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert_eq!(config.revocation.redis_url, "redis://revocations:6380/2");
        assert_eq!(config.revocation.key_prefix, "t1:revoked");
        assert_eq!(config.revocation.ttl, Duration::from_secs(310));

        pairs.extend([
            ("AUTH_REVOCATION_REDIS_URL", "not a url"),
            ("AUTH_REVOCATION_TTL", "1m"),
        ]);
        let mut env = Env::from_pairs(pairs);
        let config = AuthConfig::from_env(&mut env);
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            ["AUTH_REVOCATION_REDIS_URL", "AUTH_REVOCATION_TTL"]
        );
    }
}
