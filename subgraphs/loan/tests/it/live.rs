//! Live status over WebSocket (graphql-transport-ws), driven by Kafka: two loan processes, a
//! subscriber on each, both see the decision; other users are refused; an expiring token or a
//! revoked session ends the subscription with a clear error.

use std::time::Duration;

use crate::support::*;
use chrono::Utc;
use serde_json::{Value, json};
use tenor_contracts::credit::CreditDecision;
use tenor_contracts::identity::SessionRevokedV1;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

async fn acked(client: &mut WsClient) {
    let ack = client.next_message(WAIT).await.expect("connection_ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
}

/// The next `next` payload of operation `id` (skipping pings).
async fn next_status(client: &mut WsClient, id: &str) -> Value {
    loop {
        let message = client.next_message(WAIT).await.expect("a status push");
        match message["type"].as_str() {
            Some("next") if message["id"] == id => {
                return message["payload"]["data"]["loanStatusChanged"].clone();
            }
            Some("ping") => client.send(json!({ "type": "pong" })).await,
            _ => panic!("unexpected message {message}"),
        }
    }
}

/// A refused subscription: one `next` carrying only the error, then `complete`.
async fn refusal_code(client: &mut WsClient, id: &str) -> String {
    let refusal = client.next_message(WAIT).await.expect("a refusal");
    assert_eq!(refusal["type"], "next", "{refusal}");
    assert_eq!(refusal["id"], id);
    assert!(refusal["payload"]["data"].is_null(), "{refusal}");
    let complete = client.next_message(WAIT).await.expect("complete");
    assert_eq!(complete["type"], "complete", "{complete}");
    refusal["payload"]["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn subscribers_on_both_replicas_see_submitted_then_the_decision() {
    let service = TestService::start().await;
    let second = service.another_instance().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);

    // On replica B: all of the caller's loans, subscribed before applying.
    let mut all_mine = service.websocket(&second.base_url, Some(&token)).await;
    acked(&mut all_mine).await;
    all_mine.subscribe("all", None).await;
    // Let the subscription register before the first event.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let payload = service.apply(&token, 4_000_000, 6, "live-1").await;
    let loan = loan_id(&payload);
    let submitted = next_status(&mut all_mine, "all").await;
    assert_eq!(submitted["status"], "SUBMITTED", "{submitted}");
    assert_eq!(submitted["snapshot"], false, "a change as it happens");
    assert_eq!(submitted["loan"]["id"], loan.to_string());

    // On replica A: that one loan. Its first message is the loan's status now, so an app
    // reconnecting after a dropped connection never misses the last change.
    let mut one = service.websocket(&service.base_url, Some(&token)).await;
    acked(&mut one).await;
    one.subscribe("one", Some(loan)).await;
    let current = next_status(&mut one, "one").await;
    assert_eq!(current["status"], "SUBMITTED", "{current}");
    assert_eq!(current["previousStatus"], Value::Null);
    assert_eq!(current["snapshot"], true);
    assert_eq!(current["loan"]["id"], loan.to_string());
    // Someone else asking for it is refused.
    let mut intruder = service
        .websocket(
            &service.base_url,
            Some(&service.customer_token(Uuid::new_v4())),
        )
        .await;
    acked(&mut intruder).await;
    intruder.subscribe("steal", Some(loan)).await;
    assert_eq!(refusal_code(&mut intruder, "steal").await, "FORBIDDEN");
    tokio::time::sleep(Duration::from_millis(300)).await;

    service.decide(loan, user, CreditDecision::Approved).await;
    for (client, id) in [(&mut one, "one"), (&mut all_mine, "all")] {
        let change = next_status(client, id).await;
        assert_eq!(change["status"], "APPROVED", "{change}");
        assert_eq!(change["previousStatus"], "SUBMITTED");
        assert_eq!(change["snapshot"], false);
        // Entity fields resolved as of now.
        assert_eq!(change["loan"]["status"], "APPROVED");
        assert_eq!(change["loan"]["amount"], 4_000_000);
    }
    // A subscriber to all of the caller's loans starts with each loan's status now.
    let mut again = service.websocket(&second.base_url, Some(&token)).await;
    acked(&mut again).await;
    again.subscribe("again", None).await;
    let current = next_status(&mut again, "again").await;
    assert_eq!(current["status"], "APPROVED", "{current}");
    assert_eq!(current["snapshot"], true);
    assert!(
        again
            .next_message(Duration::from_millis(500))
            .await
            .is_none(),
        "one loan, one snapshot"
    );
    // The intruder got nothing more.
    assert!(
        intruder
            .next_message(Duration::from_millis(500))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn connections_need_a_valid_token_and_end_when_it_expires() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;

    // A bad token refuses the connection.
    let mut forged = service
        .websocket(&service.base_url, Some("not.a.token"))
        .await;
    let reply = forged.next_message(Duration::from_secs(5)).await;
    assert!(
        reply.as_ref().is_none_or(|m| m["type"] != "connection_ack"),
        "{reply:?}"
    );

    // No token: connected, but the subscription is refused.
    let mut anonymous = service.websocket(&service.base_url, None).await;
    acked(&mut anonymous).await;
    anonymous.subscribe("anon", None).await;
    assert_eq!(
        refusal_code(&mut anonymous, "anon").await,
        "UNAUTHENTICATED"
    );

    // A token that expires in 2 seconds: the stream ends with UNAUTHENTICATED.
    let short = service.issuer.token_with(json!({
        "sub": user.to_string(),
        "scope": "loan:apply",
        "exp": Utc::now().timestamp() + 2,
    }));
    let mut client = service.websocket(&service.base_url, Some(&short)).await;
    acked(&mut client).await;
    client.subscribe("s", None).await;
    let message = client
        .next_message(Duration::from_secs(10))
        .await
        .expect("the expiry");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let complete = client
        .next_message(Duration::from_secs(5))
        .await
        .expect("complete");
    assert_eq!(complete["type"], "complete", "{complete}");
}

/// The error frame that ends operation `id`, then its `complete`; the code of the error.
async fn ended_with(client: &mut WsClient, id: &str, within: Duration) -> String {
    let message = client
        .next_message(within)
        .await
        .expect("the end of the stream");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], id, "{message}");
    let complete = client
        .next_message(Duration::from_secs(5))
        .await
        .expect("complete");
    assert_eq!(complete["type"], "complete", "{complete}");
    assert_eq!(complete["id"], id, "{complete}");
    message["payload"]["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {message}"))
        .to_owned()
}

