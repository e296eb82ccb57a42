//! One request can be followed across Kafka: the router's `X-Request-Id` and `traceparent`
//! reach the event the request caused (docs/architecture.md § A request, end to end).

use serde_json::json;
use tenor_events::TraceParent;
use tenor_user::testing::*;

const RENAME: &str = "mutation($input: UpdateProfileInput!) {
    updateProfile(input: $input) { user { id } userErrors { code } } }";

#[tokio::test]
async fn the_request_id_and_trace_of_a_mutation_travel_inside_its_event() {
    let service = TestService::start().await;
    let id = service.seed("Siti Rahayu").await;
    let token = service.customer_token(id);
    let incoming = TraceParent::new_root();

    let (status, response) = service
        .graphql
        .post(
            Some(&token),
            json!({ "query": RENAME, "variables": { "input": { "fullname": "Siti Nurhaliza" } } }),
            &[
                ("x-request-id", "req-7f3a"),
                ("traceparent", incoming.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        response["data"]["updateProfile"]["userErrors"],
        json!([]),
        "{response}"
    );

    let events = service.user_events(|events| !events.is_empty()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].request_id().as_deref(), Some("req-7f3a"));
    let trace = events[0].traceparent().expect("a traceparent");
    assert_eq!(
        trace.trace_id(),
        incoming.trace_id(),
        "same trace as the request"
    );
}
