//! The loan service running in-process against the stack's PostgreSQL and Kafka, for this
//! crate's tests (feature `test-support`): each test gets its own database, topics, consumer
//! group and token issuer. Credit does not exist yet, so tests produce `credit.decision.made`
//! themselves, exactly as credit's relay would.
//!
//! The payout and payment providers are the simulations, shared by every process of one test as
//! the real companies would be, so a test counts what was paid out whichever process asked; they
//! can be slowed down, and a process can be made to crash around a provider call.

mod providers;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_contracts::kyc::{DocumentType, KycDecisionSource, KycVerifiedV1};
use tenor_contracts::loan::{LoanStatus, LoanStatusChangedV1};
use tenor_events::kafka::ensure_topics;
use tenor_events::{DomainEvent, Envelope};
use tenor_platform::config::Env;
use tenor_platform::testing::{GraphqlClient, TestDatabase, TestIssuer, kafka_brokers};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use providers::{CrashPoint, TestProviders};
pub use tenor_platform::testing::{error_code, user_error_codes};

use crate::domain::eligibility::KycStatus;
use crate::domain::product::Product;
use crate::events::Publisher;
use crate::providers::Providers;
use crate::schema::loaders::LoaderStats;
use crate::service::Loans;
use crate::store::{eligibility, loans};
use crate::{LoanConfig, Wiring};

/// A fresh loan database (outbox/inbox and loan migrations applied).
pub async fn database() -> TestDatabase {
    tenor_events::testing::service_database("loan", crate::MIGRATIONS).await
}

pub struct Topics {
    pub loan: String,
    pub credit: String,
    pub kyc: String,
    pub user: String,
    /// auth's topic: the live consumer reads `auth.session.revoked` from it.
    pub auth: String,
}

/// One running loan process.
pub struct Instance {
    pub base_url: String,
    /// How many DataLoader batches this process ran.
    pub loader_stats: Arc<LoaderStats>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A loan service on a fresh database, topics and issuer.
pub struct TestService {
    pub db: TestDatabase,
    pub issuer: TestIssuer,
    pub topics: Topics,
    pub base_url: String,
    pub client: GraphqlClient,
    pub providers: Arc<TestProviders>,
    run: String,
    product: Product,
    applications_per_day: u32,
    instance: Instance,
}

impl TestService {
    pub async fn start() -> Self {
        tenor_platform::crypto::install_providers();
        let db = database().await;
        let issuer = TestIssuer::start().await;
        let run = Uuid::new_v4().simple().to_string();
        let topics = Topics {
            loan: format!("test.{run}.loan.events"),
            credit: format!("test.{run}.credit.events"),
            kyc: format!("test.{run}.kyc.events"),
            user: format!("test.{run}.user.events"),
            auth: format!("test.{run}.auth.events"),
        };
        let dlqs: Vec<String> = [&topics.credit, &topics.kyc, &topics.user]
            .iter()
            .map(|t| format!("{t}.dlq"))
            .collect();
        let mut all: Vec<(&str, i32)> = vec![
            (&topics.loan, 2),
            (&topics.credit, 1),
            (&topics.kyc, 1),
            (&topics.user, 1),
            (&topics.auth, 2),
        ];
        all.extend(dlqs.iter().map(|t| (t.as_str(), 1)));
        ensure_topics(&kafka_brokers(), &all)
            .await
            .expect("creating test topics (is the stack up? `./dev up`)");
        let providers = Arc::new(TestProviders::default());
        let config = config(&db, &issuer, &topics, &run);
        let product = config.product.clone();
        let applications_per_day = config.applications_per_day;
        let instance = start_instance(config, providers.for_process(None)).await;
        Self {
            base_url: instance.base_url.clone(),
            client: GraphqlClient::new(&instance.base_url),
            db,
            issuer,
            topics,
            providers,
            run,
            product,
            applications_per_day,
            instance,
        }
    }

    /// Another loan process on the same database, topics and providers (a second replica).
    pub async fn another_instance(&self) -> Instance {
        let config = config(&self.db, &self.issuer, &self.topics, &self.run);
        start_instance(config, self.providers.for_process(None)).await
    }

