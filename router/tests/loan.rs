//! Loans through the router: application rules as the app meets them, and the live status
//! subscription over WebSocket — driven by a `credit.decision.made` event from a test producer
//! (credit does not exist yet), with the borrower's name resolved from the user subgraph.

mod common;

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt as _;
use serde_json::{Value, json};
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_events::Envelope;
use tenor_harness::ws::{self, Socket, send};
use uuid::Uuid;

use common::{RouterStack, eventually};
use tenor_harness::journeys::{fresh_nik, verified_customer};

const APPLY: &str = "mutation ApplyLoan($amount: Int!, $tenor: Int!, $key: String!) { applyLoan(amount: $amount, tenorMonths: $tenor, purpose: \"Modal usaha warung\", idempotencyKey: $key) { loan { id status amount tenorMonths } userErrors { code field message } } }";

async fn apply(stack: &RouterStack, token: &str, amount: i64, tenor: i64, key: &str) -> Value {
    let response = stack
        .gql(
            APPLY,
            json!({ "amount": amount, "tenor": tenor, "key": key }),
            Some(token),
        )
        .await;
    response["data"]["applyLoan"].clone()
}

fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors: {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

/// A customer with verified KYC whose eligibility has reached the loan subgraph.
async fn eligible_customer(stack: &RouterStack) -> (common::Account, String) {
    let (customer, token) = verified_customer(stack, &fresh_nik()).await;
    // kyc → Kafka → loan's projection: a quote is free, a probe application would not be, so
    // wait on what the app shows before it offers a loan.
    eventually(async || {
        let me = stack
            .gql(
                "query MyKyc { me { kyc { status } } }",
                json!({}),
                Some(&token),
            )
            .await;
        me["data"]["me"]["kyc"]["status"] == "VERIFIED"
    })
    .await;
    (customer, token)
}

/// Applies, retrying only while loan has not yet heard of the KYC verification.
async fn apply_when_eligible(stack: &RouterStack, token: &str, key: &str) -> Value {
    let mut payload = Value::Null;
    eventually(async || {
        payload = apply(stack, token, 5_000_000, 6, key).await;
        codes(&payload) != ["KYC_NOT_VERIFIED"]
    })
    .await;
    payload
}

#[tokio::test]
async fn every_application_rule_has_its_own_code_through_the_router() {
    let stack = RouterStack::start().await;

    // No KYC at all.
    let unverified = stack.customer().await;
    let unverified_token = stack.router.login(&unverified).await;
    let refused = apply(&stack, &unverified_token, 5_000_000, 6, "k-unverified").await;
    assert_eq!(codes(&refused), ["KYC_NOT_VERIFIED"], "{refused}");

    let (_, token) = eligible_customer(&stack).await;
    for (amount, tenor, code) in [
        (12_000_001, 6, "AMOUNT_TOO_HIGH"),
        (5_000_000, 13, "TENOR_TOO_LONG"),
        (5_000_000, 0, "TENOR_TOO_SHORT"),
    ] {
        let refused = apply(&stack, &token, amount, tenor, &Uuid::new_v4().to_string()).await;
        assert_eq!(codes(&refused), [code], "{amount}/{tenor}: {refused}");
        assert!(refused["loan"].is_null());
    }

    let first = apply_when_eligible(&stack, &token, "k-first").await;
    assert_eq!(codes(&first), Vec::<String>::new(), "{first}");
    assert_eq!(first["loan"]["status"], "SUBMITTED");
    assert_eq!(first["loan"]["amount"], 5_000_000);

    // The same key again: the same loan, not a second one and not an error.
    let replay = apply(&stack, &token, 5_000_000, 6, "k-first").await;
    assert_eq!(replay["loan"]["id"], first["loan"]["id"], "{replay}");

    let second = apply(&stack, &token, 1_000_000, 3, "k-second").await;
    assert_eq!(codes(&second), ["LOAN_ALREADY_OPEN"], "{second}");
}

#[tokio::test]
async fn twenty_concurrent_applications_through_the_router_make_one_loan() {
    let stack = RouterStack::start().await;
    let (_, token) = eligible_customer(&stack).await;
    // Wait for loan's own view of the KYC verification with a real application on a throwaway
    // key that we cancel, so the race below is about the open-loan rule only.
    let probe = apply_when_eligible(&stack, &token, "k-probe").await;
    let probe_id = probe["loan"]["id"].as_str().unwrap().to_owned();
    let cancelled = stack
        .gql(
            "mutation Cancel($id: ID!) { cancelLoan(id: $id) { userErrors { code } } }",
            json!({ "id": probe_id }),
            Some(&token),
        )
        .await;
    assert_eq!(
        cancelled["data"]["cancelLoan"]["userErrors"],
        json!([]),
        "{cancelled}"
    );

    let attempts = (0..20).map(|i| {
        let key = format!("race-{i}");
        let stack = &stack;
        let token = token.clone();
        async move { apply(stack, &token, 3_000_000, 6, &key).await }
    });
    let results = futures::future::join_all(attempts).await;
    let accepted: Vec<_> = results.iter().filter(|r| !r["loan"].is_null()).collect();
    assert_eq!(accepted.len(), 1, "{results:?}");
    for refused in results.iter().filter(|r| r["loan"].is_null()) {
        assert_eq!(codes(refused), ["LOAN_ALREADY_OPEN"], "{refused}");
    }
}

/// A graphql-transport-ws connection through the router, initialised with `token`.
async fn subscribe_socket(stack: &RouterStack, token: &str) -> Socket {
    let mut socket = ws::connect(&stack.router).await;
    ws::init(&mut socket, Some(token)).await;
    socket
}

async fn next(socket: &mut Socket) -> Result<Value, u16> {
    ws::next(socket, Duration::from_secs(20)).await
}

const WATCH: &str = "subscription Watch($loanId: ID) { loanStatusChanged(loanId: $loanId) { status previousStatus reason loan { id status user { id fullname } } } }";

#[tokio::test]
async fn a_subscriber_sees_submitted_then_approved_live_with_the_borrower_from_the_user_subgraph() {
    let stack = RouterStack::start().await;
    let (customer, token) = eligible_customer(&stack).await;

    // Subscribed before applying: every status of every one of the caller's loans.
    let mut socket = subscribe_socket(&stack, &token).await;
    send(
        &mut socket,
        json!({ "id": "watch", "type": "subscribe", "payload": { "query": WATCH, "operationName": "Watch" } }),
    )
    .await;
    // graphql-transport-ws: a second subscribe with an id in use closes the socket with 4409.
    // Checked on a separate connection so this one keeps its subscription.
    let mut duplicate = subscribe_socket(&stack, &token).await;
    for _ in 0..2 {
        send(
            &mut duplicate,
            json!({ "id": "same", "type": "subscribe", "payload": { "query": WATCH } }),
        )
        .await;
    }
    assert_eq!(next(&mut duplicate).await, Err(4409));

    let applied = apply_when_eligible(&stack, &token, "k-live").await;
    let loan_id = applied["loan"]["id"].as_str().unwrap().to_owned();

    let submitted = next(&mut socket).await.unwrap();
    assert_eq!(submitted["type"], "next", "{submitted}");
    let change = &submitted["payload"]["data"]["loanStatusChanged"];
    assert_eq!(change["status"], "SUBMITTED", "{submitted}");
    assert_eq!(change["loan"]["id"], loan_id);
    // Entity field from another subgraph, resolved by the router for the subscription event.
    assert_eq!(
        change["loan"]["user"]["fullname"], "Siti Rahayu",
        "{submitted}"
    );
    assert_eq!(change["loan"]["user"]["id"], customer.user_id.to_string());

    // Someone else may not watch this loan.
    let stranger = stack.customer().await;
    let stranger_token = stack.router.login(&stranger).await;
    let mut other = subscribe_socket(&stack, &stranger_token).await;
    send(
        &mut other,
        json!({ "id": "peek", "type": "subscribe", "payload": { "query": WATCH, "variables": { "loanId": loan_id } } }),
    )
    .await;
    let refused = next(&mut other).await.unwrap();
    assert!(
        refused.to_string().contains("FORBIDDEN"),
        "another user's subscription: {refused}"
    );

    // Credit decides (a test producer until the credit service exists).
    let decision = CreditDecisionMadeV1 {
        decision_id: Uuid::new_v4(),
        loan_id: loan_id.parse().unwrap(),
        user_id: customer.user_id,
        decision: CreditDecision::Approved,
        score: 720,
        reason_codes: vec!["SCORE_ABOVE_THRESHOLD".into()],
        reason: Some("Good repayment capacity".into()),
        source: CreditDecisionSource::Automatic,
        decided_by: None,
        decided_at: Utc::now(),
    };
    let envelope = Envelope::new("/tenor/credit", loan_id.clone(), &decision, None).unwrap();
    tenor_events::testing::publish(&stack.subgraphs.topics.credit, &envelope).await;

    let approved = next(&mut socket).await.unwrap();
    let change = &approved["payload"]["data"]["loanStatusChanged"];
    assert_eq!(change["status"], "APPROVED", "{approved}");
    assert_eq!(change["previousStatus"], "SUBMITTED");
    assert_eq!(change["loan"]["status"], "APPROVED");
    assert_eq!(change["loan"]["user"]["fullname"], "Siti Rahayu");

    // The same decision again (at-least-once delivery) changes nothing and pushes nothing.
    tenor_events::testing::publish(&stack.subgraphs.topics.credit, &envelope).await;
    let quiet = tokio::time::timeout(Duration::from_secs(2), socket.next()).await;
    assert!(quiet.is_err(), "a duplicate decision was pushed: {quiet:?}");
}

#[tokio::test]
async fn subscriptions_also_stream_over_server_sent_events() {
    let stack = RouterStack::start().await;
    let (_, token) = eligible_customer(&stack).await;
    let mut stream = reqwest::Client::new()
        .post(stack.router.graphql_url())
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .bearer_auth(&token)
        .json(&json!({ "query": WATCH, "operationName": "Watch" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );

    let applied = apply_when_eligible(&stack, &token, "k-sse").await;
    let loan_id = applied["loan"]["id"].as_str().unwrap().to_owned();
    let mut received = String::new();
    while !received.contains("SUBMITTED") {
        let chunk = tokio::time::timeout(Duration::from_secs(20), stream.chunk())
            .await
            .expect("no event within 20 s")
            .unwrap()
            .expect("the stream ended");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    let event = received
        .lines()
        .find(|line| line.starts_with("data:") && line.contains("SUBMITTED"))
        .unwrap();
    let data: Value = serde_json::from_str(event.trim_start_matches("data:").trim()).unwrap();
    let change = &data["data"]["loanStatusChanged"];
    assert_eq!(change["loan"]["id"], loan_id, "{received}");
    assert_eq!(change["loan"]["user"]["fullname"], "Siti Rahayu");
}
