//! Loans through the router: application rules as the app meets them, and the live status
//! subscription over WebSocket — driven by a `credit.decision.made` event from a test producer
//! (credit does not exist yet), with the borrower's name resolved from the user subgraph.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt as _;
use serde_json::{Value, json};
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_events::Envelope;
use tenor_harness::ws::{self, Socket, send};
use uuid::Uuid;

use crate::common::{self, RouterStack};
use tenor_harness::journeys::{apply, apply_when_eligible, eligible_customer};

fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors: {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
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
    // graphql-transport-ws: a subscribe with an id in use closes the socket with 4409.
    // Checked on a separate connection so this one keeps its subscription. The engine registers
    // an id only once the loan subgraph accepted the subscription, and a second frame that
    // arrives before that starts a second one instead (README, What is not there yet), so the
    // same subscribe is repeated until the id is in use; the socket must then close with 4409.
    let mut duplicate = subscribe_socket(&stack, &token).await;
    let mut closed = None;
    for _ in 0..20 {
        send(
            &mut duplicate,
            json!({ "id": "same", "type": "subscribe", "payload": { "query": WATCH } }),
        )
        .await;
        if let Ok(message) =
            tokio::time::timeout(Duration::from_millis(500), next(&mut duplicate)).await
        {
            closed = Some(message);
            break;
        }
    }
    assert_eq!(closed, Some(Err(4409)), "a subscribe reusing an id in use");

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
        reviews_decision: None,
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

/// A lender cuts access at once: blocking a borrower ends their open subscription with
/// UNAUTHENTICATED and refuses their very next request, within 2 s, although the access token
/// itself is still valid for minutes. A logout does the same for that one session.
#[tokio::test]
async fn a_blocked_borrower_is_cut_off_mid_subscription_within_two_seconds() {
    let stack = RouterStack::start().await;
    let (customer, token) = eligible_customer(&stack).await;
    let mut socket = subscribe_socket(&stack, &token).await;
    send(
        &mut socket,
        json!({ "id": "watch", "type": "subscribe", "payload": { "query": WATCH, "operationName": "Watch" } }),
    )
    .await;
    // The subscription is live: the application's SUBMITTED arrives.
    apply_when_eligible(&stack, &token, "k-cut").await;
    let submitted = next(&mut socket).await.unwrap();
    assert_eq!(
        submitted["payload"]["data"]["loanStatusChanged"]["status"], "SUBMITTED",
        "{submitted}"
    );
    let me = "query Me { me { id } }";
    assert!(stack.gql(me, json!({}), Some(&token)).await["data"]["me"].is_object());

    // Another session of the same borrower, to show a logout is per session.
    let staff = stack.staff(&["user:admin"]).await;
    let staff_token = stack.router.login(&staff).await;
    let blocked = stack
        .gql(
            "mutation Block($id: ID!) { blockUser(id: $id, reason: \"Fraud investigation\") { user { status } userErrors { code } } }",
            json!({ "id": customer.user_id }),
            Some(&staff_token),
        )
        .await;
    assert_eq!(
        blocked["data"]["blockUser"]["user"]["status"], "BLOCKED",
        "{blocked}"
    );
    let started = std::time::Instant::now();

    // The subscription ends with UNAUTHENTICATED…
    let ended = ws::next(&mut socket, Duration::from_secs(2))
        .await
        .expect("a message, not a dropped socket");
    assert!(
        ended.to_string().contains("UNAUTHENTICATED"),
        "the subscription was not ended as UNAUTHENTICATED: {ended}"
    );
    // …and the very next request is refused, within 2 s of the block.
    let mut refused = Value::Null;
    while started.elapsed() < Duration::from_secs(2) {
        refused = stack.gql(me, json!({}), Some(&token)).await;
        if common::error_codes(&refused).contains(&"UNAUTHENTICATED".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "still served {:?} after the block: {refused}",
        started.elapsed()
    );
    assert!(
        refused["data"].is_null() || refused["data"]["me"].is_null(),
        "{refused}"
    );
}

#[tokio::test]
async fn a_logged_out_session_is_refused_at_once_while_others_keep_working() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let phone = stack.router.login(&customer).await;
    let tablet = stack.router.login(&customer).await;
    let sessions = "query Sessions { mySessions { nodes { id } } }";
    assert!(common::error_codes(&stack.gql(sessions, json!({}), Some(&phone)).await).is_empty());

    let logout = stack
        .gql("mutation Logout { logout { ok } }", json!({}), Some(&phone))
        .await;
    assert_eq!(logout["data"]["logout"]["ok"], true, "{logout}");
    // The next request, or within the moment the router's revocation listener takes to be
    // scheduled when the phone's tokens are leased (rate_limit tests).
    let mut refused = Value::Null;
    for _ in 0..20 {
        refused = stack.gql(sessions, json!({}), Some(&phone)).await;
        if !common::error_codes(&refused).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        common::error_codes(&refused),
        ["UNAUTHENTICATED"],
        "{refused}"
    );
    let still = stack.gql(sessions, json!({}), Some(&tablet)).await;
    assert!(common::error_codes(&still).is_empty(), "{still}");
}
