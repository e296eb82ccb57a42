//! Caps on open GraphQL WebSockets (issue 15): per router replica, refused before the upgrade;
//! per user, refused at the user's first subscription on a socket over the cap. Both freed when
//! a socket closes. Real router, real loan subgraph.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_harness::ws::{self, Socket, init, send};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use uuid::Uuid;

use crate::common::{Router, RouterStack, eventually, set, yaml};

const WATCH: &str =
    "subscription Watch($loanId: ID) { loanStatusChanged(loanId: $loanId) { status loan { id } } }";
const CODE: &str = "TOO_MANY_SUBSCRIPTIONS";

fn caps(connections: usize, per_user: usize) -> impl FnOnce(&mut serde_yaml::Value) {
    move |config| {
        set(
            config,
            "plugins.tenor.config.live_caps.config",
            yaml(json!({ "max_connections": connections, "max_connections_per_user": per_user })),
        );
    }
}

/// A socket initialised with `token`.
async fn socket(router: &Router, token: Option<&str>) -> Socket {
    let mut socket = ws::connect(router).await;
    init(&mut socket, token).await;
    socket
}

/// Subscribes `id` on `socket`: to all of the caller's loans (live: quiet until a loan changes)
/// without `loan_id`, to one loan with it.
async fn subscribe(socket: &mut Socket, id: &str, loan_id: Option<Uuid>) {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": {
            "query": WATCH, "operationName": "Watch", "variables": { "loanId": loan_id },
        } }),
    )
    .await;
}

/// The next message on `socket` (the router's pings do not count as one).
async fn next(socket: &mut Socket) -> Value {
    tokio::time::timeout(
        Duration::from_secs(15),
        ws::next(socket, Duration::from_secs(15)),
    )
    .await
    .expect("a message within 15 s")
    .unwrap_or_else(|code| panic!("socket closed with {code}"))
}

/// The next message on `socket` and its error codes.
async fn next_codes(socket: &mut Socket) -> (Value, Vec<String>) {
    let message = next(socket).await;
    let errors = match message["type"].as_str() {
        Some("error") => message["payload"].clone(),
        _ => message["payload"]["errors"].clone(),
    };
    let codes = errors
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    (message, codes)
}

/// A user's socket with a live subscription, then a probe on the same socket: the loan subgraph
/// answering the probe (someone else's loan: FORBIDDEN) proves the router let this socket's
/// subscriptions through.
async fn watching(router: &Router, token: &str) -> Socket {
    let mut socket = socket(router, Some(token)).await;
    subscribe(&mut socket, "watch", None).await;
    subscribe(&mut socket, "probe", Some(Uuid::new_v4())).await;
    let (message, codes) = next_codes(&mut socket).await;
    assert_eq!(message["id"], "probe", "{message}");
    assert_eq!(codes, ["FORBIDDEN"], "{message}");
    socket
}

/// Subscription `id` on `socket` was refused by the cap: one error, then `complete`.
async fn refused(socket: &mut Socket, id: &str) {
    let (message, codes) = next_codes(socket).await;
    assert_eq!(message["id"], id, "{message}");
    assert_eq!(codes, [CODE], "{message}");
    let complete = next(socket).await;
    assert_eq!(complete, json!({ "type": "complete", "id": id }));
}

#[tokio::test]
async fn a_user_holds_at_most_the_cap_of_subscribed_sockets_and_a_closed_one_frees_its_slot() {
    let stack = RouterStack::start_with(caps(100, 2)).await;
    let router = &stack.router;
    let ann = stack.customer().await;
    let ann_token = router.login(&ann).await;
    let bob = stack.customer().await;
    let bob_token = router.login(&bob).await;

    let first = watching(router, &ann_token).await;
    let _second = watching(router, &ann_token).await;

    // A third socket opens (the per-router cap is far), but its first subscription is refused
    // at the router: nothing reaches the loan subgraph.
    let mut third = socket(router, Some(&ann_token)).await;
    subscribe(&mut third, "watch", None).await;
    refused(&mut third, "watch").await;
    // Still refused on that socket (it holds no slot), also for another subscription.
    subscribe(&mut third, "again", Some(Uuid::new_v4())).await;
    refused(&mut third, "again").await;

    // Another user is not affected.
    let _bob_socket = watching(router, &bob_token).await;

    // Closing one of Ann's sockets frees its slot.
    drop(first);
    eventually(async || {
        let mut socket = socket(router, Some(&ann_token)).await;
        subscribe(&mut socket, "probe", Some(Uuid::new_v4())).await;
        let (_, codes) = next_codes(&mut socket).await;
        codes == ["FORBIDDEN"]
    })
    .await;
}

/// The WebSocket handshake, by hand, so a refusal's status and body can be read.
async fn upgrade(router: &Router) -> (u16, String, tokio::net::TcpStream) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", router.port))
        .await
        .unwrap();
    let request = format!(
        "GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
        router.port
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    let complete = |received: &[u8]| {
        let text = String::from_utf8_lossy(received);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        body.len() >= length
    };
    while !complete(&received) {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("handshake answered within 10 s")
            .unwrap();
        assert!(n > 0, "connection closed mid-answer: {received:?}");
        received.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"));
    (status, text, stream)
}

#[tokio::test]
async fn the_router_refuses_sockets_over_its_cap_before_the_upgrade_and_takes_one_when_one_closes()
{
    let stack = RouterStack::start_with(caps(2, 10)).await;
    let router = &stack.router;

    let first = socket(router, None).await;
    let _second = socket(router, None).await;

    let (status, answer, _) = upgrade(router).await;
    assert_eq!(status, 503, "{answer}");
    assert!(answer.contains(CODE), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 5"),
        "{answer}"
    );

    // Plain HTTP is not capped.
    let typename = router.gql("{ __typename }", json!({}), None).await;
    assert_eq!(typename["data"]["__typename"], "Query", "{typename}");

    drop(first);
    eventually(async || upgrade(router).await.0 == 101).await;
}

/// What the docs say about the engine: `traffic_shaping.router.max_long_lived_clients` does not
/// hold WebSockets (its slot goes with the 101 response's body, dropped once sent). Should a
/// new hive-router count them, this fails, and live_caps' per-router cap can be revisited.
#[tokio::test]
async fn the_engines_long_lived_client_limit_does_not_count_websockets() {
    let stack = RouterStack::start_with(|config| {
        caps(100, 10)(config);
        set(
            config,
            "traffic_shaping.router.max_long_lived_clients",
            yaml(json!(1)),
        );
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(socket(&stack.router, None).await);
    }
    let (status, answer, _) = upgrade(&stack.router).await;
    assert_eq!(status, 101, "{answer}");
}
