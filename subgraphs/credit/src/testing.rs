//! The credit service running in-process against the stack's PostgreSQL and Kafka, for this
//! crate's tests and the lead's harness (feature `test-support`): each test gets its own
//! database, topics, consumer group and token issuer. Tests produce credit's INPUT events
//! (auth, user, kyc, loan, risk) themselves, exactly as those services' relays would.
//!
//! The score provider is a [`TestScoreProvider`]: the deterministic simulation, which a test can
//! take down (it then fails every call) and bring back, shared by every process of one test as
//! the real company would be.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;
use tenor_contracts::credit::{CreditDecisionMadeV1, CreditReferredV1, credit_score_id};
use tenor_contracts::identity::{
    AccountKind, AccountStatus, UserRegisteredV1, UserStatusChangedV1,
};
use tenor_contracts::kyc::{DocumentType, KycDecisionSource, KycVerifiedV1};
use tenor_contracts::loan::{LoanActivatedV1, LoanInstallmentOverdueV1, LoanSubmittedV1};
use tenor_contracts::risk::{BureauSummary, RiskEvaluatedV1, RiskEvaluationFailedV1, RiskLevel};
use tenor_events::kafka::ensure_topics;
use tenor_events::{DomainEvent, Envelope};
use tenor_platform::config::Env;
use tenor_platform::testing::{GraphqlClient, TestDatabase, TestIssuer, kafka_brokers};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

mod provider;

pub use provider::TestScoreProvider;
pub use tenor_events::testing::read_events;
pub use tenor_platform::testing::{error_code, user_error_codes, wait_for};

use crate::schema::loaders::LoaderStats;
use crate::store::decisions::{self, DecisionRow};
use crate::store::schema::{credit_borrowers, credit_loan_history, credit_risk_results};
use crate::store::scores::{self, ScoreRow};
use crate::{CreditConfig, Wiring};

/// A fresh credit database (outbox/inbox and credit migrations applied).
pub async fn database() -> TestDatabase {
    tenor_events::testing::service_database("credit", crate::MIGRATIONS).await
}

/// The topics of one test.
#[derive(Debug, Clone)]
pub struct Topics {
    pub credit: String,
    pub auth: String,
    pub user: String,
    pub kyc: String,
    pub loan: String,
    pub risk: String,
}

impl Topics {
    fn fresh(run: &str) -> Self {
        let name = |context: &str| format!("test.{run}.{context}.events");
        Self {
            credit: name("credit"),
            auth: name("auth"),
            user: name("user"),
            kyc: name("kyc"),
            loan: name("loan"),
            risk: name("risk"),
        }
    }

    async fn create(&self) {
        let names = [
            &self.credit,
            &self.auth,
            &self.user,
            &self.kyc,
            &self.loan,
            &self.risk,
        ];
        let dlqs: Vec<String> = names.iter().map(|t| format!("{t}.dlq")).collect();
        let mut all: Vec<(&str, i32)> = names.iter().map(|t| (t.as_str(), 2)).collect();
        all.extend(dlqs.iter().map(|t| (t.as_str(), 1)));
        ensure_topics(&kafka_brokers(), &all)
            .await
            .expect("creating test topics (is the stack up? `./dev up`)");
    }
}

/// The configuration of a test process: `pairs` as the environment (what the lead's harness
/// passes), checked exactly as at start-up.
pub fn config_from_pairs<K: Into<String>, V: Into<String>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> CreditConfig {
    let mut env = Env::from_pairs(pairs);
    let config = CreditConfig::from_env(&mut env);
    env.finish(config).expect("test configuration")
}

/// One running credit process.
pub struct Instance {
    pub base_url: String,
    pub loader_stats: Arc<LoaderStats>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Instance {
    /// Stop this process (its tasks are cancelled mid-flow) and return how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.take().expect("running").await?
    }
}

