//! A part of Tenor that is down, as the app meets it through the router: the parts that answer
//! still answer, and the part that did not is one code the app can act on (`SERVICE_UNAVAILABLE`,
//! try again), with a message a borrower may read rather than the router's transport internals.
//!
//! The stack here runs no notification subgraph: the router's URL for it names a port nobody
//! listens on, as when the service has crashed or is being redeployed.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_harness::ws::{init, next, send};

use crate::common::{RouterStack, error_codes, eventually};

/// What a message about an outage must never show a borrower: the engine's own wording.
fn assert_no_internals(error: &Value) {
    let message = error["message"].as_str().unwrap_or_default();
    for internal in ["subgraph", "client error", "Connect", "hyper", "127.0.0.1"] {
        assert!(!message.contains(internal), "{internal} in {error}");
    }
}

#[tokio::test]
async fn a_service_that_is_down_is_service_unavailable_and_the_rest_answers() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let query = "query { me { id } myNotificationData { __typename } }";

    let mut response = Value::Null;
    // The profile reaches the user subgraph through Kafka.
    eventually(async || {
        response = stack.gql(query, json!({}), Some(&token)).await;
        !response["data"]["me"].is_null()
    })
    .await;

    assert_eq!(response["data"]["me"]["id"], customer.user_id.to_string());
    assert!(
        response["data"]["myNotificationData"].is_null(),
        "{response}"
    );
    assert_eq!(
        error_codes(&response),
        ["SERVICE_UNAVAILABLE"],
        "{response}"
    );
    let error = &response["errors"][0];
    // The engine's own code (`SUBREQUEST_HTTP_ERROR`) is not shown: error masking passes only
    // `code`, `field` and `retryAfterMs` of an error about a subgraph. The router's log has it,
    // with the request id.
    assert_eq!(
        error["extensions"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["code"],
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().contains("try again"),
        "{error}"
    );
    assert_no_internals(error);
}

/// hive-router 0.2 answers a subscription it could not start before any plugin hook, so the code
/// is the engine's own; the message is its generic one. The app treats this code on `subscribe`
/// as it treats `SERVICE_UNAVAILABLE`: subscribe again after a pause (docs/conventions.md).
#[tokio::test]
async fn a_subscription_to_a_service_that_is_down_is_refused_without_internals() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;

    let mut socket = tenor_harness::ws::connect(&stack.router).await;
    init(&mut socket, Some(&token)).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { notificationReceived { id } }" } }),
    )
    .await;
    let answer = next(&mut socket, Duration::from_secs(15)).await.unwrap();
    assert_eq!(answer["type"], "error", "{answer}");
    let error = &answer["payload"][0];
    assert_eq!(
        error["extensions"]["code"], "SUBGRAPH_WEBSOCKET_CONNECT_FAILURE",
        "{answer}"
    );
    assert_no_internals(error);
}