#[tokio::test]
async fn a_revoked_session_ends_its_subscriptions_on_every_replica_within_two_seconds() {
    let service = TestService::start().await;
    let second = service.another_instance().await;
    let user = service.verified_customer().await;
    let token_of = |session: Uuid| {
        service.issuer.token_with(json!({
            "sub": user.to_string(),
            "sid": session.to_string(),
            "scope": "loan:apply kyc:submit",
        }))
    };
    let (phone, tablet) = (Uuid::new_v4(), Uuid::new_v4());
    let (phone_token, tablet_token) = (token_of(phone), token_of(tablet));

    // The phone's session subscribes on both replicas, the tablet's on the first.
    let mut phone_a = service
        .websocket(&service.base_url, Some(&phone_token))
        .await;
    let mut phone_b = service
        .websocket(&second.base_url, Some(&phone_token))
        .await;
    let mut tablet_a = service
        .websocket(&service.base_url, Some(&tablet_token))
        .await;
    for client in [&mut phone_a, &mut phone_b, &mut tablet_a] {
        acked(client).await;
        client.subscribe("mine", None).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // auth ends the phone's session (e.g. logout, or the account was blocked).
    let revoked_at = Utc::now();
    let started = std::time::Instant::now();
    service
        .publish(
            &service.topics.auth,
            phone,
            &SessionRevokedV1 {
                session_id: phone,
                user_id: user,
                reason: "LOGOUT".into(),
                revoked_at,
            },
        )
        .await;
    for client in [&mut phone_a, &mut phone_b] {
        let left = Duration::from_secs(2).saturating_sub(started.elapsed());
        assert_eq!(ended_with(client, "mine", left).await, "UNAUTHENTICATED");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );

    // The tablet's subscription is untouched and still receives changes.
    assert!(
        tablet_a
            .next_message(Duration::from_millis(300))
            .await
            .is_none()
    );
    let payload = service
        .apply(&tablet_token, 2_000_000, 3, "revoked-1")
        .await;
    let loan = loan_id(&payload);
    let submitted = next_status(&mut tablet_a, "mine").await;
    assert_eq!(submitted["status"], "SUBMITTED", "{submitted}");
    assert_eq!(submitted["loan"]["id"], loan.to_string());

    // A new subscription with the revoked session's token is refused at once.
    let mut again = service
        .websocket(&second.base_url, Some(&phone_token))
        .await;
    acked(&mut again).await;
    again.subscribe("again", None).await;
    assert_eq!(refusal_code(&mut again, "again").await, "UNAUTHENTICATED");
}

/// A change the subscriber already knows, from its snapshot or an earlier push, is not pushed
/// again: the race between subscribing and reading the snapshot, and Kafka redelivering an
/// event, would otherwise show the borrower SUBMITTED twice (CI saw it through the router).
#[tokio::test]
async fn a_change_already_told_is_not_pushed_again() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);

    let mut early = service.websocket(&service.base_url, Some(&token)).await;
    acked(&mut early).await;
    early.subscribe("early", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let loan = loan_id(&service.apply(&token, 3_000_000, 6, "told-1").await);
    assert_eq!(next_status(&mut early, "early").await["snapshot"], false);

    let mut late = service.websocket(&service.base_url, Some(&token)).await;
    acked(&mut late).await;
    late.subscribe("late", None).await;
    let current = next_status(&mut late, "late").await;
    assert_eq!(current["status"], "SUBMITTED", "{current}");
    assert_eq!(current["snapshot"], true);

    // Kafka delivers the SUBMITTED change again (a rebalance, a relay retry).
    let events = service
        .loan_events(|e| !status_events(e, loan).is_empty())
        .await;
    let submitted = status_events(&events, loan).remove(0);
    service
        .publish(&service.topics.loan, loan, &submitted)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The next push of each is the decision, and nothing follows it.
    service.decide(loan, user, CreditDecision::Approved).await;
    for (client, id) in [(&mut early, "early"), (&mut late, "late")] {
        let change = next_status(client, id).await;
        assert_eq!(change["status"], "APPROVED", "{id}: {change}");
        assert_eq!(change["previousStatus"], "SUBMITTED");
        assert!(
            client
                .next_message(Duration::from_millis(500))
                .await
                .is_none(),
            "{id}: one push per change"
        );
    }
}

