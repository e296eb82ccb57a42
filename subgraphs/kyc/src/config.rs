//! The KYC service's settings, all from environment variables (see README "Configuration").
//! Key material is required and never defaulted: a missing or malformed key stops the service
//! at start (exit 2) instead of running with data nobody can decrypt.

use std::sync::Arc;
use std::time::Duration;

use tenor_contracts::topics;
use tenor_events::kafka::KafkaConfig;
use tenor_events::{ConsumerConfig, RelayConfig};
use tenor_platform::auth::VerifierConfig;
use tenor_platform::config::{Env, HumanDuration};
use tenor_platform::db::DbConfig;

use crate::crypto::{BlindIndex, Key32, UrlSigner, Vault};
use crate::domain::Thresholds;
use crate::schema::LoaderStats;

#[derive(Debug, Clone)]
pub struct KycConfig {
    pub db: DbConfig,
    pub kafka: KafkaConfig,
    /// Where this service publishes (`KYC_EVENTS_TOPIC`, default `kyc.events`).
    pub kyc_events_topic: String,
    /// What it reacts to (`USER_EVENTS_TOPIC`, default `user.events`): a deleted account.
    pub user_events_topic: String,
    pub consumer: ConsumerConfig,
    pub verifier: VerifierConfig,
    pub relay: RelayConfig,
    /// Base of the signed upload/download URLs handed to clients (`KYC_PUBLIC_URL`).
    pub public_url: String,
    /// `file:///dir` (local filesystem) or `s3://bucket/prefix` (`AWS_*` variables configure
    /// the endpoint and credentials) — `KYC_OBJECT_STORE_URL`.
    pub object_store_url: String,
    pub vault: Vault,
    pub blind_index: BlindIndex,
    pub url_signer: UrlSigner,
    pub upload_max_bytes: usize,
    pub upload_url_ttl: Duration,
    pub download_url_ttl: Duration,
    pub thresholds: Thresholds,
    /// How long a verification stays valid before the expiry job marks it EXPIRED.
    pub validity: Duration,
    /// Submissions one account may make in any 24 hours (`KYC_SUBMISSIONS_PER_DAY`, at least 1).
    pub submissions_per_day: u32,
    pub verification_poll_interval: Duration,
    pub expiry_check_interval: Duration,
    /// Images uploaded but never submitted are deleted this long after their link was issued
    /// (data minimisation: no orphaned selfies).
    pub abandoned_upload_ttl: Duration,
    /// Counts `User.kyc` batch queries (not from the environment; tests read it).
    pub loader_stats: Arc<LoaderStats>,
}

