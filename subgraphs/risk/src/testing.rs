//! Test support (feature `test-support`): this subgraph running in-process against the stack's
//! MongoDB and Kafka — each [`TestService`] gets its own database, loan and risk topics, master
//! key, consumer group and token issuer — plus the bureau sandbox, for this crate's tests and
//! the lead's system tests.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mongodb::Database;
use mongodb::bson::{Document, RawDocumentBuf, doc};
use tenor_contracts::loan::LoanSubmittedV1;
use tenor_events::Envelope;
use tenor_platform::config::Env;
use tenor_platform::loaders::LoaderStats;
pub use tenor_platform::testing::{GraphqlClient, error_code};
use tenor_platform::testing::{TestIssuer, kafka_brokers, mongodb_url};
use tenor_platform::vault::Key32;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::RiskConfig;
use crate::bureau::CreditBureau;
pub use crate::bureau::sandbox::{
    BureauProfile, borderline, clean, delinquent, low_score, many_platforms, preset,
    set_bureau_profile, unavailable,
};

/// A [`RiskConfig`] from `pairs` (e.g. `MONGODB_URL`, `RISK_MONGODB_DATABASE`, topics, a
/// `RISK_MASTER_KEY`); panics naming every bad variable.
pub fn config_from_pairs<K: Into<String>, V: Into<String>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> RiskConfig {
    let mut env = Env::from_pairs(pairs);
    let config = RiskConfig::from_env(&mut env);
    env.finish(config).expect("risk test configuration")
}

/// A fresh database name on the stack's MongoDB server.
pub fn fresh_database_name() -> String {
    format!("test_risk_{}", Uuid::new_v4().simple())
}

/// `name` on the stack's MongoDB server.
pub async fn database(name: &str) -> Database {
    tenor_platform::mongo::database(&tenor_platform::mongo::MongoConfig {
        url: mongodb_url(),
        database: name.to_owned(),
    })
    .await
    .expect("MongoDB client (is the stack up? `./dev up`)")
}

