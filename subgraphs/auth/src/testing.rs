//! The auth subgraph started for a test (feature `test-support`): in-process against the
//! stack's PostgreSQL, Kafka and Redis, with its own database, topics, signing keys and
//! revocation key prefix per test, and the calls the tests make through its GraphQL API.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use tenor_events::kafka::ensure_topics;
use tenor_platform::config::Env;
use tenor_platform::testing::{GraphqlClient, TestDatabase, kafka_brokers, redis_url};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::AuthConfig;

pub use tenor_events::testing::publish;
/// The `code`s of a payload's `userErrors`.
pub use tenor_platform::testing::user_error_codes as codes;

/// The User-Agent the tests' requests carry (sessions record it).
pub const USER_AGENT: &str = "tenor-tests/1.0";

pub struct TestAuth {
    pub url: String,
    /// GraphQL client for `url`.
    pub client: GraphqlClient,
    pub db: TestDatabase,
    pub auth_topic: String,
    pub user_topic: String,
    pub keys_dir: PathBuf,
    /// `AUTH_REVOCATION_KEY_PREFIX` of this test (its own, in the stack's Redis).
    pub revocation_prefix: String,
    /// The settings the service was last launched with.
    pub settings: Vec<(String, String)>,
    /// This test's consumer group suffix (stable across restarts of the service).
    pub run: String,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Settings a test may change; the rest are production defaults.
pub fn base_settings(
    db: &TestDatabase,
    keys: &str,
    active: &str,
    auth_topic: &str,
    user_topic: &str,
) -> Vec<(String, String)> {
    let revocation_prefix = format!("{auth_topic}:revoked");
    [
        ("AUTH_DATABASE_URL", db.url()),
        ("KAFKA_BROKERS", &kafka_brokers()),
        ("AUTH_SIGNING_KEYS", keys),
        ("AUTH_ACTIVE_SIGNING_KEY", active),
        ("AUTH_EVENTS_TOPIC", auth_topic),
        ("USER_EVENTS_TOPIC", user_topic),
        ("OUTBOX_POLL_INTERVAL", "200ms"),
        ("CONSUMER_INITIAL_BACKOFF", "50ms"),
        ("REDIS_URL", &redis_url()),
        ("AUTH_REVOCATION_KEY_PREFIX", &revocation_prefix),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub fn new_key(dir: &std::path::Path, kid: &str) -> String {
    let path = dir.join(format!("{kid}.pem"));
    std::fs::write(&path, crate::keys::generate_pem()).unwrap();
    format!("{kid}={}", path.display())
}

impl TestAuth {
    /// A fresh service with default settings overridden by `overrides`.
    pub async fn start(overrides: &[(&str, &str)]) -> Self {
        tenor_platform::crypto::install_providers();
        let db = tenor_events::testing::service_database("auth", crate::MIGRATIONS).await;
        let suffix = Uuid::new_v4().simple().to_string();
        let auth_topic = format!("test.{suffix}.auth.events");
        let user_topic = format!("test.{suffix}.user.events");
        ensure_topics(
            &kafka_brokers(),
            &[
                (&auth_topic, 1),
                (&user_topic, 1),
                (&format!("{auth_topic}.dlq"), 1),
                (&format!("{user_topic}.dlq"), 1),
            ],
        )
        .await
        .expect("topics (is the stack up? ./dev up)");
        let keys_dir = std::env::temp_dir().join(format!("tenor-auth-test-{suffix}"));
        std::fs::create_dir_all(&keys_dir).unwrap();
        let keys = new_key(&keys_dir, "k1");
        let mut settings = base_settings(&db, &keys, "k1", &auth_topic, &user_topic);
        for (k, v) in overrides {
            settings.retain(|(key, _)| key != k);
            settings.push((k.to_string(), v.to_string()));
        }
        let mut me = Self {
            url: String::new(),
            client: GraphqlClient::new("http://127.0.0.1:0"),
            db,
            revocation_prefix: format!("{auth_topic}:revoked"),
            auth_topic,
            user_topic,
            keys_dir,
            settings: Vec::new(),
            run: suffix,
            shutdown: CancellationToken::new(),
            task: None,
        };
        me.launch(settings).await;
        me
    }

    /// (Re)start the service on this test's database with `settings`.
    pub async fn launch(&mut self, settings: Vec<(String, String)>) {
        self.settings = settings.clone();
        let config = self.config();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.url = format!("http://{}", listener.local_addr().unwrap());
        self.client = GraphqlClient::new(&self.url);
        self.shutdown = CancellationToken::new();
        self.task = Some(tokio::spawn(crate::run(
            config,
            listener,
            self.shutdown.clone(),
        )));
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if client
                .get(format!("{}/health", self.url))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("auth did not start");
    }

    /// The configuration of the last launch. Each test has its own revocation consumer group
    /// (parallel tests in one group would rebalance each other).
    pub fn config(&self) -> AuthConfig {
        let mut env = Env::from_pairs(self.settings.clone());
        let config = AuthConfig::from_env(&mut env);
        let mut config = env.finish(config).expect("valid test configuration");
        config.revocation.consumer.group_id = format!("tenor-auth-revocations-test-{}", self.run);
        config
    }

    /// The Redis key the router checks for session `sid`.
    pub fn revocation_key(&self, sid: &str) -> String {
        format!("{}:session:{sid}", self.revocation_prefix)
    }

    /// Remaining life of session `sid`'s revocation key in ms; `None` when there is none.
    pub async fn revocation_ttl(&self, sid: &str) -> Option<i64> {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let key = self.revocation_key(sid);
        let (value, ttl): (Option<String>, i64) = redis::pipe()
            .get(&key)
            .pttl(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        match value {
            Some(value) => {
                assert_eq!(value, "1", "{key}");
                Some(ttl)
            }
            None => None,
        }
    }

    /// Wait (up to 15 s) for session `sid`'s revocation key; its remaining life in ms.
    pub async fn wait_for_revocation(&self, sid: &str) -> Option<i64> {
        for _ in 0..150 {
            if let Some(ttl) = self.revocation_ttl(sid).await {
                return Some(ttl);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// The response to `query` as the holder of `token` (anonymous if none).
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = json!({ "query": query, "variables": variables });
        self.client
            .post(token, body, &[("user-agent", USER_AGENT)])
            .await
            .1
    }

    pub async fn register(&self, email: &str, phone: &str, password: &str) -> Value {
        self.gql(
            "mutation($i: RegisterInput!) { register(input: $i) { userId userErrors { code field message } } }",
            json!({ "i": { "fullname": "Siti Rahayu", "email": email, "phoneNumber": phone, "password": password } }),
            None,
        )
        .await["data"]["register"]
            .clone()
    }

    pub async fn login(&self, identifier: &str, password: &str) -> Value {
        self.gql(
            "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken refreshToken userId sessionId accessTokenExpiresAt } userErrors { code field message } } }",
            json!({ "i": { "identifier": identifier, "password": password, "device": { "id": "test-device-1", "name": "Pixel 7" } } }),
            None,
        )
        .await["data"]["login"]
            .clone()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Value {
        self.gql(
            "mutation($t: String!) { refreshToken(refreshToken: $t) { tokens { accessToken refreshToken sessionId } userErrors { code field message } } }",
            json!({ "t": refresh_token }),
            None,
        )
        .await["data"]["refreshToken"]
            .clone()
    }

    pub async fn count(&self, table: &str) -> i64 {
        let (client, connection) = tokio_postgres::connect(self.db.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0)
    }
}

impl Drop for TestAuth {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = std::fs::remove_dir_all(&self.keys_dir);
    }
}

pub const PASSWORD: &str = "kopi susu di pagi hari";

/// A unique, valid email and phone number for one test user.
pub fn identity() -> (String, String) {
    let n = Uuid::new_v4().as_u128();
    (
        format!("user{}@example.id", n % 1_000_000_000),
        format!("0812{:08}", n % 100_000_000),
    )
}
