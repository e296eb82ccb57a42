//! One score, one decision, one event: whatever is redelivered and whichever process crashes.

use std::time::Duration;

use tenor_contracts::credit::CreditDecision;
use tenor_credit::store::scores;
use tenor_credit::testing::*;
use tenor_events::Envelope;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redelivered_inputs_decide_once() {
    let service = TestService::start().await;
    let user = service.verified_borrower().await;
    let loan = loan_submitted(user, 5_000_000, 6);
    let risk = risk_evaluated(&loan, 780, 1, 1);
    let topics = &service.topics;

    // Each input three times: the same envelope twice (same event id), then a new envelope of
    // the same event (a producer that retried after a crash).
    let submitted = service.publish(&topics.loan, loan.loan_id, &loan).await;
    tenor_events::testing::publish(&topics.loan, &submitted).await;
    service.publish(&topics.loan, loan.loan_id, &loan).await;
    let evaluated = service.publish(&topics.risk, loan.loan_id, &risk).await;
    tenor_events::testing::publish(&topics.risk, &evaluated).await;
    let fresh = Envelope::new("/tenor/test", loan.loan_id.to_string(), &risk, None).unwrap();
    assert_ne!(fresh.id(), evaluated.id());
    tenor_events::testing::publish(&topics.risk, &fresh).await;

    let row = service.decided(loan.loan_id).await;
    assert_eq!(row.decision.as_db(), "APPROVE");
    let events = service
        .decision_events(loan.loan_id, 1, Duration::from_secs(8))
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].decision, CreditDecision::Approved);
    assert_eq!(service.decisions(loan.loan_id).await.len(), 1);
    let mut conn = service.db.pool().get().await.unwrap();
    let entries = scores::entries_of(&mut conn, &[row.id]).await.unwrap();
    assert_eq!(
        entries.len(),
        2,
        "INTERNAL and EXTERNAL once each: {entries:?}"
    );
    service.assert_replays_match().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_mid_flow_is_finished_once_by_the_next_processes() {
    let mut service = TestService::start().await;
    service.provider.set_down(true);
    let user = service.verified_borrower().await;
    let loan = service.submit_loan(user, 5_000_000, 6).await;
    service.risk_evaluated(&loan, 780, 1, 1).await;
    // The first process has the score and risk's answer and keeps failing to get the external
    // score; it dies there.
    let waiting = wait_for(async || {
        service.risk_stored(loan.loan_id).await
            && service
                .score(loan.loan_id)
                .await
                .is_some_and(|s| s.external_attempts >= 1 && s.risk_level.is_some())
    })
    .await;
    assert!(waiting, "{:?}", service.score(loan.loan_id).await);
    service.stop_first().await;
    assert_eq!(
        service.score(loan.loan_id).await.unwrap().decision.as_db(),
        "PENDING"
    );

    // The provider is back; two new processes race to finish it.
    service.provider.set_down(false);
    let (a, b) = tokio::join!(service.another_instance(), service.another_instance());
    let row = service.decided(loan.loan_id).await;
    assert_eq!(row.decision.as_db(), "APPROVE", "{row:?}");
    let events = service
        .decision_events(loan.loan_id, 1, Duration::from_secs(8))
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(service.decisions(loan.loan_id).await.len(), 1);
    drop((a, b));
    service.assert_replays_match().await;
}

/// The score company is called with nothing held: while a slow call is in flight, the score row
/// is not locked and no transaction waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_provider_is_called_with_no_lock_held() {
    use diesel_async::{AsyncConnection, RunQueryDsl};

    let service = TestService::start().await;
    service.provider.set_delay(Duration::from_secs(3));
    let user = service.verified_borrower().await;
    let loan = service.submit_loan(user, 5_000_000, 6).await;
    service.risk_evaluated(&loan, 780, 1, 1).await;
    assert!(wait_for(async || service.provider.calls() >= 1).await);
    let started = std::time::Instant::now();
    let mut conn = service.db.pool().get().await.unwrap();
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        diesel::sql_query("SET LOCAL lock_timeout = '200ms'")
            .execute(conn)
            .await?;
        diesel::sql_query("SELECT id FROM credit_scores WHERE loan_id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Uuid, _>(loan.loan_id)
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
    .expect("the score row is free while the provider answers");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        service.score(loan.loan_id).await.unwrap().decision.as_db(),
        "PENDING",
        "the provider is still answering"
    );
    let row = service.decided(loan.loan_id).await;
    assert_eq!(row.decision.as_db(), "APPROVE");
}
