//! graphql-transport-ws at the router, per the protocol's PROTOCOL.md: what a mobile client that
//! misbehaves (or a hostile one) gets, and that the token travels in `connection_init`.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_harness::ws::{init, next, send};

use crate::common::{RouterStack, eventually};

async fn connect(stack: &RouterStack) -> tenor_harness::ws::Socket {
    tenor_harness::ws::connect(&stack.router).await
}

#[tokio::test]
async fn protocol_violations_close_with_the_codes_the_protocol_names() {
    let stack = RouterStack::start().await;

    // Subscribe before connection_init → 4401 Unauthorized.
    let mut socket = connect(&stack).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(next(&mut socket, Duration::from_secs(5)).await, Err(4401));

    // A second connection_init → 4429 Too many initialisation requests.
    let mut socket = connect(&stack).await;
    init(&mut socket, None).await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut socket, Duration::from_secs(5)).await, Err(4429));

    // No connection_init at all → 4408 Connection initialisation timeout (10 s in the router).
    let mut socket = connect(&stack).await;
    assert_eq!(next(&mut socket, Duration::from_secs(15)).await, Err(4408));
}

#[tokio::test]
async fn ping_gets_pong_and_operations_run_with_the_connection_init_token() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;

    let mut socket = connect(&stack).await;
    init(&mut socket, Some(&token)).await;
    send(
        &mut socket,
        json!({ "type": "ping", "payload": { "at": 1 } }),
    )
    .await;
    let pong = next(&mut socket, Duration::from_secs(5)).await.unwrap();
    assert_eq!(pong["type"], "pong", "{pong}");

    // The token from connection_init reaches the subgraphs, which verify it themselves.
    let mut me = Value::Null;
    let mut id = 0;
    eventually(async || {
        id += 1;
        send(
            &mut socket,
            json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": "{ me { id } mySessions { nodes { id } } }" } }),
        )
        .await;
        me = next(&mut socket, Duration::from_secs(10)).await.unwrap();
        let complete = next(&mut socket, Duration::from_secs(10)).await.unwrap();
        assert_eq!(complete["type"], "complete", "{complete}");
        !me["payload"]["data"]["me"].is_null()
    })
    .await;
    assert_eq!(me["type"], "next");
    assert_eq!(
        me["payload"]["data"]["me"]["id"],
        customer.user_id.to_string()
    );

    // Without a token in connection_init the same operation gets nothing.
    let mut anonymous = connect(&stack).await;
    init(&mut anonymous, None).await;
    send(
        &mut anonymous,
        json!({ "id": "a", "type": "subscribe", "payload": { "query": "{ mySessions { nodes { id } } }" } }),
    )
    .await;
    let refused = next(&mut anonymous, Duration::from_secs(10)).await.unwrap();
    let refused_text = refused.to_string();
    assert!(
        refused_text.contains("UNAUTHENTICATED"),
        "anonymous over WebSocket: {refused_text}"
    );
}
