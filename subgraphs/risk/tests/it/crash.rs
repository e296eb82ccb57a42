//! A service stopped mid-check, and a crash between the evaluation insert and closing the
//! request: the next instance finishes the work, and the loan still gets exactly one
//! evaluation and one event.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{DateTime, doc};
use tenor_contracts::risk::{RiskEvaluatedV1, RiskLevel};
use tenor_risk::bureau::{BureauError, BureauReport, BureauRequest, CreditBureau};
use tenor_risk::testing::*;
use uuid::Uuid;

use crate::events_for;

/// Counts the calls and never answers: the service is stopped while a call is in flight.
#[derive(Default, Clone)]
struct Stuck {
    calls: Arc<AtomicU32>,
}

#[async_trait]
impl CreditBureau for Stuck {
    fn vendor_name(&self) -> &str {
        "simulated-slik"
    }
    async fn report(&self, _: &BureauRequest) -> Result<BureauReport, BureauError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_service_stopped_while_the_bureau_answers_is_finished_by_the_next_one() {
    let env = [("RISK_BUREAU_TIMEOUT", "500ms"), ("RISK_CLAIM_LEASE", "1s")];
    let stuck = Stuck::default();
    let mut service = TestService::start_with(&env, Some(Arc::new(stuck.clone()))).await;
    let user = Uuid::new_v4();
    service.set_profile(user, &clean()).await;
    let (loan, _) = service.submit_loan(user).await;

    let called =
        tenor_platform::testing::wait_for(async || stuck.calls.load(Ordering::SeqCst) > 0).await;
    assert!(called, "the request was stored and claimed");
    service.stop().await;
    assert_eq!(service.evaluation_documents(loan).await.len(), 0);
    assert_eq!(
        service
            .count(
                "risk_requests",
                doc! { "_id": loan.to_string(), "state": "PENDING" }
            )
            .await,
        1,
        "the request survives the stop"
    );

    service.restart(None).await;
    let events = events_for(&service, loan, 1, Duration::from_secs(20)).await;
    assert_eq!(events.len(), 1);
    let evaluated: RiskEvaluatedV1 = events[0].decode().unwrap();
    assert_eq!(evaluated.risk_level, RiskLevel::Low);
    let again = events_for(&service, loan, 2, Duration::from_secs(3)).await;
    assert_eq!(again.len(), 1, "one event");
    let documents = service.evaluation_documents(loan).await;
    assert_eq!(documents.len(), 1, "one evaluation");
    assert_eq!(
        documents[0].get_i64("attempts").unwrap(),
        2,
        "the lost attempt counts"
    );
}

#[tokio::test]
async fn a_crash_between_the_insert_and_closing_the_request_duplicates_nothing() {
    let service = TestService::start().await;
    let user = Uuid::new_v4();
    service.set_profile(user, &delinquent()).await;
    let (loan, _) = service.submit_loan(user).await;
    let first = events_for(&service, loan, 1, Duration::from_secs(20)).await;
    assert_eq!(first.len(), 1);
    let done = doc! { "_id": loan.to_string(), "state": "DONE" };
    assert!(
        tenor_platform::testing::wait_for(async || service
            .count("risk_requests", done.clone())
            .await
            == 1)
        .await
    );

    // As if the worker died after the insert: the request is PENDING and due again.
    service
        .db
        .collection::<mongodb::bson::Document>("risk_requests")
        .update_one(
            doc! { "_id": loan.to_string() },
            doc! { "$set": {
                "state": "PENDING",
                "next_attempt_at": DateTime::now(),
                "claimed_until": DateTime::from_millis(0),
            } },
        )
        .await
        .unwrap();
    let redone = doc! { "_id": loan.to_string(), "state": "DONE", "attempts": 2i64 };
    assert!(
        tenor_platform::testing::wait_for(async || service
            .count("risk_requests", redone.clone())
            .await
            == 1)
        .await,
        "the request was worked again and closed"
    );
    let all = events_for(&service, loan, 2, Duration::from_secs(3)).await;
    assert_eq!(all.len(), 1, "one event");
    let documents = service.evaluation_documents(loan).await;
    assert_eq!(documents.len(), 1, "one evaluation");
    assert_eq!(documents[0].get_str("risk_level").unwrap(), "HIGH");
}

/// Answers after `delay`, counting calls and answers.
#[derive(Clone, Default)]
struct Slow {
    delay: Duration,
    calls: Arc<AtomicU32>,
    answered: Arc<AtomicU32>,
}

#[async_trait]
impl CreditBureau for Slow {
    fn vendor_name(&self) -> &str {
        "simulated-slik"
    }
    async fn report(&self, request: &BureauRequest) -> Result<BureauReport, BureauError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.answered.fetch_add(1, Ordering::SeqCst);
        Ok(BureauReport {
            facilities: clean().facilities,
            reported_score: Some(780),
            raw: serde_json::json!({ "loan": request.loan_id }),
        })
    }
}

