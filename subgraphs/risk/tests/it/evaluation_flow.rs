//! `loan.submitted` in, one `risk.evaluated` out — once per loan, however often it comes in.

use std::time::Duration;

use mongodb::bson::doc;
use tenor_contracts::credit::credit_score_id;
use tenor_contracts::risk::{RiskEvaluatedV1, RiskLevel};
use tenor_risk::testing::*;
use uuid::Uuid;

use crate::events_for;

#[tokio::test]
async fn a_submitted_loan_gets_exactly_one_risk_evaluated_event() {
    let service = TestService::start().await;
    let user = Uuid::new_v4();
    service.set_profile(user, &borderline()).await;
    let (loan, _) = service.submit_loan(user).await;

    let events = events_for(&service, loan, 1, Duration::from_secs(20)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "risk.evaluated.v1");
    assert_eq!(events[0].source(), "/tenor/risk");
    let evaluated: RiskEvaluatedV1 = events[0].decode().unwrap();
    assert_eq!(evaluated.loan_id, loan);
    assert_eq!(evaluated.user_id, user);
    assert_eq!(evaluated.credit_score_id, credit_score_id(loan));
    assert_eq!(evaluated.vendor_name, "simulated-slik");
    assert_eq!(evaluated.risk_level, RiskLevel::Medium);
    assert_eq!(evaluated.normalized_score, 600);
    assert_eq!(evaluated.bureau.worst_collectability, 2);
    assert_eq!(evaluated.bureau.active_platforms, 2);
    assert_eq!(evaluated.bureau.max_days_past_due_12m, 20);
    assert_eq!(evaluated.rules_version, "risk-rules-2026-12");

    // The stored document names the same evaluation, and its outbox was relayed.
    let documents = service.evaluation_documents(loan).await;
    assert_eq!(documents.len(), 1);
    let document = &documents[0];
    assert_eq!(
        document.get_str("_id").unwrap(),
        evaluated.evaluation_id.to_string()
    );
    assert_eq!(document.get_str("outcome").unwrap(), "EVALUATED");
    assert_eq!(document.get_str("risk_level").unwrap(), "MEDIUM");
    assert_eq!(
        document.get_str("credit_score_id").unwrap(),
        credit_score_id(loan).to_string()
    );
    let relayed = tenor_platform::testing::wait_for(async || {
        service
            .count(
                "risk_evaluations",
                doc! { "loan_id": loan.to_string(), "outbox_pending": false },
            )
            .await
            == 1
    })
    .await;
    assert!(
        relayed,
        "the relay removes the published event from the document"
    );
}

#[tokio::test]
async fn a_repeated_submission_changes_nothing() {
    let service = TestService::start().await;
    let user = Uuid::new_v4();
    service.set_profile(user, &clean()).await;
    let (loan, envelope) = service.submit_loan(user).await;
    // The same event again (a redelivery) and another event for the same loan.
    tenor_events::testing::publish(&service.loan_topic, &envelope).await;
    tenor_events::testing::publish(&service.loan_topic, &submitted_envelope(loan, user)).await;

    let first = events_for(&service, loan, 1, Duration::from_secs(20)).await;
    assert_eq!(first.len(), 1);
    let evaluated: tenor_contracts::risk::RiskEvaluatedV1 = first[0].decode().unwrap();
    assert_eq!(evaluated.risk_level, RiskLevel::Low);
    assert_eq!(evaluated.normalized_score, 780);
    // Give the duplicates every chance to produce a second evaluation.
    let consumed = tenor_platform::testing::wait_for(async || {
        service
            .count(
                "risk_requests",
                doc! { "_id": loan.to_string(), "state": "DONE" },
            )
            .await
            == 1
    })
    .await;
    assert!(consumed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = events_for(&service, loan, 2, Duration::from_secs(3)).await;
    assert_eq!(all.len(), 1, "one event per loan");
    assert_eq!(service.evaluation_documents(loan).await.len(), 1);
    assert_eq!(
        service
            .count("risk_requests", doc! { "_id": loan.to_string() })
            .await,
        1
    );
}

#[tokio::test]
async fn borrowers_without_a_sandbox_file_get_their_derived_file() {
    let service = TestService::start().await;
    let users: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let mut loans = Vec::new();
    for user in &users {
        loans.push(service.submit_loan(*user).await.0);
    }
    let events = service
        .events(|events| {
            loans.iter().all(|l| {
                events
                    .iter()
                    .any(|e| e.subject() == Some(l.to_string().as_str()))
            })
        })
        .await;
    for (loan, user) in loans.iter().zip(&users) {
        let event = events
            .iter()
            .find(|e| e.subject() == Some(loan.to_string().as_str()))
            .expect("an event per loan");
        let evaluated: RiskEvaluatedV1 = event.decode().unwrap();
        let expected = tenor_risk::domain::summarize(
            &tenor_risk::bureau::SimulatedSlik::derived_facilities(*user),
        );
        assert_eq!(evaluated.bureau, expected);
    }
}

#[tokio::test]
async fn a_redelivery_after_its_request_was_forgotten_still_makes_one_evaluation() {
    let service = TestService::start().await;
    let user = Uuid::new_v4();
    service.set_profile(user, &clean()).await;
    let (loan, envelope) = service.submit_loan(user).await;
    assert_eq!(
        events_for(&service, loan, 1, Duration::from_secs(20))
            .await
            .len(),
        1
    );
    let done = doc! { "_id": loan.to_string(), "state": "DONE" };
    assert!(
        tenor_platform::testing::wait_for(async || service
            .count("risk_requests", done.clone())
            .await
            == 1)
        .await
    );

    // What the clean-up does once RISK_REQUEST_RETENTION has passed: nothing finished before
    // `now - retention` survives, and nothing unfinished is touched.
    let requests = service.db.collection("risk_requests");
    let pending = doc! { "_id": "not-finished", "state": "PENDING" };
    requests.insert_one(pending.clone()).await.unwrap();
    let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    let forgotten = tenor_risk::store::requests::forget_done(&requests, later)
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    assert_eq!(service.count("risk_requests", done.clone()).await, 0);
    assert_eq!(service.count("risk_requests", pending).await, 1);

    // The same loan.submitted arrives again (Kafka redelivered it): a new request, one more
    // bureau call, but the evaluation's unique index keeps it to one evaluation, one event.
    tenor_events::testing::publish(&service.loan_topic, &envelope).await;
    assert!(
        tenor_platform::testing::wait_for(async || service
            .count("risk_requests", done.clone())
            .await
            == 1)
        .await,
        "the redelivered request was worked off"
    );
    assert_eq!(service.evaluation_documents(loan).await.len(), 1);
    let events = events_for(&service, loan, 2, Duration::from_secs(3)).await;
    assert_eq!(events.len(), 1, "{events:?}");
}