/// Start a credit process on `config` and wait until it is ready.
pub async fn start_instance(config: CreditConfig, wiring: Wiring) -> Instance {
    tenor_platform::crypto::install_providers();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let loader_stats = wiring.loader_stats.clone();
    let task = tokio::spawn(crate::run_with(config, wiring, listener, shutdown.clone()));
    assert!(
        tenor_platform::testing::wait_until_ready(&base_url).await,
        "the credit service did not become ready"
    );
    Instance {
        base_url,
        loader_stats,
        shutdown,
        task: Some(task),
    }
}

/// A credit service on a fresh database, topics and issuer.
pub struct TestService {
    pub db: TestDatabase,
    pub issuer: TestIssuer,
    pub topics: Topics,
    pub provider: Arc<TestScoreProvider>,
    pub client: GraphqlClient,
    run: String,
    extra: Vec<(String, String)>,
    instance: Option<Instance>,
}

impl TestService {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Start with `extra` environment variables over the test defaults.
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        tenor_platform::crypto::install_providers();
        let db = database().await;
        let issuer = TestIssuer::start().await;
        let run = Uuid::new_v4().simple().to_string();
        let topics = Topics::fresh(&run);
        topics.create().await;
        let mut service = Self {
            client: GraphqlClient::new("http://unused"),
            db,
            issuer,
            topics,
            provider: Arc::default(),
            run,
            extra: extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            instance: None,
        };
        let instance = service.another_instance().await;
        service.client = GraphqlClient::new(&instance.base_url);
        service.instance = Some(instance);
        service
    }

    /// The environment of this test's processes.
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = [
            ("CREDIT_DATABASE_URL", self.db.url().to_owned()),
            ("KAFKA_BROKERS", kafka_brokers()),
            ("CREDIT_EVENTS_TOPIC", self.topics.credit.clone()),
            ("AUTH_EVENTS_TOPIC", self.topics.auth.clone()),
            ("USER_EVENTS_TOPIC", self.topics.user.clone()),
            ("KYC_EVENTS_TOPIC", self.topics.kyc.clone()),
            ("LOAN_EVENTS_TOPIC", self.topics.loan.clone()),
            ("RISK_EVENTS_TOPIC", self.topics.risk.clone()),
            // A group per test: parallel tests in one group would rebalance each other.
            ("CONSUMER_GROUP_PREFIX", format!("test-{}-", self.run)),
            ("DB_MAX_CONNECTIONS", "8".to_owned()),
            ("CONSUMER_INITIAL_BACKOFF", "20ms".to_owned()),
            ("CONSUMER_MAX_ATTEMPTS", "20".to_owned()),
            ("CONSUMER_MAX_BACKOFF", "200ms".to_owned()),
            ("OUTBOX_POLL_INTERVAL", "100ms".to_owned()),
            ("CREDIT_WORKER_POLL", "200ms".to_owned()),
            ("CREDIT_EXTERNAL_RETRY_INITIAL", "100ms".to_owned()),
            ("CREDIT_EXTERNAL_RETRY_MAX", "400ms".to_owned()),
            ("CREDIT_SWEEP_EVERY", "200ms".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        pairs.extend(self.extra.iter().cloned());
        pairs
    }

    /// Another credit process on the same database, topics and provider (a replica, or the
    /// process that takes over after a crash).
    pub async fn another_instance(&self) -> Instance {
        let mut config = config_from_pairs(self.env_pairs());
        config.verifier = self.issuer.verifier_config();
        let wiring = Wiring {
            score_provider: self.provider.clone(),
            loader_stats: Arc::default(),
        };
        start_instance(config, wiring).await
    }

    /// Stop the first process (mid-flow: whatever it was doing is cancelled).
    pub async fn stop_first(&mut self) {
        if let Some(instance) = self.instance.take() {
            instance.stop().await.expect("the service stopped cleanly");
        }
    }

    pub fn loader_stats(&self) -> Arc<LoaderStats> {
        self.instance
            .as_ref()
            .expect("running")
            .loader_stats
            .clone()
    }

    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.client.query(token, query, variables).await
    }

    pub fn staff_token(&self, staff: Uuid) -> String {
        self.issuer.token(staff, "credit:decide risk:read")
    }

    pub fn token(&self, user: Uuid, scopes: &str) -> String {
        self.issuer.token(user, scopes)
    }

    pub async fn publish<E: DomainEvent>(&self, topic: &str, subject: Uuid, event: &E) -> Envelope {
        let envelope = Envelope::new("/tenor/test", subject.to_string(), event, None).unwrap();
        tenor_events::testing::publish(topic, &envelope).await;
        envelope
    }

    /// A borrower registered today with KYC verified, as the projections see it.
    pub async fn verified_borrower(&self) -> Uuid {
        let user = self.registered_borrower().await;
        self.verify_kyc(user).await;
        user
    }

    /// A borrower registered today, KYC not done.
    pub async fn registered_borrower(&self) -> Uuid {
        let user = Uuid::new_v4();
        let event = UserRegisteredV1 {
            user_id: user,
            email: format!("{user}@example.id"),
            phone_number: None,
            fullname: "Test Borrower".into(),
            kind: AccountKind::Customer,
            registered_at: Utc::now(),
        };
        self.publish(&self.topics.auth, user, &event).await;
        let seen = wait_for(async || self.borrower_column(user, "registered").await).await;
        assert!(seen, "user.registered was not projected");
        user
    }

    pub async fn verify_kyc(&self, user: Uuid) {
        let now = Utc::now();
        let event = KycVerifiedV1 {
            kyc_id: Uuid::new_v4(),
            user_id: user,
            document_type: DocumentType::Ktp,
            source: KycDecisionSource::Automatic,
            decided_by: None,
            verified_at: now,
            expires_at: now + chrono::Duration::days(365),
        };
        self.publish(&self.topics.kyc, user, &event).await;
        let seen = wait_for(async || self.borrower_column(user, "kyc").await).await;
        assert!(seen, "kyc.verified was not projected");
    }

    pub async fn block_account(&self, user: Uuid) {
        let event = UserStatusChangedV1 {
            user_id: user,
            status: AccountStatus::Blocked,
            previous_status: AccountStatus::Active,
            reason: Some("test".into()),
            changed_by: Some(Uuid::new_v4()),
            changed_at: Utc::now(),
        };
        self.publish(&self.topics.user, user, &event).await;
        let seen = wait_for(async || self.borrower_column(user, "blocked").await).await;
        assert!(seen, "user.status.changed was not projected");
    }

    async fn borrower_column(&self, user: Uuid, what: &str) -> bool {
        let mut conn = self.db.pool().get().await.unwrap();
        let row: Option<(Option<DateTime<Utc>>, String, Option<String>)> = credit_borrowers::table
            .find(user)
            .select((
                credit_borrowers::registered_at,
                credit_borrowers::account_status,
                credit_borrowers::kyc_status,
            ))
            .first(&mut conn)
            .await
            .optional()
            .unwrap();
        match (what, row) {
            ("registered", Some((registered, _, _))) => registered.is_some(),
            ("kyc", Some((_, _, kyc))) => kyc.as_deref() == Some("VERIFIED"),
            ("blocked", Some((_, status, _))) => status == "BLOCKED",
            _ => false,
        }
    }

    /// `loan.submitted.v1` for a new loan of `user`; the event (publish it again to redeliver).
    pub async fn submit_loan(&self, user: Uuid, amount: i64, tenor_months: u32) -> LoanSubmittedV1 {
        let event = loan_submitted(user, amount, tenor_months);
        self.publish(&self.topics.loan, event.loan_id, &event).await;
        event
    }

    /// A previous loan of `user` that went ACTIVE and then overdue, as the projections see it.
    pub async fn overdue_loan(&self, user: Uuid) -> Uuid {
        let previous = self.submit_loan(user, 2_000_000, 3).await;
        let loan = previous.loan_id;
        let today = Utc::now().date_naive();
        let activated = LoanActivatedV1 {
            loan_id: loan,
            user_id: user,
            amount: 2_000_000,
            payout_reference: "test".into(),
            disbursed_on: today,
            first_due_date: today,
            activated_at: Utc::now(),
        };
        self.publish(&self.topics.loan, loan, &activated).await;
        let overdue = LoanInstallmentOverdueV1 {
            loan_id: loan,
            user_id: user,
            installment_number: 1,
            due_date: today,
            amount_due: 700_000,
            days_past_due: 12,
        };
        self.publish(&self.topics.loan, loan, &overdue).await;
        let seen = wait_for(async || {
            let mut conn = self.db.pool().get().await.unwrap();
            credit_loan_history::table
                .find(loan)
                .select(credit_loan_history::overdue_installments)
                .first::<i32>(&mut conn)
                .await
                .optional()
                .unwrap()
                .is_some_and(|n| n > 0)
        })
        .await;
        assert!(seen, "the overdue installment was not projected");
        loan
    }

    /// `risk.evaluated.v1` for `loan` with `normalized_score` and a bureau summary.
    pub async fn risk_evaluated(
        &self,
        loan: &LoanSubmittedV1,
        normalized_score: i32,
        worst_collectability: u8,
        active_platforms: u32,
    ) -> RiskEvaluatedV1 {
        let event = risk_evaluated(
            loan,
            normalized_score,
            worst_collectability,
            active_platforms,
        );
        self.publish(&self.topics.risk, loan.loan_id, &event).await;
        event
    }

    pub async fn risk_failed(&self, loan: &LoanSubmittedV1) -> RiskEvaluationFailedV1 {
        let event = RiskEvaluationFailedV1 {
            evaluation_id: Uuid::now_v7(),
            credit_score_id: credit_score_id(loan.loan_id),
            loan_id: loan.loan_id,
            user_id: loan.user_id,
            vendor_name: "simulated-slik".into(),
            reason_code: "BUREAU_TIMEOUT".into(),
            attempts: 3,
            failed_at: Utc::now(),
        };
        self.publish(&self.topics.risk, loan.loan_id, &event).await;
        event
    }

    pub async fn risk_stored(&self, loan: Uuid) -> bool {
        let mut conn = self.db.pool().get().await.unwrap();
        credit_risk_results::table
            .find(loan)
            .select(credit_risk_results::loan_id)
            .first::<Uuid>(&mut conn)
            .await
            .optional()
            .unwrap()
            .is_some()
    }

    pub async fn score(&self, loan: Uuid) -> Option<ScoreRow> {
        let mut conn = self.db.pool().get().await.unwrap();
        scores::by_loans(&mut conn, &[loan]).await.unwrap().pop()
    }

    /// Wait until the loan's score is no longer PENDING; the row.
    pub async fn decided(&self, loan: Uuid) -> ScoreRow {
        let decided = wait_for(async || {
            self.score(loan)
                .await
                .is_some_and(|s| s.decision.as_db() != "PENDING")
        })
        .await;
        assert!(
            decided,
            "loan {loan} was never decided: {:?}",
            self.score(loan).await
        );
        self.score(loan).await.unwrap()
    }

    pub async fn decisions(&self, loan: Uuid) -> Vec<DecisionRow> {
        let mut conn = self.db.pool().get().await.unwrap();
        decisions::of_loan(&mut conn, loan).await.unwrap()
    }

    /// The `credit.decision.made` events for `loan` on the credit topic, read until `count` are
    /// there or `timeout` passes (so a test can also show that no more than `count` came).
    pub async fn decision_events(
        &self,
        loan: Uuid,
        count: usize,
        timeout: Duration,
    ) -> Vec<CreditDecisionMadeV1> {
        self.credit_events(loan, count, timeout, |d: &CreditDecisionMadeV1| d.loan_id)
            .await
    }

    /// The `credit.referred` events about `loan`, read as [`Self::decision_events`] reads.
    pub async fn referral_events(
        &self,
        loan: Uuid,
        count: usize,
        timeout: Duration,
    ) -> Vec<CreditReferredV1> {
        self.credit_events(loan, count, timeout, |r: &CreditReferredV1| r.loan_id)
            .await
    }

    /// The events of type `E` about `loan` on credit's topic: read until one more than `count`
    /// could have arrived, or `timeout`.
    async fn credit_events<E: DomainEvent>(
        &self,
        loan: Uuid,
        count: usize,
        timeout: Duration,
        loan_of: impl Fn(&E) -> Uuid,
    ) -> Vec<E> {
        let of_loan = |events: &[Envelope]| -> Vec<E> {
            events
                .iter()
                .filter(|e| e.is::<E>())
                .filter_map(|e| e.decode::<E>().ok())
                .filter(|d| loan_of(d) == loan)
                .collect()
        };
        let events = read_events(&self.topics.credit, timeout, |events| {
            of_loan(events).len() > count
        })
        .await;
        of_loan(&events)
    }
}

