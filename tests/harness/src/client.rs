//! Talking to services over HTTP: GraphQL posts, waiting for a service to come up or be ready,
//! polling until a condition holds, reading error codes.

use std::time::Duration;

use serde_json::{Value, json};

/// Posts one GraphQL request on a client of its own. Tests use this: each `#[tokio::test]` has
/// its own runtime, and a pooled connection must not outlive the runtime that opened it.
pub async fn post_graphql(url: &str, query: &str, variables: Value, token: Option<&str>) -> Value {
    post_graphql_via(&reqwest::Client::new(), url, query, variables, token).await
}

/// Posts one GraphQL request on `http`, reusing its pooled connections as an app's HTTP client
/// does. Benchmarks use this: building a client costs far more than a request (its TLS
/// configuration), work that a load generator must not add to what it measures.
pub async fn post_graphql_via(
    http: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    // A hang is a failure to report, not a test that never ends.
    let mut request = http
        .post(url)
        .timeout(Duration::from_secs(30))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

pub(crate) async fn wait_until_up(url: &str) {
    for _ in 0..200 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not come up");
}

pub(crate) async fn wait_until_ready(url: &str) {
    for _ in 0..300 {
        if let Ok(response) = reqwest::get(url).await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} was not ready within 30 s");
}

/// Polls `check` until it holds (events cross Kafka asynchronously).
pub async fn eventually(mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition not reached within 20 s");
}

/// Error codes of a GraphQL response, in order.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Sends `head` (request line and headers, ending in the blank line) and then all of `body` on a
/// fresh connection to `port`, and only then reads the whole answer — as simple HTTP clients
/// do. A server that answers and closes before reading the body makes this fail with a reset
/// (`ECONNRESET` on the write or the read) instead of returning its answer. Bounded by 30 s.
pub async fn send_whole_then_read(port: u16, head: &str, body: &[u8]) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), exchange)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}
