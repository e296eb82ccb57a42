//! Whatever a client sends, the router answers within 2 s, never with a 5xx or `INTERNAL`, and
//! stays healthy: a corpus of known-hostile requests (HTTP and WebSocket), a seeded generative
//! fuzz, and proof that a wedged worker takes the process down instead of leaving it half alive.
//!
//! The fuzz runs a small fixed-seed batch in `./dev test`; for a longer run:
//!
//! ```sh
//! TENOR_FUZZ_CASES=5000 TENOR_FUZZ_SEED=42 cargo test -p tenor-router --test it hostile::fuzz -- --nocapture
//! ```
//!
//! Here: what every part shares (the 2 s deadline, generous limits, deep JSON, what counts as a
//! server fault, the health check). `http` and `websocket` hold the corpus, `watchdog` the
//! wedged worker, `fuzz` the generative fuzz.

mod fuzz;
mod http;
mod watchdog;
mod websocket;

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::ws::{self, Socket};
use crate::common::{Router, set, yaml};

const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// Limits out of the way: these tests send many requests from one address.
fn generous(config: &mut serde_yaml::Value) {
    set(
        config,
        "plugins.tenor.config.rate_limit.config.per_ip",
        yaml(json!({ "capacity": 100000, "refill_per_second": 10000 })),
    );
    set(
        config,
        "plugins.tenor.config.rate_limit.config.per_user",
        yaml(json!({ "capacity": 100000, "refill_per_second": 10000 })),
    );
}

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

fn deep_object(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

/// One raw HTTP request of the corpus.
struct Case {
    name: String,
    method: reqwest::Method,
    /// Appended to /graphql.
    query_string: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

/// What is wrong with an answer: a 5xx, or a code that means the server broke, not the request.
fn server_fault(status: u16, body: &str) -> Option<String> {
    if status >= 500 {
        return Some(format!("HTTP {status}: {body:.300}"));
    }
    let json = serde_json::from_str::<Value>(body).ok()?;
    json["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| {
            e["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .contains("INTERNAL")
        })
        .map(|e| format!("HTTP {status}: {e}"))
}

async fn assert_healthy(router: &Router) {
    let client = reqwest::Client::new();
    let health = tokio::time::timeout(
        ANSWER_WITHIN,
        client.get(format!("{}/health", router.url)).send(),
    )
    .await
    .expect("/health within 2 s")
    .expect("/health answers");
    assert!(health.status().is_success(), "{}", health.status());
    // And GraphQL still works on fresh connections, whichever worker takes them.
    for _ in 0..4 {
        let response = tokio::time::timeout(
            ANSWER_WITHIN,
            reqwest::Client::new()
                .post(router.graphql_url())
                .header("content-type", "application/json")
                .body(r#"{"query":"{ __typename }"}"#)
                .send(),
        )
        .await
        .expect("GraphQL within 2 s")
        .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
    }
}

async fn ws_connect(router: &Router) -> Socket {
    ws::connect(router).await
}