/// Two replicas on one queue, the first so slow that its claim lapses and the second takes the
/// request over: both call the bureau, the unique index keeps one evaluation. (The slow
/// replica may re-claim its own lapsed request too while its first call runs — the lease is
/// far shorter than the call here — so only the quick replica's calls are counted exactly.)
#[tokio::test]
async fn two_workers_racing_for_one_loan_make_one_evaluation() {
    use tenor_platform::vault::{Key32, Vault};
    use tenor_risk::config::WorkerSettings;
    use tenor_risk::service::{RiskService, Settings};

    let db = database(&fresh_database_name()).await;
    tenor_risk::store::ensure_indexes(&db).await.unwrap();
    let vault = Vault::new("risk-1", Key32::random());
    let settings = Settings {
        rules: Default::default(),
        worker: WorkerSettings {
            claim_lease: Duration::from_millis(100),
            poll: Duration::from_millis(20),
            ..WorkerSettings::default()
        },
    };
    let replica = || {
        RiskService::new(
            db.clone(),
            tenor_events::MongoPublisher::new("/tenor/risk", "unused.topic"),
            vault.clone(),
            settings.clone(),
        )
    };
    let (first, second) = (replica(), replica());
    // Long enough that the quick replica surely wins one of the lapsed claims first.
    let slow = Slow {
        delay: Duration::from_millis(1500),
        ..Slow::default()
    };
    let quick = Slow {
        delay: Duration::from_millis(1),
        ..Slow::default()
    };

    let shutdown = tokio_util::sync::CancellationToken::new();
    let envelope = submitted_envelope(Uuid::now_v7(), Uuid::new_v4());
    let submitted: tenor_contracts::loan::LoanSubmittedV1 = envelope.decode().unwrap();
    first.accept_submission(&submitted, None).await.unwrap();
    let a = tokio::spawn(first.run_worker(Arc::new(slow.clone()), shutdown.clone()));
    let called =
        tenor_platform::testing::wait_for(async || slow.calls.load(Ordering::SeqCst) >= 1).await;
    assert!(called);
    let b = tokio::spawn(second.run_worker(Arc::new(quick.clone()), shutdown.clone()));

    let loan = submitted.loan_id.to_string();
    let evaluations = db.collection::<mongodb::bson::Document>("risk_evaluations");
    let done = tenor_platform::testing::wait_for(async || {
        quick.answered.load(Ordering::SeqCst) == 1
            && evaluations
                .count_documents(doc! { "loan_id": &loan })
                .await
                .unwrap()
                == 1
    })
    .await;
    assert!(done, "the second replica took over");
    // Let the slow replica's first call answer and its insert be refused.
    let slow_answered =
        tenor_platform::testing::wait_for(async || slow.answered.load(Ordering::SeqCst) >= 1).await;
    assert!(slow_answered);
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(
        quick.calls.load(Ordering::SeqCst),
        1,
        "the quick replica called once"
    );
    assert_eq!(
        evaluations
            .count_documents(doc! { "loan_id": &loan })
            .await
            .unwrap(),
        1,
        "one evaluation"
    );
    let requests = db.collection::<mongodb::bson::Document>("risk_requests");
    assert_eq!(
        requests
            .count_documents(doc! { "_id": &loan, "state": "DONE" })
            .await
            .unwrap(),
        1
    );
    db.drop().await.unwrap();
}
