//! A bureau that keeps failing: retried with backoff, then a `risk.evaluation.failed` once the
//! deadline has passed — never a hang, never an evaluation made up.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tenor_contracts::loan::LoanStatusChangedV1;
use tenor_contracts::risk::RiskEvaluationFailedV1;
use tenor_risk::bureau::{BureauError, BureauReport, BureauRequest, CreditBureau};
use tenor_risk::testing::*;
use uuid::Uuid;

use crate::events_for;

const FAST_RETRIES: [(&str, &str); 3] = [
    ("RISK_BUREAU_DEADLINE", "1500ms"),
    ("RISK_RETRY_INITIAL", "50ms"),
    ("RISK_RETRY_MAX", "200ms"),
];

#[tokio::test]
async fn an_unavailable_bureau_is_retried_until_the_deadline_then_fails() {
    let service = TestService::start_with(&FAST_RETRIES, None).await;
    let user = Uuid::new_v4();
    service.set_profile(user, &unavailable()).await;
    let (loan, submission) = service.submit_loan(user).await;
    let submitted: tenor_contracts::loan::LoanSubmittedV1 = submission.decode().unwrap();

    let events = events_for(&service, loan, 1, Duration::from_secs(20)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "risk.evaluation.failed.v1");
    let failed: RiskEvaluationFailedV1 = events[0].decode().unwrap();
    assert_eq!(failed.loan_id, loan);
    assert_eq!(failed.reason_code, "BUREAU_UNAVAILABLE");
    assert!(
        failed.attempts >= 3,
        "retried: {} attempts",
        failed.attempts
    );
    let waited = failed.failed_at - submitted.submitted_at;
    assert!(
        waited.num_milliseconds() >= 1_500,
        "not before the deadline: {waited}"
    );

    let documents = service.evaluation_documents(loan).await;
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].get_str("outcome").unwrap(), "FAILED");
    assert_eq!(
        documents[0].get_str("failure_reason").unwrap(),
        "BUREAU_UNAVAILABLE"
    );
    assert!(
        documents[0].get_document("raw_score").is_err(),
        "nothing to store"
    );
}

/// A loan the borrower cancels while the bureau is failing is asked about no more: its request
/// ends (withdrawn, no evaluation), its attempts stop, and no `risk.evaluation.failed` follows
/// at the deadline. Each bureau inquiry may show on the borrower's file and costs the lender.
#[tokio::test]
async fn a_cancelled_loan_is_not_asked_about_again() {
    let service = TestService::start_with(
        &[
            ("RISK_BUREAU_DEADLINE", "4s"),
            ("RISK_RETRY_INITIAL", "50ms"),
            ("RISK_RETRY_MAX", "100ms"),
        ],
        None,
    )
    .await;
    let user = Uuid::new_v4();
    service.set_profile(user, &unavailable()).await;
    let (loan, _) = service.submit_loan(user).await;
    let request = mongodb::bson::doc! { "_id": loan.to_string() };
    let attempts = async || -> i64 {
        service
            .db
            .collection::<mongodb::bson::Document>("risk_requests")
            .find_one(request.clone())
            .await
            .unwrap()
            .and_then(|d| d.get_i64("attempts").ok())
            .unwrap_or(0)
    };
    assert!(tenor_platform::testing::wait_for(async || attempts().await >= 2).await);

    let cancelled = LoanStatusChangedV1::cancelled_by_borrower(loan, user, chrono::Utc::now());
    let envelope =
        tenor_events::Envelope::new("/tenor/loan", loan.to_string(), &cancelled, None).unwrap();
    tenor_events::testing::publish(&service.loan_topic, &envelope).await;
    let mut withdrawn = request.clone();
    withdrawn.insert("withdrawn", true);
    assert!(
        tenor_platform::testing::wait_for(async || {
            service.count("risk_requests", withdrawn.clone()).await == 1
        })
        .await
    );
    // A call under way when it was withdrawn may still finish.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = attempts().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        attempts().await,
        after,
        "asked again after the cancellation"
    );
    // Past the 4 s deadline: no failure announced for a loan nobody wants.
    let events = events_for(&service, loan, 1, Duration::from_secs(5)).await;
    assert!(events.is_empty(), "{events:?}");
    assert!(service.evaluation_documents(loan).await.is_empty());
}

/// Never answers.
struct Silent;

#[async_trait]
impl CreditBureau for Silent {
    fn vendor_name(&self) -> &str {
        "silent-bureau"
    }
    async fn report(&self, _: &BureauRequest) -> Result<BureauReport, BureauError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_bureau_that_never_answers_times_out_and_fails_with_bureau_timeout() {
    let mut env = FAST_RETRIES.to_vec();
    env.extend([("RISK_BUREAU_TIMEOUT", "100ms"), ("RISK_CLAIM_LEASE", "1s")]);
    let service = TestService::start_with(&env, Some(Arc::new(Silent))).await;
    let (loan, _) = service.submit_loan(Uuid::new_v4()).await;

    let events = events_for(&service, loan, 1, Duration::from_secs(20)).await;
    assert_eq!(events.len(), 1);
    let failed: RiskEvaluationFailedV1 = events[0].decode().unwrap();
    assert_eq!(failed.reason_code, "BUREAU_TIMEOUT");
    assert_eq!(failed.vendor_name, "silent-bureau");
    assert!(failed.attempts >= 2, "{}", failed.attempts);
}
