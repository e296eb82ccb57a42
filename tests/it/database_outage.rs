//! A service whose database cannot be reached says so: the fields it serves come back null with
//! `SERVICE_UNAVAILABLE` and the outage wording the router uses for a service it cannot reach
//! (try again shortly), not `INTERNAL` (something broke); and once the database is back the
//! same request is answered, with no restart. Credit runs as its own process here, so what its
//! process notes about its database is its own.

use serde_json::{Value, json};
use tenor_harness::{RouterStack, eventually};
use tenor_platform::graphql::SERVICE_UNAVAILABLE_MESSAGE;

const QUEUE: &str = "query Queue { creditReviewQueue(first: 10) { nodes { loanId queueReason } } }";

#[tokio::test]
async fn a_service_without_its_database_answers_service_unavailable_and_recovers_on_its_own() {
    let stack = RouterStack::start_deciding().await;
    let staff_account = stack.staff(&["credit:decide"]).await;
    let staff = stack.router.login(&staff_account).await;
    let answered = |answer: &Value| {
        answer["errors"].is_null() && answer["data"]["creditReviewQueue"]["nodes"].is_array()
    };
    let before = stack.gql(QUEUE, json!({}), Some(&staff)).await;
    assert!(answered(&before), "{before}");

    let credit_db = &stack.deciders().credit_db;
    credit_db.refuse_connections(true).await;
    // Twice: the first request may meet a pooled connection the server just ended, the
    // second must open a new one and be refused.
    for attempt in 1..=2 {
        let during = stack.gql(QUEUE, json!({}), Some(&staff)).await;
        let error = &during["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "attempt {attempt}: {during}"
        );
        assert_eq!(error["message"], SERVICE_UNAVAILABLE_MESSAGE, "{during}");
        assert!(
            during["data"]["creditReviewQueue"].is_null(),
            "attempt {attempt}: {during}"
        );
    }

    credit_db.refuse_connections(false).await;
    eventually(async || answered(&stack.gql(QUEUE, json!({}), Some(&staff)).await)).await;
}
