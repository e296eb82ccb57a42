//! The user service running in-process against the stack's PostgreSQL and Kafka: each test gets
//! its own database, topics, consumer group and token issuer.

#![allow(dead_code)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tenor_contracts::identity::{AccountKind, UserRegisteredV1};
use tenor_events::Envelope;
use tenor_events::kafka::ensure_topics;
use tenor_events::testing::envelopes;
use tenor_platform::config::Env;
use tenor_platform::testing::{TestDatabase, TestIssuer, kafka_brokers};
use tenor_user::domain::Profile;
use tenor_user::{UserConfig, store};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub async fn database() -> TestDatabase {
    TestDatabase::new("user", || {
        vec![tenor_events::MIGRATIONS, tenor_user::MIGRATIONS]
    })
    .await
}

pub struct TestService {
    pub db: TestDatabase,
    pub issuer: TestIssuer,
    pub auth_topic: String,
    pub user_topic: String,
    pub base_url: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestService {
    pub async fn start() -> Self {
        tenor_platform::telemetry::install_tls_provider();
        let db = database().await;
        let issuer = TestIssuer::start().await;
        let run = Uuid::new_v4().simple();
        let auth_topic = format!("test.{run}.auth.events");
        let user_topic = format!("test.{run}.user.events");
        let auth_dlq = format!("{auth_topic}.dlq");
        ensure_topics(
            &kafka_brokers(),
            &[(&auth_topic, 1), (&auth_dlq, 1), (&user_topic, 1)],
        )
        .await
        .expect("creating test topics (is the stack up? `./dev up`)");

        let mut env = Env::from_pairs([
            ("USER_DATABASE_URL", db.url().to_owned()),
            ("KAFKA_BROKERS", kafka_brokers()),
            ("AUTH_EVENTS_TOPIC", auth_topic.clone()),
            ("USER_EVENTS_TOPIC", user_topic.clone()),
            ("DB_MAX_CONNECTIONS", "4".to_owned()),
            ("CONSUMER_INITIAL_BACKOFF", "20ms".to_owned()),
        ]);
        let config = UserConfig::from_env(&mut env);
        let mut config = env.finish(config).expect("test configuration");
        config.verifier = issuer.verifier_config();
        // A group per test: parallel tests in one group would rebalance each other's partitions.
        config.consumer.group_id = format!("tenor-user-test-{run}");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(tenor_user::run(config, listener, shutdown.clone()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let service = Self {
            db,
            issuer,
            auth_topic,
            user_topic,
            base_url,
            http,
            shutdown,
            task: Some(task),
        };
        service.wait_ready().await;
        service
    }

    async fn wait_ready(&self) {
        for _ in 0..300 {
            if let Ok(response) = self
                .http
                .get(format!("{}/ready", self.base_url))
                .send()
                .await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the user service did not become ready");
    }

    /// Stop the service and return how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.take().unwrap().await.unwrap()
    }

    /// POST a GraphQL request; the whole JSON response.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// A customer's token.
    pub fn customer_token(&self, user: Uuid) -> String {
        self.issuer.token(user, "loan:apply kyc:submit")
    }

    /// A back-office token with `user:admin`.
    pub fn staff_token(&self, staff: Uuid) -> String {
        self.issuer.token(staff, "user:admin")
    }

    pub async fn seed(&self, fullname: &str) -> Uuid {
        seed(&self.db, fullname, Utc::now()).await
    }

    pub async fn profile(&self, id: Uuid) -> Option<Profile> {
        profile(&self.db, id).await
    }

    /// Publish a registration on the auth topic the way auth's relay does.
    pub async fn publish(&self, envelope: &Envelope) {
        tenor_events::testing::publish(&self.auth_topic, envelope).await;
    }

    /// Events on the user topic, read from the beginning until `done` or a timeout.
    pub async fn user_events(&self, done: impl FnMut(&[Envelope]) -> bool) -> Vec<Envelope> {
        read_until(&self.user_topic, Duration::from_secs(20), done).await
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn registration(fullname: &str, registered_at: DateTime<Utc>) -> UserRegisteredV1 {
    let user_id = Uuid::new_v4();
    UserRegisteredV1 {
        user_id,
        email: format!("{}@example.id", user_id.simple()),
        phone_number: None,
        fullname: fullname.to_owned(),
        kind: AccountKind::Customer,
        registered_at,
    }
}

/// A profile created through the same store call the registration consumer uses.
pub async fn seed(db: &TestDatabase, fullname: &str, registered_at: DateTime<Utc>) -> Uuid {
    seed_registration(db, &registration(fullname, registered_at)).await
}

pub async fn seed_registration(db: &TestDatabase, registered: &UserRegisteredV1) -> Uuid {
    let mut conn = db.pool().get().await.unwrap();
    assert!(
        store::create_registered(&mut conn, registered)
            .await
            .unwrap()
    );
    registered.user_id
}

pub async fn profile(db: &TestDatabase, id: Uuid) -> Option<Profile> {
    let mut conn = db.pool().get().await.unwrap();
    store::find(&mut conn, id).await.unwrap()
}

pub fn registration_envelope(registered: &UserRegisteredV1) -> Envelope {
    Envelope::new(
        "/tenor/auth",
        registered.user_id.to_string(),
        registered,
        None,
    )
    .unwrap()
}

pub async fn wait_for(mut condition: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..300 {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// CloudEvents on `topic` from the beginning until `done` or `timeout`; every message must be a
/// CloudEvent keyed by its aggregate id.
pub async fn read_until(
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Envelope]) -> bool,
) -> Vec<Envelope> {
    let received = tenor_events::testing::read_until(topic, timeout, |r| done(&envelopes(r))).await;
    for message in &received {
        let envelope = message
            .envelope
            .as_ref()
            .expect("only CloudEvents on the user topic");
        assert_eq!(
            Some(message.key.as_str()),
            envelope.subject(),
            "Kafka key = aggregate id"
        );
    }
    envelopes(&received)
}

/// `errors[0].extensions.code` of a response.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response}"))
}

/// The `code`s of a payload's userErrors.
pub fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors in {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}