pub fn loan_submitted(user: Uuid, amount: i64, tenor_months: u32) -> LoanSubmittedV1 {
    LoanSubmittedV1 {
        loan_id: Uuid::now_v7(),
        user_id: user,
        amount,
        tenor_months,
        purpose: "modal usaha".into(),
        total_cost: amount / 4,
        monthly_installment: amount / i64::from(tenor_months.max(1)),
        submitted_at: Utc::now(),
    }
}

pub fn risk_evaluated(
    loan: &LoanSubmittedV1,
    normalized_score: i32,
    worst_collectability: u8,
    active_platforms: u32,
) -> RiskEvaluatedV1 {
    RiskEvaluatedV1 {
        evaluation_id: Uuid::now_v7(),
        credit_score_id: credit_score_id(loan.loan_id),
        loan_id: loan.loan_id,
        user_id: loan.user_id,
        vendor_name: "simulated-slik".into(),
        risk_level: if normalized_score >= 700 {
            RiskLevel::Low
        } else if normalized_score >= 550 {
            RiskLevel::Medium
        } else {
            RiskLevel::High
        },
        normalized_score,
        bureau: BureauSummary {
            worst_collectability,
            active_facilities: active_platforms,
            active_platforms,
            outstanding_debt: 3_000_000,
            max_days_past_due_12m: 0,
        },
        rules_version: "risk-test".into(),
        evaluated_at: Utc::now(),
    }
}

