//! A change and its events commit together or not at all: when the outbox write fails, the
//! application is not stored either; when applying a decision fails, the consumer retries and
//! the decision lands exactly once.

use crate::support::*;
use diesel_async::RunQueryDsl;
use serde_json::json;
use tenor_contracts::credit::CreditDecision;

/// Make every outbox insert fail until [`heal_outbox`].
async fn break_outbox(service: &TestService) {
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query(
        "CREATE FUNCTION refuse_outbox() RETURNS trigger AS $$ \
         BEGIN RAISE EXCEPTION 'outbox unavailable (test)'; END; $$ LANGUAGE plpgsql",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox_events \
         FOR EACH ROW EXECUTE FUNCTION refuse_outbox()",
    )
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn heal_outbox(service: &TestService) {
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query("DROP TRIGGER refuse_outbox ON outbox_events")
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_application_whose_event_cannot_be_written_is_not_stored() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    break_outbox(&service).await;

    let response = service
        .graphql(
            Some(&token),
            APPLY,
            json!({ "amount": 2_000_000, "tenor": 3, "purpose": "modal", "key": "k1" }),
        )
        .await;
    assert_eq!(error_code(&response), "INTERNAL", "{response}");
    let mut conn = service.db.pool().get().await.unwrap();
    assert!(
        tenor_loan::store::loans::of_user(&mut conn, user)
            .await
            .unwrap()
            .is_empty()
    );
    drop(conn);

    // Once the outbox works again the same request goes through, as a first attempt.
    heal_outbox(&service).await;
    let payload = service.apply(&token, 2_000_000, 3, "k1").await;
    assert_eq!(payload["loan"]["status"], "SUBMITTED", "{payload}");
}

#[tokio::test]
async fn a_decision_that_fails_midway_is_retried_and_applied_once() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let loan = loan_id(&service.apply(&token, 2_000_000, 3, "k1").await);

    break_outbox(&service).await;
    service.decide(loan, user, CreditDecision::Approved).await;
    // The handler fails (its events cannot be written) and rolls back with its inbox row.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        service.loan_status(loan).await.as_deref(),
        Some("SUBMITTED")
    );
    heal_outbox(&service).await;
    service.wait_for_status(loan, "APPROVED").await;

    let mut conn = service.db.pool().get().await.unwrap();
    assert_eq!(
        tenor_loan::store::reviews::reviews(&mut conn, loan)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        tenor_loan::store::installments::installments(&mut conn, loan)
            .await
            .unwrap()
            .len(),
        3
    );
}
