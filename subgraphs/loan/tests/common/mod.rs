//! The loan service running in-process against the stack's PostgreSQL and Kafka: each test gets
//! its own database, topics, consumer group and token issuer. Credit does not exist yet, so
//! tests produce `credit.decision.made` themselves, exactly as credit's relay would.

#![allow(dead_code)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_contracts::kyc::{DocumentType, KycDecisionSource, KycVerifiedV1};
use tenor_events::kafka::ensure_topics;
use tenor_events::testing::envelopes;
use tenor_events::{DomainEvent, Envelope};
use tenor_loan::{LoanConfig, store};
use tenor_platform::config::Env;
use tenor_platform::testing::{TestDatabase, TestIssuer, kafka_brokers};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub async fn database() -> TestDatabase {
    TestDatabase::new("loan", || {
        vec![tenor_events::MIGRATIONS, tenor_loan::MIGRATIONS]
    })
    .await
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
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub struct TestService {
    pub db: TestDatabase,
    pub issuer: TestIssuer,
    pub topics: Topics,
    pub base_url: String,
    run: String,
    http: reqwest::Client,
    instance: Instance,
}

impl TestService {
    pub async fn start() -> Self {
        tenor_platform::telemetry::install_tls_provider();
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let instance = start_instance(&db, &issuer, &topics, &run, &http).await;
        Self {
            base_url: instance.base_url.clone(),
            db,
            issuer,
            topics,
            run,
            http,
            instance,
        }
    }

    /// Another loan process on the same database and topics (a second replica).
    pub async fn another_instance(&self) -> Instance {
        start_instance(&self.db, &self.issuer, &self.topics, &self.run, &self.http).await
    }

    /// Stop the service and return how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.instance.shutdown.cancel();
        self.instance.task.take().unwrap().await.unwrap()
    }

    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        graphql_at(&self.http, &self.base_url, token, query, variables).await
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
        store::project_kyc(
            &mut conn,
            user,
            "VERIFIED",
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
        store::find(&mut conn, loan)
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
        read_until(&self.topics.loan, Duration::from_secs(20), done).await
    }

    /// Open a graphql-transport-ws connection to `base_url` with `connection_init` carrying
    /// `token` the way the router propagates it.
    pub async fn websocket(&self, base_url: &str, token: Option<&str>) -> WsClient {
        WsClient::connect(base_url, token).await
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
    }
}

async fn start_instance(
    db: &TestDatabase,
    issuer: &TestIssuer,
    topics: &Topics,
    run: &str,
    http: &reqwest::Client,
) -> Instance {
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
    ]);
    let config = LoanConfig::from_env(&mut env);
    let mut config = env.finish(config).expect("test configuration");
    config.verifier = issuer.verifier_config();
    // A group per test: parallel tests in one group would rebalance each other's partitions.
    config.consumer.group_id = format!("tenor-loan-test-{run}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(tenor_loan::run(config, listener, shutdown.clone()));
    for _ in 0..300 {
        if let Ok(response) = http.get(format!("{base_url}/ready")).send().await
            && response.status().is_success()
        {
            return Instance {
                base_url,
                shutdown,
                task: Some(task),
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the loan service did not become ready");
}

pub async fn graphql_at(
    http: &reqwest::Client,
    base_url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = http
        .post(format!("{base_url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
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

pub async fn read_until(
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Envelope]) -> bool,
) -> Vec<Envelope> {
    let received = tenor_events::testing::read_until(topic, timeout, |r| done(&envelopes(r))).await;
    for message in &received {
        let envelope = message.envelope.as_ref().expect("only CloudEvents");
        assert_eq!(
            Some(message.key.as_str()),
            envelope.subject(),
            "Kafka key = aggregate id"
        );
    }
    envelopes(&received)
}

pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response}"))
}

pub fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors in {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

pub fn loan_id(payload: &Value) -> Uuid {
    payload["loan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no loan in {payload}"))
        .parse()
        .unwrap()
}

/// A minimal graphql-transport-ws client.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    /// Connect and send `connection_init`; the server's first reply (ack or refusal) is
    /// returned by [`WsClient::next_message`].
    pub async fn connect(base_url: &str, token: Option<&str>) -> Self {
        let url = format!("{}/graphql", base_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut client = Self { stream };
        let payload = match token {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    /// The next JSON message, `None` when the connection closed or `timeout` passed.
    pub async fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(timeout, self.stream.next())
                .await
                .ok()??;
            match message {
                Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Subscribe to `loanStatusChanged` under operation `id`.
    pub async fn subscribe(&mut self, id: &str, loan: Option<Uuid>) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": {
                "query": "subscription($loan: ID) { loanStatusChanged(loanId: $loan) { status previousStatus loan { id status amount } } }",
                "variables": { "loan": loan.map(|l| l.to_string()) },
            }
        }))
        .await;
    }
}
