//! `notificationReceived`: each subscriber gets its own items only, and a subscription ends
//! with `UNAUTHENTICATED` once its session is revoked (`auth.session.revoked.v1`); a new one
//! with that session's token is refused at once.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tenor_contracts::identity::SessionRevokedV1;
use tenor_notification::testing::*;
use uuid::Uuid;

use crate::support::WsClient;

#[tokio::test]
async fn subscribers_get_their_own_items_until_their_session_is_revoked() {
    let service = TestService::start().await;
    let alice = Borrower::new("Alice Tan").channels(&["EMAIL"]);
    let bob = Borrower::new("Bob Lim").channels(&["EMAIL"]);
    service.borrower(&alice).await;
    service.borrower(&bob).await;
    let session = Uuid::new_v4();
    let alice_token = service.issuer.token_with(json!({
        "sub": alice.id.to_string(),
        "sid": session.to_string(),
        "scope": "",
    }));
    let mut alice_live = WsClient::connect(&service.base_url, &alice_token).await;
    alice_live.subscribe_notifications("a").await;
    let mut bob_live = WsClient::connect(&service.base_url, &service.token(bob.id, "")).await;
    bob_live.subscribe_notifications("b").await;

    let for_alice = service.approve_loan(alice.id, 1_500_000).await;
    let for_bob = service.approve_loan(bob.id, 2_500_000).await;

    let alice_got = alice_live.received(Duration::from_secs(8)).await;
    let bob_got = bob_live.received(Duration::from_secs(1)).await;
    assert_eq!(alice_got.len(), 1, "{alice_got:?}");
    assert_eq!(alice_got[0]["id"], for_alice.id().to_string());
    assert_eq!(bob_got.len(), 1, "{bob_got:?}");
    assert_eq!(bob_got[0]["id"], for_bob.id().to_string());

    let revoked = SessionRevokedV1 {
        session_id: session,
        user_id: alice.id,
        reason: "LOGOUT".into(),
        revoked_at: Utc::now(),
    };
    service
        .publish(&service.topics.auth, session, &revoked)
        .await;
    let ended = ended_with(&mut alice_live, "a").await;
    assert_eq!(ended, "UNAUTHENTICATED");

    let mut again = WsClient::connect(&service.base_url, &alice_token).await;
    again.subscribe_notifications("again").await;
    assert_eq!(ended_with(&mut again, "again").await, "UNAUTHENTICATED");
}

/// The code of the error that ended subscription `id` (waits up to 10 s).
async fn ended_with(client: &mut WsClient, id: &str) -> String {
    loop {
        let message = client
            .next_message(Duration::from_secs(10))
            .await
            .expect("the subscription ended with an error");
        if message["id"] != id {
            continue;
        }
        match message["type"].as_str() {
            Some("next") if message["payload"]["errors"].is_array() => {
                return message["payload"]["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            Some("error") => {
                return message["payload"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            _ => {}
        }
    }
}

/// An item the hub delivers again (its group re-assigned after a broker restart resumes up to a
/// second back) reaches the subscriber once.
#[tokio::test]
async fn an_item_delivered_again_is_pushed_once() {
    let service = TestService::start().await;
    let alice = Borrower::new("Alice Tan").channels(&["EMAIL"]);
    service.borrower(&alice).await;
    let mut live = WsClient::connect(&service.base_url, &service.token(alice.id, "")).await;
    live.subscribe_notifications("a").await;

    let first = service.approve_loan(alice.id, 1_500_000).await;
    let got = live.received(Duration::from_secs(8)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["id"], first.id().to_string());

    // The announcement of that item, published once more.
    let announced = tenor_events::testing::read_events(
        &service.topics.notification,
        Duration::from_secs(10),
        |events| !events.is_empty(),
    )
    .await;
    let again = announced
        .iter()
        .find(|e| e.event_type() == "notification.inbox.added.v1")
        .expect("the item's announcement");
    tenor_events::testing::publish(&service.topics.notification, again).await;
    let repeated = live.received(Duration::from_secs(2)).await;
    assert!(repeated.is_empty(), "pushed again: {repeated:?}");

    // A new item still arrives.
    let second = service.approve_loan(alice.id, 2_000_000).await;
    let got = live.received(Duration::from_secs(8)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["id"], second.id().to_string());
}