impl KycConfig {
    pub fn from_env(env: &mut Env) -> Self {
        let db = DbConfig::from_env(env, "KYC_DATABASE_URL");
        let kafka = KafkaConfig::from_env(env, "tenor-kyc");
        let kyc_events_topic = env.optional("KYC_EVENTS_TOPIC", topics::KYC.to_owned());
        let user_events_topic: String = env.optional("USER_EVENTS_TOPIC", topics::USER.to_owned());
        let consumer = ConsumerConfig::from_env(
            env,
            kafka.clone(),
            crate::events::CONSUMER_GROUP,
            &[&user_events_topic],
        );
        // This service on this machine, at its port in services.toml.
        let local = format!(
            "http://127.0.0.1:{}",
            tenor_platform::manifest::service("kyc").port
        );
        let public_url: String = env.optional("KYC_PUBLIC_URL", local);
        if !url::Url::parse(&public_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            env.fail("KYC_PUBLIC_URL", "is not an http(s) URL".into());
        }
        let object_store_url: String = env.required("KYC_OBJECT_STORE_URL");
        let known_scheme =
            object_store_url.starts_with("file:///") || object_store_url.starts_with("s3://");
        if !object_store_url.is_empty() && !known_scheme {
            env.fail(
                "KYC_OBJECT_STORE_URL",
                "must be file:///absolute/dir or s3://bucket[/prefix]".into(),
            );
        }

        let vault = Vault::from_env(env, "KYC", "primary");
        let master = vault.current_key().clone();
        let blind_index_key: Key32 = env.required("KYC_BLIND_INDEX_KEY");
        let url_signing_key: Key32 = env.required("KYC_URL_SIGNING_KEY");
        // One key, one purpose: a leaked URL-signing key must not also unlock the blind index.
        let zero = Key32::default();
        if master != zero && (master == blind_index_key || master == url_signing_key)
            || blind_index_key != zero && blind_index_key == url_signing_key
        {
            env.fail(
                "KYC_BLIND_INDEX_KEY",
                "master, blind-index and URL-signing keys must all differ".into(),
            );
        }

        let upload_max_bytes = env.optional("KYC_UPLOAD_MAX_BYTES", 5 * 1024 * 1024);
        let duration = |env: &mut Env, var: &str, default: Duration| -> Duration {
            env.optional(var, HumanDuration(default)).into()
        };
        let upload_url_ttl = duration(env, "KYC_UPLOAD_URL_TTL", Duration::from_secs(600));
        let download_url_ttl = duration(env, "KYC_DOWNLOAD_URL_TTL", Duration::from_secs(300));
        let approve = env.optional("KYC_AUTO_APPROVE_SCORE", 0.85);
        let reject = env.optional("KYC_AUTO_REJECT_SCORE", 0.5);
        if !(0.0..=1.0).contains(&reject) || !(0.0..=1.0).contains(&approve) || reject > approve {
            env.fail(
                "KYC_AUTO_REJECT_SCORE",
                "scores are 0–1 and the reject score is not above the approve score".into(),
            );
        }
        let validity = duration(env, "KYC_VALIDITY", Duration::from_secs(365 * 24 * 3600));
        let submissions_per_day = env.optional("KYC_SUBMISSIONS_PER_DAY", 3u32);
        if submissions_per_day == 0 {
            env.fail("KYC_SUBMISSIONS_PER_DAY", "must be at least 1".to_owned());
        }
        let verification_poll_interval = duration(
            env,
            "KYC_VERIFICATION_POLL_INTERVAL",
            Duration::from_secs(1),
        );
        let expiry_check_interval =
            duration(env, "KYC_EXPIRY_CHECK_INTERVAL", Duration::from_secs(3600));
        let abandoned_upload_ttl = duration(
            env,
            "KYC_ABANDONED_UPLOAD_TTL",
            Duration::from_secs(24 * 3600),
        );

        Self {
            db,
            kafka,
            kyc_events_topic,
            user_events_topic,
            consumer,
            verifier: VerifierConfig::from_env(env),
            relay: RelayConfig::from_env(env),
            public_url: public_url.trim_end_matches('/').to_owned(),
            object_store_url,
            vault,
            blind_index: BlindIndex::new(blind_index_key),
            url_signer: UrlSigner::new(url_signing_key),
            upload_max_bytes,
            upload_url_ttl,
            download_url_ttl,
            thresholds: Thresholds { approve, reject },
            validity,
            submissions_per_day,
            verification_poll_interval,
            expiry_check_interval,
            abandoned_upload_ttl,
            loader_stats: Arc::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> [(&'static str, String); 3] {
        [
            ("KYC_MASTER_KEY", Key32::random().to_base64()),
            ("KYC_BLIND_INDEX_KEY", Key32::random().to_base64()),
            ("KYC_URL_SIGNING_KEY", Key32::random().to_base64()),
        ]
    }

    #[test]
    fn required_variables_are_named() {
        let mut env = Env::from_pairs([("KAFKA_BROKERS", "k:1")]);
        let config = KycConfig::from_env(&mut env);
        assert_eq!(config.kyc_events_topic, "kyc.events");
        assert_eq!(config.upload_max_bytes, 5 * 1024 * 1024);
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            [
                "KYC_DATABASE_URL",
                "KYC_OBJECT_STORE_URL",
                "KYC_MASTER_KEY",
                "KYC_BLIND_INDEX_KEY",
                "KYC_URL_SIGNING_KEY"
            ]
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64_and_distinct() {
        let shared = Key32::random().to_base64();
        let mut env = Env::from_pairs([
            ("KYC_DATABASE_URL", "postgres://x/y".to_owned()),
            ("KAFKA_BROKERS", "k:1".to_owned()),
            ("KYC_OBJECT_STORE_URL", "file:///tmp/kyc".to_owned()),
            ("KYC_MASTER_KEY", "c2hvcnQ=".to_owned()),
            ("KYC_BLIND_INDEX_KEY", shared.clone()),
            ("KYC_URL_SIGNING_KEY", shared),
        ]);
        let config = KycConfig::from_env(&mut env);
        let errors = env.finish(config).unwrap_err();
        assert_eq!(errors.vars(), ["KYC_MASTER_KEY", "KYC_BLIND_INDEX_KEY"]);
        assert!(!errors.to_string().contains("c2hvcnQ"), "{errors}");
    }

    #[test]
    fn a_complete_environment_is_accepted_with_rotation_keys() {
        let old = Key32::random();
        let mut pairs: Vec<(&str, String)> = keys().into();
        pairs.extend([
            ("KYC_DATABASE_URL", "postgres://x/y".to_owned()),
            ("KAFKA_BROKERS", "k:1".to_owned()),
            ("KYC_OBJECT_STORE_URL", "s3://bucket/kyc".to_owned()),
            ("KYC_MASTER_KEY_ID", "2026-07".to_owned()),
            (
                "KYC_PREVIOUS_MASTER_KEYS",
                format!("2026-01={}", old.to_base64()),
            ),
            ("KYC_AUTO_APPROVE_SCORE", "0.9".to_owned()),
            ("KYC_VALIDITY", "30days".to_owned()),
        ]);
        let mut env = Env::from_pairs(pairs);
        let config = KycConfig::from_env(&mut env);
        let config = env.finish(config).unwrap();
        assert_eq!(config.vault.current_key_id(), "2026-07");
        let sealed = Vault::new("2026-01", old).seal(b"c", b"x");
        assert_eq!(config.vault.open(b"c", &sealed).unwrap(), b"x");
        assert_eq!(config.thresholds.approve, 0.9);
        assert_eq!(config.validity, Duration::from_secs(30 * 24 * 3600));
    }

    #[test]
    fn contradictory_thresholds_and_bad_store_urls_are_refused() {
        let mut pairs: Vec<(&str, String)> = keys().into();
        pairs.extend([
            ("KYC_DATABASE_URL", "postgres://x/y".to_owned()),
            ("KAFKA_BROKERS", "k:1".to_owned()),
            ("KYC_OBJECT_STORE_URL", "ftp://x".to_owned()),
            ("KYC_AUTO_APPROVE_SCORE", "0.4".to_owned()),
            ("KYC_SUBMISSIONS_PER_DAY", "0".to_owned()),
        ]);
        let mut env = Env::from_pairs(pairs);
        let config = KycConfig::from_env(&mut env);
        assert_eq!(
            env.finish(config).unwrap_err().vars(),
            [
                "KYC_OBJECT_STORE_URL",
                "KYC_AUTO_REJECT_SCORE",
                "KYC_SUBMISSIONS_PER_DAY"
            ]
        );
    }
}
