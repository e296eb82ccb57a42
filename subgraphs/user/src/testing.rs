//! The user subgraph started in-process for tests, against the stack's PostgreSQL and Kafka:
//! each [`TestService`] gets its own database, topics, consumer group and token issuer, and
//! talks GraphQL over HTTP through the shared [`GraphqlClient`]. Also the fixtures those tests
//! share: registrations, seeded profiles, and reading what the service published.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tenor_contracts::identity::{AccountKind, UserRegisteredV1};
use tenor_contracts::loan::LoanStatusChangedV1;
use tenor_events::Envelope;
use tenor_events::kafka::ensure_topics;
use tenor_platform::config::Env;
use tenor_platform::testing::{GraphqlClient, TestDatabase, TestIssuer, kafka_brokers};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::Profile;
use crate::{UserConfig, store};

/// A fresh database with the outbox/inbox and user migrations applied.
pub async fn database() -> TestDatabase {
    tenor_events::testing::service_database("user", crate::MIGRATIONS).await
}

/// A running user service; stopped when dropped.
pub struct TestService {
    pub db: TestDatabase,
    pub issuer: TestIssuer,
    pub auth_topic: String,
    pub loan_topic: String,
    pub user_topic: String,
    pub base_url: String,
    /// GraphQL requests to this service's `/graphql`.
    pub graphql: GraphqlClient,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestService {
    pub async fn start() -> Self {
        tenor_platform::crypto::install_providers();
        let db = database().await;
        let issuer = TestIssuer::start().await;
        let run = Uuid::new_v4().simple();
        let auth_topic = format!("test.{run}.auth.events");
        let loan_topic = format!("test.{run}.loan.events");
        let user_topic = format!("test.{run}.user.events");
        let auth_dlq = format!("{auth_topic}.dlq");
        let loan_dlq = format!("{loan_topic}.dlq");
        ensure_topics(
            &kafka_brokers(),
            &[
                (&auth_topic, 1),
                (&auth_dlq, 1),
                (&loan_topic, 1),
                (&loan_dlq, 1),
                (&user_topic, 1),
            ],
        )
        .await
        .expect("creating test topics (is the stack up? `./dev up`)");

        let mut env = Env::from_pairs([
            ("USER_DATABASE_URL", db.url().to_owned()),
            ("KAFKA_BROKERS", kafka_brokers()),
            ("AUTH_EVENTS_TOPIC", auth_topic.clone()),
            ("LOAN_EVENTS_TOPIC", loan_topic.clone()),
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
        let task = tokio::spawn(crate::run(config, listener, shutdown.clone()));
        let service = Self {
            db,
            issuer,
            auth_topic,
            loan_topic,
            user_topic,
            graphql: GraphqlClient::new(&base_url),
            base_url,
            shutdown,
            task: Some(task),
        };
        service.wait_ready().await;
        service
    }

    async fn wait_ready(&self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        for _ in 0..300 {
            if let Ok(response) = http.get(format!("{}/ready", self.base_url)).send().await
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

    /// Publish a loan's status change on the loan topic the way loan's relay does; returns the
    /// envelope (its id tells when it was applied: [`TestService::applied`]).
    pub async fn publish_loan_status(&self, changed: &LoanStatusChangedV1) -> Envelope {
        let envelope =
            Envelope::new("/tenor/loan", changed.loan_id.to_string(), changed, None).unwrap();
        tenor_events::testing::publish(&self.loan_topic, &envelope).await;
        envelope
    }

    /// Whether the consumer has applied the event (its id is in the inbox).
    pub async fn applied(&self, event: &Envelope) -> bool {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        diesel::table! { inbox_events (consumer, event_id) { consumer -> Text, event_id -> Uuid, } }
        let mut conn = self.db.pool().get().await.unwrap();
        inbox_events::table
            .filter(inbox_events::event_id.eq(event.id()))
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap()
            == 1
    }

    /// How many of the account's loans the user context holds open.
    pub async fn open_loans(&self, user: Uuid) -> i64 {
        let mut conn = self.db.pool().get().await.unwrap();
        store::open_loans(&mut conn, user).await.unwrap()
    }

    /// Events on the user topic, read from the beginning until `done` or a timeout.
    pub async fn user_events(&self, done: impl FnMut(&[Envelope]) -> bool) -> Vec<Envelope> {
        read_events(&self.user_topic, Duration::from_secs(20), done).await
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A customer's registration as auth announces it, with a fresh id and email.
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

pub use tenor_events::testing::read_events;
pub use tenor_platform::testing::wait_for;