    /// Stop the service and return how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.instance.shutdown.cancel();
        self.instance.task.take().unwrap().await.unwrap()
    }

    /// The DataLoader counters of the first process.
    pub fn loader_stats(&self) -> &LoaderStats {
        &self.instance.loader_stats
    }

    /// The service layer on this test's database and topic, as another process would have it.
    pub fn loans(&self) -> Loans {
        self.loans_crashing_at(None)
    }

    /// Like [`Self::loans`], in a process that crashes (panics) at `crash`.
    pub fn loans_crashing_at(&self, crash: Option<CrashPoint>) -> Loans {
        Loans::new(
            self.db.pool(),
            Publisher::new(self.topics.loan.clone()),
            self.product.clone(),
            self.providers.for_process(crash),
            self.applications_per_day,
        )
    }

    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.client.query(token, query, variables).await
    }

    pub fn customer_token(&self, user: Uuid) -> String {
        self.issuer.token(user, "loan:apply kyc:submit")
    }

    pub fn staff_token(&self, staff: Uuid) -> String {
        self.issuer.token(staff, "loan:operate")
    }

    /// A customer whose KYC is verified in the projection.
    pub async fn verified_customer(&self) -> Uuid {
        let user = Uuid::new_v4();
        let mut conn = self.db.pool().get().await.unwrap();
        eligibility::project_kyc(
            &mut conn,
            user,
            KycStatus::Verified,
            Some(Utc::now() + chrono::Duration::days(365)),
            Utc::now(),
        )
        .await
        .unwrap();
        user
    }

    pub async fn publish<E: DomainEvent>(&self, topic: &str, subject: Uuid, event: &E) {
        let envelope = Envelope::new("/tenor/test", subject.to_string(), event, None).unwrap();
        tenor_events::testing::publish(topic, &envelope).await;
    }

    pub async fn publish_kyc_verified(&self, user: Uuid, verified_at: DateTime<Utc>) {
        let event = KycVerifiedV1 {
            kyc_id: Uuid::new_v4(),
            user_id: user,
            document_type: DocumentType::Ktp,
            source: KycDecisionSource::Automatic,
            decided_by: None,
            verified_at,
            expires_at: verified_at + chrono::Duration::days(365),
        };
        self.publish(&self.topics.kyc, user, &event).await;
    }

    /// Publish credit's decision the way credit's relay would.
    pub async fn decide(
        &self,
        loan: Uuid,
        user: Uuid,
        decision: CreditDecision,
    ) -> CreditDecisionMadeV1 {
        let event = decision_event(loan, user, decision);
        self.publish(&self.topics.credit, loan, &event).await;
        event
    }

    /// Apply for a loan; the payload.
    pub async fn apply(&self, token: &str, amount: i64, tenor: i32, key: &str) -> Value {
        let response = self
            .graphql(
                Some(token),
                APPLY,
                json!({ "amount": amount, "tenor": tenor, "purpose": "modal usaha", "key": key }),
            )
            .await;
        response["data"]["applyLoan"].clone()
    }

    pub async fn loan_status(&self, loan: Uuid) -> Option<String> {
        let mut conn = self.db.pool().get().await.unwrap();
        loans::find(&mut conn, loan)
            .await
            .unwrap()
            .map(|l| l.status.as_db().to_owned())
    }

    pub async fn wait_for_status(&self, loan: Uuid, status: &str) {
        let reached =
            wait_for(async || self.loan_status(loan).await.as_deref() == Some(status)).await;
        assert!(
            reached,
            "loan {loan} never became {status} (is {:?})",
            self.loan_status(loan).await
        );
    }

    /// CloudEvents on the loan topic from the beginning until `done` or a timeout.
    pub async fn loan_events(&self, done: impl FnMut(&[Envelope]) -> bool) -> Vec<Envelope> {
        read_events(&self.topics.loan, Duration::from_secs(20), done).await
    }
}

pub const APPLY: &str = "mutation($amount: Int!, $tenor: Int!, $purpose: String!, $key: String!) {
    applyLoan(amount: $amount, tenorMonths: $tenor, purpose: $purpose, idempotencyKey: $key) {
        loan { id status amount tenorMonths totalCost monthlyInstallment userId }
        userErrors { code field message }
    }
}";