/// One running risk service and everything it was started with.
pub struct TestService {
    pub db: Database,
    pub db_name: String,
    pub issuer: TestIssuer,
    pub loan_topic: String,
    pub risk_topic: String,
    pub master_key: String,
    pub client: GraphqlClient,
    pub base_url: String,
    pub loader_stats: Arc<LoaderStats>,
    run: String,
    extra_env: Vec<(String, String)>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestService {
    pub async fn start() -> Self {
        Self::start_with(&[], None).await
    }

    /// With extra environment variables and a bureau (`None`: the simulated one).
    pub async fn start_with(
        extra_env: &[(&str, &str)],
        bureau: Option<Arc<dyn CreditBureau>>,
    ) -> Self {
        tenor_platform::crypto::install_providers();
        let db_name = fresh_database_name();
        let loan_topic = tenor_events::testing::fresh_topic("loan.events", 3).await;
        let risk_topic = tenor_events::testing::fresh_topic("risk.events", 3).await;
        let mut service = Self {
            db: database(&db_name).await,
            db_name,
            issuer: TestIssuer::start().await,
            loan_topic,
            risk_topic,
            master_key: Key32::random().to_base64(),
            client: GraphqlClient::new("http://127.0.0.1:0"),
            base_url: String::new(),
            loader_stats: Arc::default(),
            run: Uuid::new_v4().simple().to_string(),
            extra_env: extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            shutdown: CancellationToken::new(),
            task: None,
        };
        service.launch(bureau).await;
        service
    }

    /// The configuration this service runs with.
    pub fn config(&self) -> RiskConfig {
        let mut pairs: Vec<(String, String)> = vec![
            ("MONGODB_URL".into(), mongodb_url()),
            ("RISK_MONGODB_DATABASE".into(), self.db_name.clone()),
            ("KAFKA_BROKERS".into(), kafka_brokers()),
            ("LOAN_EVENTS_TOPIC".into(), self.loan_topic.clone()),
            ("RISK_EVENTS_TOPIC".into(), self.risk_topic.clone()),
            ("RISK_MASTER_KEY".into(), self.master_key.clone()),
            ("OUTBOX_POLL_INTERVAL".into(), "100ms".into()),
            ("RISK_WORKER_POLL".into(), "100ms".into()),
            ("RISK_BUREAU_LATENCY_MIN".into(), "1ms".into()),
            ("RISK_BUREAU_LATENCY_MAX".into(), "5ms".into()),
            ("CONSUMER_INITIAL_BACKOFF".into(), "20ms".into()),
            ("CONSUMER_MAX_BACKOFF".into(), "200ms".into()),
        ];
        pairs.extend(self.extra_env.iter().cloned());
        let mut config = config_from_pairs(pairs);
        config.verifier = self.issuer.verifier_config();
        config.loader_stats = self.loader_stats.clone();
        // A group per test: parallel tests in one group would rebalance each other's partitions.
        config.consumer.group_id = format!("tenor-risk-test-{}", self.run);
        config
    }

    async fn launch(&mut self, bureau: Option<Arc<dyn CreditBureau>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.base_url = format!("http://{}", listener.local_addr().unwrap());
        self.client = GraphqlClient::new(&self.base_url);
        self.shutdown = CancellationToken::new();
        self.task = Some(tokio::spawn(crate::run_with_bureau(
            self.config(),
            bureau,
            listener,
            self.shutdown.clone(),
        )));
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(response) = http.get(format!("{}/ready", self.base_url)).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the risk service did not become ready");
    }

    /// Stop the service (cancelling whatever it was doing, as a crash would) and wait for it.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Stop, then start a fresh instance on the same database and topics with `bureau`.
    pub async fn restart(&mut self, bureau: Option<Arc<dyn CreditBureau>>) {
        self.stop().await;
        self.launch(bureau).await;
    }

    pub fn token(&self, user: Uuid, scopes: &str) -> String {
        self.issuer.token(user, scopes)
    }

    /// Give `user` a sandbox bureau file.
    pub async fn set_profile(&self, user: Uuid, profile: &BureauProfile) {
        set_bureau_profile(&self.db, user, profile)
            .await
            .expect("storing a sandbox profile");
    }

    /// Publish `loan.submitted.v1` for a new loan of `user` on the loan topic; the envelope.
    pub async fn submit_loan(&self, user: Uuid) -> (Uuid, Envelope) {
        let loan = Uuid::now_v7();
        let envelope = submitted_envelope(loan, user);
        tenor_events::testing::publish(&self.loan_topic, &envelope).await;
        (loan, envelope)
    }

    /// The events on the risk topic, read from the beginning until `done` or 20 s.
    pub async fn events(&self, done: impl FnMut(&[Envelope]) -> bool) -> Vec<Envelope> {
        self.events_within(Duration::from_secs(20), done).await
    }

    /// The events on the risk topic, read from the beginning until `done` or `timeout`.
    pub async fn events_within(
        &self,
        timeout: Duration,
        done: impl FnMut(&[Envelope]) -> bool,
    ) -> Vec<Envelope> {
        tenor_events::testing::read_events(&self.risk_topic, timeout, done).await
    }

    /// Set `var` for the next [`Self::restart`].
    pub fn set_env(&mut self, var: &str, value: &str) {
        self.extra_env.retain(|(k, _)| k != var);
        self.extra_env.push((var.to_owned(), value.to_owned()));
    }

    /// The stored evaluation documents of `loan`, as the driver reads them.
    pub async fn evaluation_documents(&self, loan: Uuid) -> Vec<Document> {
        use futures::TryStreamExt;
        self.db
            .collection::<Document>(crate::store::evaluations::COLLECTION)
            .find(doc! { "loan_id": loan.to_string() })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    }

    /// The raw BSON bytes of every stored evaluation of `loan`.
    pub async fn evaluation_bytes(&self, loan: Uuid) -> Vec<Vec<u8>> {
        use futures::TryStreamExt;
        let raw: Vec<RawDocumentBuf> = self
            .db
            .collection::<RawDocumentBuf>(crate::store::evaluations::COLLECTION)
            .find(doc! { "loan_id": loan.to_string() })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        raw.into_iter().map(|d| d.into_bytes()).collect()
    }

    /// How many documents `collection` holds matching `filter`.
    pub async fn count(&self, collection: &str, filter: Document) -> u64 {
        self.db
            .collection::<Document>(collection)
            .count_documents(filter)
            .await
            .unwrap()
    }

    /// `Loan.riskEvaluations { fields }` through `_entities`, as the router asks for it.
    pub async fn risk_evaluations(
        &self,
        token: Option<&str>,
        loans: &[Uuid],
        fields: &str,
        operation: &str,
    ) -> serde_json::Value {
        let reps: Vec<serde_json::Value> = loans
            .iter()
            .map(|id| serde_json::json!({ "__typename": "Loan", "id": id }))
            .collect();
        self.client
            .named(
                token,
                &format!(
                    "query {operation}($reps: [_Any!]!) {{ _entities(representations: $reps) {{
                        ... on Loan {{ id riskEvaluations {{ {fields} }} }} }} }}"
                ),
                operation,
                serde_json::json!({ "reps": reps }),
            )
            .await
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown.cancel();
        // Drop runs inside the test's runtime: remove the database from a thread of its own.
        let name = self.db_name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(async { database(&name).await.drop().await })
        })
        .join();
    }
}

/// A `loan.submitted.v1` envelope for `loan` of `user`, submitted now.
pub fn submitted_envelope(loan: Uuid, user: Uuid) -> Envelope {
    let event = LoanSubmittedV1 {
        loan_id: loan,
        user_id: user,
        amount: 5_000_000,
        tenor_months: 6,
        purpose: "modal usaha".into(),
        total_cost: 1_250_000,
        monthly_installment: 1_041_700,
        submitted_at: Utc::now(),
    };
    Envelope::new(
        tenor_contracts::sources::LOAN,
        loan.to_string(),
        &event,
        None,
    )
    .expect("envelope")
}