/// The router caps a user's sockets, not the subscriptions on a socket: the replica caps a
/// user's live subscriptions (`LIVE_SUBSCRIPTIONS_PER_USER`, 20), refusing one more with
/// `TOO_MANY_SUBSCRIPTIONS`, and an ended one frees its place. Another user is not affected.
#[tokio::test]
async fn a_user_holds_at_most_twenty_live_subscriptions() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let mut client = service.websocket(&service.base_url, Some(&token)).await;
    acked(&mut client).await;
    for i in 0..tenor_events::live::DEFAULT_SUBSCRIPTIONS_PER_RECIPIENT {
        client.subscribe(&format!("s{i}"), None).await;
    }
    client.subscribe("over", None).await;
    // Subscriptions on one socket start side by side, so the one over the cap is whichever
    // came last to the replica, not necessarily the last sent.
    let refusal = client.next_message(WAIT).await.expect("a refusal");
    let refused = refusal["id"].as_str().unwrap().to_owned();
    assert_eq!(refusal["type"], "next", "{refusal}");
    assert_eq!(
        refusal["payload"]["errors"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{refusal}"
    );
    let complete = client.next_message(WAIT).await.expect("complete");
    assert_eq!(complete["type"], "complete", "{complete}");
    assert_eq!(complete["id"], refused.as_str());
    let ended = if refused == "s0" { "s1" } else { "s0" };

    let other = service.verified_customer().await;
    let mut theirs = service
        .websocket(&service.base_url, Some(&service.customer_token(other)))
        .await;
    acked(&mut theirs).await;
    theirs.subscribe("theirs", None).await;

    client
        .send(json!({ "id": ended, "type": "complete" }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.subscribe("again", None).await;
    let loan = loan_id(&service.apply(&token, 3_000_000, 6, "cap-1").await);
    // Every live subscription of the user hears the new loan, the one that took the freed
    // place too; the refused one and the ended one do not.
    let mut heard = std::collections::BTreeSet::new();
    while heard.len() < tenor_events::live::DEFAULT_SUBSCRIPTIONS_PER_RECIPIENT {
        let message = client.next_message(WAIT).await.expect("a status push");
        match message["type"].as_str() {
            Some("next") => {
                let change = &message["payload"]["data"]["loanStatusChanged"];
                assert_eq!(change["loan"]["id"], loan.to_string(), "{message}");
                heard.insert(message["id"].as_str().unwrap().to_owned());
            }
            Some("ping") => client.send(json!({ "type": "pong" })).await,
            // The server's acknowledgement of the ended subscription.
            Some("complete") if message["id"] == ended => {}
            _ => panic!("unexpected message {message}"),
        }
    }
    assert!(heard.contains("again"), "{heard:?}");
    assert!(
        !heard.contains(ended) && !heard.contains(&refused),
        "{heard:?}"
    );
    let apply_other = service
        .apply(&service.customer_token(other), 3_000_000, 6, "cap-2")
        .await;
    let change = next_status(&mut theirs, "theirs").await;
    assert_eq!(change["loan"]["id"], loan_id(&apply_other).to_string());
}