/// The GraphQL selection of an assessment the tests read.
pub const ASSESSMENT_FIELDS: &str = "id loanId decision decisionSource decisionId reasonCodes reason \
    rulesVersion combinedScore queueReason humanReviewStatus decidedBy riskLevel riskReason \
    scores { source score mandatory reason recordedBy }";

impl TestService {
    /// `Loan.creditAssessment` of `loans` through `_entities`, as the router asks for it.
    pub async fn assessments(&self, token: Option<&str>, loans: &[Uuid]) -> Value {
        let query = format!(
            "query($reps: [_Any!]!) {{ _entities(representations: $reps) {{ \
               ... on Loan {{ id creditAssessment {{ {ASSESSMENT_FIELDS} }} }} }} }}"
        );
        let reps: Vec<Value> = loans
            .iter()
            .map(|id| serde_json::json!({ "__typename": "Loan", "id": id }))
            .collect();
        self.graphql(token, &query, serde_json::json!({ "reps": reps }))
            .await
    }

    /// Replay every automatic decision in this test's database with the service's rules.
    pub async fn replay_all(&self) -> Vec<crate::replay::Replayed> {
        let rules = config_from_pairs(self.env_pairs()).rules;
        crate::replay::replay(&self.db.pool(), &rules, crate::replay::Target::All)
            .await
            .expect("replay")
    }

    /// Every automatic decision this test made replays to the same outcome.
    pub async fn assert_replays_match(&self) {
        let replayed = self.replay_all().await;
        assert!(!replayed.is_empty(), "nothing to replay");
        let report = crate::replay::report(&replayed);
        assert!(replayed.iter().all(|r| r.matches), "{report}");
    }
}
