//! One request can be followed in a subgraph's logs: a line logged anywhere inside the request
//! — here inside a traced use case, as every service function is — carries the request id the
//! router sent, the operation and the caller.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use serde_json::{Value, json};
use tenor_platform::auth::{TokenVerifier, VerifierConfig};
use tenor_platform::graphql::graphql_router;
use tenor_platform::telemetry::json_layer;
use tenor_platform::testing::GraphqlClient;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

#[tracing::instrument]
async fn use_case(loan: u32) -> u32 {
    tracing::info!("inside the use case");
    loan
}

struct Query;

#[Object]
impl Query {
    async fn loan(&self, id: u32) -> u32 {
        use_case(id).await
    }
}

#[tokio::test]
async fn a_line_logged_inside_a_traced_call_names_its_request() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::registry().with(json_layer(move || writer.clone()));
    // This test's thread only; the current-thread runtime keeps the server on it.
    let _guard = tracing::subscriber::set_default(subscriber);

    let verifier = TokenVerifier::new(VerifierConfig {
        jwks_url: "http://127.0.0.1:9/unused".into(),
        issuer: "tenor-auth".into(),
        audience: "tenor".into(),
        leeway: Duration::ZERO,
        min_refresh_interval: Duration::from_secs(1),
        max_key_age: Duration::from_secs(1),
    });
    let app = graphql_router(
        Schema::new(Query, EmptyMutation, EmptySubscription),
        verifier,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });

    let (status, body) = GraphqlClient::new(&base)
        .post(
            None,
            json!({ "query": "query Dashboard { loan(id: 7) }", "operationName": "Dashboard" }),
            &[("x-request-id", "req-span-1")],
        )
        .await;
    assert_eq!((status, &body), (200, &json!({ "data": { "loan": 7 } })));

    let lines = logs.lines();
    let inside = lines
        .iter()
        .find(|line| line["fields"]["message"] == "inside the use case")
        .unwrap_or_else(|| panic!("no line from the use case in {lines:#?}"));
    let spans = inside["spans"].as_array().expect("the enclosing spans");
    let request = spans
        .iter()
        .find(|span| span["name"] == "request")
        .unwrap_or_else(|| panic!("no request span around {inside}"));
    assert_eq!(request["request_id"], "req-span-1");
    assert_eq!(request["operation"], "Dashboard");
    assert!(
        spans
            .iter()
            .any(|span| span["name"] == "use_case" && span["loan"] == 7),
        "{inside}"
    );
    let served = lines
        .iter()
        .find(|line| line["fields"]["message"] == "graphql request")
        .expect("one line per request");
    assert_eq!(served["fields"]["errors"], 0);
}