pub fn decision_event(loan: Uuid, user: Uuid, decision: CreditDecision) -> CreditDecisionMadeV1 {
    CreditDecisionMadeV1 {
        decision_id: Uuid::new_v4(),
        loan_id: loan,
        user_id: user,
        decision,
        score: if decision == CreditDecision::Approved {
            720
        } else {
            480
        },
        reason_codes: vec![match decision {
            CreditDecision::Approved => "SCORE_ABOVE_THRESHOLD".into(),
            CreditDecision::Rejected => "SCORE_BELOW_THRESHOLD".into(),
        }],
        reason: Some("policy".into()),
        source: CreditDecisionSource::Automatic,
        decided_by: None,
        decided_at: Utc::now(),
        reviews_decision: None,
    }
}

/// The configuration of one test process.
fn config(db: &TestDatabase, issuer: &TestIssuer, topics: &Topics, run: &str) -> LoanConfig {
    let mut env = Env::from_pairs([
        ("LOAN_DATABASE_URL", db.url().to_owned()),
        ("KAFKA_BROKERS", kafka_brokers()),
        ("LOAN_EVENTS_TOPIC", topics.loan.clone()),
        ("CREDIT_EVENTS_TOPIC", topics.credit.clone()),
        ("KYC_EVENTS_TOPIC", topics.kyc.clone()),
        ("USER_EVENTS_TOPIC", topics.user.clone()),
        ("AUTH_EVENTS_TOPIC", topics.auth.clone()),
        ("DB_MAX_CONNECTIONS", "8".to_owned()),
        ("CONSUMER_INITIAL_BACKOFF", "20ms".to_owned()),
        // A retry budget of a few seconds: long enough for a test to fix a failure mid-retry.
        ("CONSUMER_MAX_ATTEMPTS", "20".to_owned()),
        ("CONSUMER_MAX_BACKOFF", "200ms".to_owned()),
        ("OUTBOX_POLL_INTERVAL", "100ms".to_owned()),
        // The job is driven by tests with their own "today".
        ("LOAN_DAILY_JOB_INTERVAL", "1h".to_owned()),
        // Stalled money movements are taken over within seconds (longer than the slowest
        // provider a test simulates, so an intent still in flight is left alone).
        ("LOAN_MOVEMENT_RESUME_AFTER", "4s".to_owned()),
        ("LOAN_MOVEMENT_RESUME_EVERY", "200ms".to_owned()),
    ]);
    let config = LoanConfig::from_env(&mut env);
    let mut config = env.finish(config).expect("test configuration");
    config.verifier = issuer.verifier_config();
    // A group per test: parallel tests in one group would rebalance each other's partitions.
    config.consumer.group_id = format!("tenor-loan-test-{run}");
    config
}

async fn start_instance(config: LoanConfig, providers: Providers) -> Instance {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let loader_stats = Arc::new(LoaderStats::default());
    let wiring = Wiring {
        providers,
        loader_stats: loader_stats.clone(),
    };
    let task = tokio::spawn(crate::run_with(config, wiring, listener, shutdown.clone()));
    assert!(
        tenor_platform::testing::wait_until_ready(&base_url).await,
        "the loan service did not become ready"
    );
    Instance {
        base_url,
        loader_stats,
        shutdown,
        task: Some(task),
    }
}

pub use tenor_events::testing::read_events;
pub use tenor_platform::testing::wait_for;

/// The `loan.status.changed` events of `loan` among `events`, in published order.
pub fn status_events(events: &[Envelope], loan: Uuid) -> Vec<LoanStatusChangedV1> {
    events
        .iter()
        .filter_map(|e| e.decode::<LoanStatusChangedV1>().ok())
        .filter(|s| s.loan_id == loan)
        .collect()
}

/// The statuses `loan` went through among `events`, in published order.
pub fn status_changes(events: &[Envelope], loan: Uuid) -> Vec<LoanStatus> {
    status_events(events, loan)
        .into_iter()
        .map(|s| s.status)
        .collect()
}

pub fn loan_id(payload: &Value) -> Uuid {
    payload["loan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no loan in {payload}"))
        .parse()
        .unwrap()
}
