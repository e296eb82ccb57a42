//! What the on-call engineer sees of work waiting in credit: after every sweep `/metrics` says
//! how many applications wait for an input and for a person, and how long the oldest of each
//! has waited, per database; both fall back to 0 once the work moves.

use std::time::Duration;

use tenor_credit::service::sweeper::{PENDING, PENDING_OLDEST, QUEUED, QUEUED_OLDEST};
use tenor_credit::testing::*;
use tenor_platform::testing::{metric, wait_for};
use uuid::Uuid;

use crate::back_office::{decide, decided_loan};

async fn gauge(service: &TestService, name: &str) -> Option<f64> {
    let base_url = service.client.url().trim_end_matches("/graphql");
    let values = metric(base_url, name, &[("database", service.db.name())]).await;
    assert!(values.len() <= 1, "{name}: {values:?}");
    values.first().copied()
}

/// A gauge and what its value should satisfy.
type Expected<'a> = (&'a str, fn(f64) -> bool);

/// Waits until every gauge in `expected` satisfies its check.
async fn gauges_reach(service: &TestService, expected: &[Expected<'_>]) -> bool {
    wait_for(async || {
        for (name, check) in expected {
            if !gauge(service, name).await.is_some_and(check) {
                return false;
            }
        }
        true
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waiting_applications_show_on_metrics_until_they_move() {
    let service = TestService::start().await;
    let user = service.verified_borrower().await;
    // No answer from risk yet: the score waits for its input.
    let waiting = service.submit_loan(user, 5_000_000, 6).await;
    assert!(wait_for(async || service.score(waiting.loan_id).await.is_some()).await);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(
        gauges_reach(
            &service,
            &[
                (PENDING, |n| n == 1.0),
                (PENDING_OLDEST, |s| s >= 1.0),
                (QUEUED, |n| n == 0.0),
                (QUEUED_OLDEST, |s| s == 0.0),
            ]
        )
        .await,
        "pending {:?}/{:?}, queued {:?}",
        gauge(&service, PENDING).await,
        gauge(&service, PENDING_OLDEST).await,
        gauge(&service, QUEUED).await,
    );

    // Another borrower's application is referred to a person: it joins the queue.
    let (_, referred) = decided_loan(&service, 5_000_000, 600).await;
    assert!(
        gauges_reach(
            &service,
            &[
                (PENDING, |n| n == 1.0),
                (QUEUED, |n| n == 1.0),
                (QUEUED_OLDEST, |s| s >= 0.0),
            ]
        )
        .await,
        "queued {:?}",
        gauge(&service, QUEUED).await
    );

    // Staff decide the referral, risk answers the other: nothing waits any more.
    let decided = decide(
        &service,
        Uuid::new_v4(),
        referred,
        "APPROVE",
        "INCOME_VERIFIED",
    )
    .await;
    assert_eq!(decided["userErrors"], serde_json::json!([]), "{decided}");
    service.risk_evaluated(&waiting, 850, 1, 1).await;
    service.decided(waiting.loan_id).await;
    let settled: [Expected; 4] = [
        (PENDING, |n| n == 0.0),
        (PENDING_OLDEST, |s| s == 0.0),
        (QUEUED, |n| n == 0.0),
        (QUEUED_OLDEST, |s| s == 0.0),
    ];
    assert!(
        gauges_reach(&service, &settled).await,
        "pending {:?}, queued {:?} (the second application was decided {:?})",
        gauge(&service, PENDING).await,
        gauge(&service, QUEUED).await,
        service.score(waiting.loan_id).await.map(|s| s.decision),
    );
}
