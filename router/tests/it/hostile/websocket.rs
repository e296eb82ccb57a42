//! Hostile WebSocket traffic: deep `connection_init` payloads and subscribe variables, the spec
//! rules of `operation_checks` on a socket, and out-of-order, malformed or unknown frames.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};

use super::{assert_healthy, deep_object, generous, nested, ws, ws_connect};
use crate::common::RouterStack;

/// The error code of a refused WebSocket operation: an `error` message, or a `next` carrying
/// only errors (how the router delivers a refusal made while planning).
fn refusal_code(message: &Value) -> Option<&str> {
    let errors = match message["type"].as_str()? {
        "error" => &message["payload"],
        "next" => &message["payload"]["errors"],
        _ => return None,
    };
    errors[0]["extensions"]["code"].as_str()
}

/// The next message about operation `id`, skipping those about earlier ones.
async fn answer_to(socket: &mut ws::Socket, id: &str, within: Duration) -> Value {
    loop {
        let message = ws::next(socket, within).await.unwrap();
        if message["id"] == id {
            return message;
        }
    }
}

#[tokio::test]
async fn hostile_websocket_messages_are_refused_and_the_router_stays_up() {
    let stack = RouterStack::start_with(generous).await;
    let router = &stack.router;
    let within = Duration::from_secs(2);
    let subscribe =
        |payload: String| format!(r#"{{"id":"1","type":"subscribe","payload":{payload}}}"#);

    // Deep connection_init payloads (64 KiB frames allow ~32 000 levels): parsed, harmless.
    for depth in [51, 10_000, 32_000] {
        let mut socket = ws_connect(router).await;
        ws::send_text(
            &mut socket,
            &format!(
                r#"{{"type":"connection_init","payload":{{"x":{}}}}}"#,
                nested("[", "]", depth)
            ),
        )
        .await;
        let ack = ws::next(&mut socket, within).await;
        assert!(
            matches!(&ack, Ok(m) if m["type"] == "connection_ack") || ack.is_err(),
            "{ack:?}"
        );
    }
    // Deep subscribe variables and extensions: refused with JSON_TOO_DEEP, nothing planned.
    for payload in [
        format!(
            r#"{{"query":"query Deep {{ __typename }}","variables":{{"x":{}}}}}"#,
            nested("[", "]", 30_000)
        ),
        format!(
            r#"{{"query":"query Deep {{ __typename }}","extensions":{{"x":{}}}}}"#,
            deep_object(5_000)
        ),
    ] {
        let mut socket = ws_connect(router).await;
        ws::init(&mut socket, None).await;
        ws::send_text(&mut socket, &subscribe(payload)).await;
        let refused = ws::next(&mut socket, within)
            .await
            .expect("an error message, not a close");
        assert_eq!(refusal_code(&refused), Some("JSON_TOO_DEEP"), "{refused}");
    }
    // The spec rules of operation_checks hold on WebSocket too, and a refusal does not stick to
    // the connection: the next operation on it runs.
    let mut socket = ws_connect(router).await;
    ws::init(&mut socket, None).await;
    ws::send_text(&mut socket, r#"{"id":"a","type":"subscribe","payload":{"query":"query A { __typename } query B { __typename }"}}"#).await;
    let refused = ws::next(&mut socket, within).await.unwrap();
    assert_eq!(refusal_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    ws::send_text(&mut socket, r#"{"id":"b","type":"subscribe","payload":{"query":"query Q($n: Int) { __typename }","variables":{"n":2147483648}}}"#).await;
    let refused = answer_to(&mut socket, "b", within).await;
    assert_eq!(refusal_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    ws::send_text(&mut socket, r#"{"id":"f","type":"subscribe","payload":{"query":"query Q($n: Int) { __typename }","variables":{"n":1e3}}}"#).await;
    let refused = answer_to(&mut socket, "f", within).await;
    assert_eq!(refusal_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    assert!(
        refused.to_string().contains("non-integer value"),
        "{refused}"
    );
    // A document the schema refuses is answered with what is wrong and where, as over HTTP
    // (the engine alone said "Validation errors" and nothing else), limits included.
    ws::send_text(&mut socket, r#"{"id":"v","type":"subscribe","payload":{"query":"subscription V {\n  loanStatusChanged { nope }\n}"}}"#).await;
    let refused = answer_to(&mut socket, "v", within).await;
    assert_eq!(
        refusal_code(&refused),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{refused}"
    );
    let error = &refused["payload"]["errors"][0];
    assert_eq!(
        error["message"], r#"Cannot query field "nope" on type "LoanStatusChange"."#,
        "{refused}"
    );
    assert_eq!(error["locations"][0]["line"], 2, "{refused}");
    assert_eq!(
        error["extensions"]["reason"], "FieldsOnCorrectType",
        "{refused}"
    );
    let too_deep = format!(
        r#"{{"id":"d","type":"subscribe","payload":{{"query":"query D {{ {}__typename{} }}"}}}}"#,
        "me { kyc { user { kyc { user { kyc { user { kyc { user { kyc { user { kyc { user { ",
        " } } } } } } } } } } } } }"
    );
    ws::send_text(&mut socket, &too_deep).await;
    let refused = answer_to(&mut socket, "d", within).await;
    assert!(
        refused["payload"]["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("depth")),
        "the depth limit says so: {refused}"
    );
    // Hundreds of mistakes: the first 100 and one saying validation stopped, as over HTTP.
    let fields: Vec<String> = (0..300).map(|i| format!("x{i}")).collect();
    let many = json!({ "id": "m", "type": "subscribe", "payload": { "query": format!("query M {{ {} }}", fields.join(" ")) } });
    ws::send(&mut socket, many).await;
    let refused = answer_to(&mut socket, "m", within).await;
    let errors = refused["payload"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 101, "{refused}");
    assert_eq!(
        errors[100]["extensions"]["reason"], "TooManyValidationErrors",
        "{refused}"
    );
    ws::send_text(
        &mut socket,
        r#"{"id":"c","type":"subscribe","payload":{"query":"query C { __typename }"}}"#,
    )
    .await;
    let answer = answer_to(&mut socket, "c", within).await;
    assert_eq!(answer["payload"]["data"]["__typename"], "Query", "{answer}");
    // Out of order, malformed and unknown frames: a close code or an error, never a hang or a
    // server fault.
    let frames: &[&[&str]] = &[
        &[r#"{"id":"1","type":"subscribe","payload":{"query":"{ __typename }"}}"#],
        &[
            r#"{"type":"connection_init"}"#,
            r#"{"type":"connection_init"}"#,
        ],
        &[r#"{"type":"connection_init"}"#, r#"{"type":"nonsense"}"#],
        &[
            r#"{"type":"connection_init"}"#,
            r#"{"id":"9","type":"complete"}"#,
            r#"{"type":"ping"}"#,
        ],
        &[r#"{"type":"connection_init"}"#, "not json at all"],
        &[
            r#"{"type":"connection_init"}"#,
            r#"{"id":"1","type":"subscribe","payload":{"query":"{ __typename }","variables":{"x":1e999}}}"#,
        ],
        &[
            r#"{"type":"connection_init"}"#,
            "{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"{ __typename \\u0000 }\"}}",
        ],
        &[
            r#"{"type":"connection_init"}"#,
            r#"{"id":"1","type":"subscribe","payload":{"query":"query A { __typename } query B { __typename }"}}"#,
        ],
        &[r#"{"type":"connection_init","payload":"a string"}"#],
        &[r#"{"type":"pong"}"#, r#"{"type":"ping"}"#],
    ];
    for sequence in frames {
        let mut socket = ws_connect(router).await;
        for frame in *sequence {
            ws::send_text(&mut socket, frame).await;
        }
        // Drain whatever comes back until the server goes quiet (500 ms) or closes.
        while let Ok(Some(Ok(frame))) =
            tokio::time::timeout(Duration::from_millis(500), socket.next()).await
        {
            let text = frame.to_text().unwrap_or("").to_owned();
            assert!(!text.contains("INTERNAL"), "{sequence:?}: {text}");
            if frame.is_close() {
                break;
            }
        }
    }
    assert_healthy(router).await;
    assert!(!router.log().contains("SIGSEGV"), "{}", router.log());
}
