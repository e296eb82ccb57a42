//! Whatever a client sends, the router answers within 2 s, never with a 5xx or `INTERNAL`, and
//! stays healthy: a corpus of known-hostile requests (HTTP and WebSocket), a seeded generative
//! fuzz, and proof that a wedged worker takes the process down instead of leaving it half alive.
//!
//! The fuzz runs a small fixed-seed batch in `./dev test`; for a longer run:
//!
//! ```sh
//! TENOR_FUZZ_CASES=5000 TENOR_FUZZ_SEED=42 cargo test -p tenor-router --test hostile fuzz -- --nocapture
//! ```

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

use common::ws::{self, Socket};
use common::{Router, RouterStack, Subgraphs, free_port, set, yaml};

const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// Limits out of the way: these tests send many requests from one address.
fn generous(config: &mut serde_yaml::Value) {
    set(
        config,
        "plugins.rate_limit.config.per_ip",
        yaml(json!({ "capacity": 100000, "refill_per_second": 10000 })),
    );
    set(
        config,
        "plugins.rate_limit.config.per_user",
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

fn post(name: &str, content_type: Option<&'static str>, body: impl Into<Vec<u8>>) -> Case {
    Case {
        name: name.to_owned(),
        method: reqwest::Method::POST,
        query_string: String::new(),
        content_type,
        body: body.into(),
    }
}

fn json_post(name: &str, body: impl Into<Vec<u8>>) -> Case {
    post(name, Some("application/json"), body)
}

fn get(name: &str, pairs: &[(&str, &str)]) -> Case {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Case {
        name: name.to_owned(),
        method: reqwest::Method::GET,
        query_string: format!("?{query}"),
        content_type: None,
        body: Vec::new(),
    }
}

fn corpus() -> Vec<Case> {
    let q = r#""query":"{ __typename }""#;
    let mut cases = Vec::new();
    for depth in [17, 51, 2_000, 10_000, 100_000] {
        let arrays = nested("[", "]", depth);
        let objects = deep_object(depth);
        cases.push(json_post(
            &format!("variables: arrays {depth} deep"),
            format!(r#"{{{q},"variables":{{"x":{arrays}}}}}"#),
        ));
        cases.push(json_post(
            &format!("variables: objects {depth} deep"),
            format!(r#"{{{q},"variables":{{"x":{objects}}}}}"#),
        ));
        cases.push(json_post(
            &format!("extensions {depth} deep"),
            format!(r#"{{{q},"extensions":{{"x":{arrays}}}}}"#),
        ));
        cases.push(json_post(
            &format!("operationName {depth} deep"),
            format!(r#"{{{q},"operationName":{arrays}}}"#),
        ));
        cases.push(json_post(
            &format!("body itself {depth} deep"),
            arrays.clone(),
        ));
        if depth <= 2_000 {
            cases.push(get(
                &format!("GET variables {depth} deep"),
                &[
                    ("query", "{ __typename }"),
                    ("variables", &format!(r#"{{"x":{arrays}}}"#)),
                ],
            ));
            cases.push(get(
                &format!("GET extensions {depth} deep"),
                &[
                    ("query", "{ __typename }"),
                    ("extensions", &format!(r#"{{"x":{objects}}}"#)),
                ],
            ));
        }
    }
    let huge = "x".repeat(1 << 20);
    cases.extend([
        json_post("huge integer", format!(r#"{{{q},"variables":{{"x":123456789012345678901234567890}}}}"#)),
        json_post("huge exponent", format!(r#"{{{q},"variables":{{"x":1e400}}}}"#)),
        json_post("negative zero", format!(r#"{{{q},"variables":{{"x":-0}}}}"#)),
        json_post("Int variable 2^31", r#"{"query":"query Q($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalCost } } }","variables":{"a":2147483648,"t":3}}"#),
        json_post("Int variable -2^31-1", r#"{"query":"query Q($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalCost } } }","variables":{"a":1000000,"t":-2147483649}}"#),
        json_post("Int variable 1e10 as float", r#"{"query":"query Q($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalCost } } }","variables":{"a":1e10,"t":3}}"#),
        json_post("invalid UTF-8", [br#"{"query":"{ __typename "#.as_slice(), &[0xff, 0xfe, 0xc3], br#" }"}"#].concat()),
        json_post("truncated UTF-8 in a string", [br#"{"query":"{ __typename }","variables":{"x":""#.as_slice(), &[0xe2, 0x82], br#""}}"#].concat()),
        json_post("duplicate keys", r#"{"query":"{ __typename }","query":"{ me { id } }"}"#),
        json_post("NUL in the document", "{\"query\":\"{ __typename \\u0000 }\"}"),
        json_post("raw NUL byte", b"{\"query\":\"{ __typename }\"\0}".to_vec()),
        json_post("NUL in a variable", format!(r#"{{{q},"variables":{{"x":"a\u0000b"}}}}"#)),
        json_post("1 MB string", format!(r#"{{{q},"variables":{{"x":"{huge}"}}}}"#)),
        json_post("1 MB document", format!(r#"{{"query":"{{ __typename }} #{huge}"}}"#)),
        json_post("batched array", format!(r#"[{{{q}}},{{{q}}}]"#)),
        json_post("empty body", ""),
        json_post("null", "null"),
        json_post("number", "123"),
        json_post("string", r#""{ __typename }""#),
        json_post("empty object", "{}"),
        json_post("query null", r#"{"query":null}"#),
        json_post("query number", r#"{"query":123}"#),
        json_post("variables string", format!(r#"{{{q},"variables":"{{}}"}}"#)),
        json_post("variables array", format!(r#"{{{q},"variables":[1,2]}}"#)),
        json_post("documentId object", r#"{"documentId":{"a":1}}"#),
        json_post("unknown documentId", r#"{"documentId":"sha256:0000"}"#),
        json_post("unknown operation", format!(r#"{{{q},"operationName":"Nope"}}"#)),
        json_post("two operations, no name", r#"{"query":"query A { __typename } query B { __typename }"}"#),
        json_post("syntax error", r#"{"query":"{ __typename "}"#),
        json_post("lone surrogate escape", r#"{"query":"{ __typename }","variables":{"x":"\ud800"}}"#),
        json_post("deep selection", format!(r#"{{"query":"{{ {}__typename{} }}"}}"#, "me { ".repeat(200), " }".repeat(200))),
        json_post("many aliases", format!(r#"{{"query":"{{ {} }}"}}"#, (0..5000).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" "))),
        post("text/plain", Some("text/plain"), format!("{{{q}}}")),
        post("form urlencoded", Some("application/x-www-form-urlencoded"), "query=%7B+__typename+%7D"),
        post("multipart", Some("multipart/form-data; boundary=x"), "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n"),
        post("no content type", None, format!("{{{q}}}")),
        post("latin-1 charset", Some("application/json; charset=iso-8859-1"), format!("{{{q}}}")),
        post("graphql content type", Some("application/graphql"), "{ __typename }"),
        get("GET mutation", &[("query", "mutation { logout { success } }")]),
        get("GET without query", &[]),
        get("GET variables not JSON", &[("query", "{ __typename }"), ("variables", "{nope")]),
        get("GET huge number", &[("query", "{ __typename }"), ("variables", r#"{"x":1e999}"#)]),
    ]);
    cases.push(Case {
        name: "PUT".to_owned(),
        method: reqwest::Method::PUT,
        query_string: String::new(),
        content_type: Some("application/json"),
        body: format!("{{{q}}}").into_bytes(),
    });
    cases
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

fn assert_no_internal(name: &str, status: u16, body: &str) {
    if let Some(fault) = server_fault(status, body) {
        panic!("{name}: {fault}");
    }
}

async fn send(client: &reqwest::Client, router: &Router, case: &Case) -> (u16, String) {
    let mut request = client
        .request(
            case.method.clone(),
            format!("{}{}", router.graphql_url(), case.query_string),
        )
        .header("x-tenor-client", "hostile-test")
        .body(case.body.clone());
    if let Some(content_type) = case.content_type {
        request = request.header("content-type", content_type);
    }
    let started = Instant::now();
    let response = tokio::time::timeout(ANSWER_WITHIN, request.send())
        .await
        .unwrap_or_else(|_| panic!("{}: no answer within {ANSWER_WITHIN:?}", case.name))
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let status = response.status().as_u16();
    let body = tokio::time::timeout(ANSWER_WITHIN, response.text())
        .await
        .unwrap_or_else(|_| panic!("{}: body not complete within {ANSWER_WITHIN:?}", case.name))
        .unwrap_or_default();
    assert!(started.elapsed() < ANSWER_WITHIN, "{}", case.name);
    (status, body)
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

#[tokio::test]
async fn the_hostile_http_corpus_never_hangs_breaks_or_kills_the_router() {
    let stack = RouterStack::start_with(generous).await;
    let client = reqwest::Client::new();
    for case in corpus() {
        let (status, body) = send(&client, &stack.router, &case).await;
        assert_no_internal(&case.name, status, &body);
        // Within the body and header size limits, over-deep JSON meets the JSON guard.
        let within_limits = case.body.len() + case.query_string.len() < 15_000;
        if case.name.contains("deep") && !case.name.contains("selection") && within_limits {
            let depth: usize = case
                .name
                .split_whitespace()
                .find_map(|w| w.parse().ok())
                .unwrap();
            if depth > 16 {
                assert_eq!(status, 400, "{}: {body:.300}", case.name);
                assert!(body.contains("JSON_TOO_DEEP"), "{}: {body:.300}", case.name);
            }
        }
        if case.name == "syntax error" {
            // Answered by our parse, not the engine's (whose error display reads freed memory).
            assert!(
                body.contains("GRAPHQL_PARSE_FAILED") && body.contains("Parse error at 1:"),
                "{body}"
            );
        }
        if case.name.starts_with("Int variable") {
            assert_eq!(status, 400, "{}: {body}", case.name);
            assert!(
                body.contains("BAD_USER_INPUT") && body.contains("32-bit"),
                "{}: {body}",
                case.name
            );
        }
    }
    assert_healthy(&stack.router).await;
    // The engine's parser never ran into a stack overflow (ntex logs SIGSEGV when it does).
    let log = stack.router.log();
    assert!(!log.contains("SIGSEGV"), "{log}");
}

#[tokio::test]
async fn the_body_depth_limit_is_exact() {
    let stack = RouterStack::start_with(generous).await;
    let client = reqwest::Client::new();
    // Body, `variables` and 14 levels of value: 16 in all, the configured limit.
    let ok = json_post(
        "14 deep",
        format!(
            r#"{{"query":"{{ __typename }}","variables":{{"x":{}}}}}"#,
            nested("[", "]", 14)
        ),
    );
    let (status, body) = send(&client, &stack.router, &ok).await;
    assert_eq!(status, 200, "{body}");
    let refused = json_post(
        "15 deep",
        format!(
            r#"{{"query":"{{ __typename }}","variables":{{"x":{}}}}}"#,
            nested("[", "]", 15)
        ),
    );
    let (status, body) = send(&client, &stack.router, &refused).await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "JSON_TOO_DEEP");
    assert_eq!(
        body["errors"][0]["message"],
        "JSON nested deeper than 16 levels is not accepted"
    );
}

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

async fn ws_connect(router: &Router) -> Socket {
    ws::connect(router).await
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
    let mut refused = ws::next(&mut socket, within).await.unwrap();
    while refused["id"] != "b" {
        refused = ws::next(&mut socket, within).await.unwrap();
    }
    assert_eq!(refusal_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    ws::send_text(
        &mut socket,
        r#"{"id":"c","type":"subscribe","payload":{"query":"query C { __typename }"}}"#,
    )
    .await;
    let mut answer = ws::next(&mut socket, within).await.unwrap();
    while answer["id"] != "c" {
        answer = ws::next(&mut socket, within).await.unwrap();
    }
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

/// A router whose worker stops running must die (and be restarted), not keep answering /health
/// from its other workers.
#[tokio::test]
async fn a_wedged_worker_takes_the_process_down() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.worker_watchdog.config.stall_after",
        yaml(json!("2s")),
    );
    set(
        &mut config,
        "plugins.worker_watchdog.config.test_faults",
        yaml(json!(true)),
    );
    let router = Router::start(&config).await;
    assert_healthy(&router).await;

    let wedge = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .header("x-tenor-test-fault", "wedge")
        .body(r#"{"query":"{ __typename }"}"#)
        .timeout(Duration::from_secs(10))
        .send();
    let started = Instant::now();
    let (status, log) = tokio::join!(async { drop(wedge.await) }, router.exit()).1;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(!status.success(), "{status:?}");
    assert!(log.contains("a worker has not run for too long"), "{log}");
}

/// Stopping is not wedging: on SIGTERM the router drains and exits 0, however long its workers
/// have been stopped while it does.
#[tokio::test]
async fn a_stopped_router_exits_cleanly_without_the_watchdog() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.worker_watchdog.config.stall_after",
        yaml(json!("1s")),
    );
    let router = Router::start(&config).await;
    assert_healthy(&router).await; // every worker has its heartbeat
    // Open connections make the drain take a while: an app's subscription socket, and a
    // keep-alive HTTP connection.
    let mut socket = ws_connect(&router).await;
    ws::init(&mut socket, None).await;
    let keep_alive = reqwest::Client::new();
    keep_alive
        .get(format!("{}/health", router.url))
        .send()
        .await
        .unwrap();
    let (status, log) = router.terminate().await;
    drop((socket, keep_alive));
    assert!(status.success(), "{status:?}\n{log}");
    assert!(!log.contains("a worker has not run for too long"), "{log}");
}

/// A worker blocked for a moment is not a wedge: the router stays up, and its other worker keeps
/// serving meanwhile.
#[tokio::test]
async fn a_briefly_blocked_worker_is_not_a_wedge() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.worker_watchdog.config.stall_after",
        yaml(json!("3s")),
    );
    set(
        &mut config,
        "plugins.worker_watchdog.config.test_faults",
        yaml(json!(true)),
    );
    let router = Router::start(&config).await;
    let blocked = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .header("x-tenor-test-fault", "block=1500")
        .body(r#"{"query":"{ __typename }"}"#)
        .send();
    let (response, ()) = tokio::join!(blocked, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_healthy(&router).await;
    });
    assert_eq!(response.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_healthy(&router).await;
}

// ---------------------------------------------------------------------------------------------
// Seeded generative fuzz

/// A random JSON value: nesting, strings with control characters, bidi overrides and astral
/// characters, numbers at and past every integer width.
fn random_json(rng: &mut StdRng, depth: usize) -> String {
    let pick = if depth == 0 {
        rng.gen_range(0..5)
    } else {
        rng.gen_range(0..7)
    };
    match pick {
        0 => "null".to_owned(),
        1 => if rng.r#gen() { "true" } else { "false" }.to_owned(),
        2 => random_number(rng),
        3 | 4 => serde_json::to_string(&random_string(rng)).unwrap(),
        5 => {
            let n = rng.gen_range(0..4);
            let items: Vec<String> = (0..n).map(|_| random_json(rng, depth - 1)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let n = rng.gen_range(0..4);
            let fields: Vec<String> = (0..n)
                .map(|_| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(&random_string(rng)).unwrap(),
                        random_json(rng, depth - 1)
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

fn random_number(rng: &mut StdRng) -> String {
    const EDGES: &[&str] = &[
        "0",
        "-0",
        "1",
        "-1",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "9007199254740993",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "1e308",
        "1e999",
        "-1e999",
        "1.5",
        "0.1e-400",
        "123456789012345678901234567890",
    ];
    if rng.gen_bool(0.5) {
        EDGES[rng.gen_range(0..EDGES.len())].to_owned()
    } else {
        rng.r#gen::<i64>().to_string()
    }
}

fn random_string(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Siti",
        " ",
        "\u{0}",
        "\u{7}",
        "\u{1b}[31m",
        "\u{7f}",
        "\u{85}",
        "\u{202e}",
        "\u{2066}",
        "\u{200b}",
        "\u{feff}",
        "\u{e0041}",
        "e\u{301}",
        "😀",
        "\u{fffd}",
        "'; DROP TABLE users; --",
        "{",
        "}",
        "[",
        "\"",
        "\\",
        "%00",
        "<script>",
        "ــــ",
        "\u{10ffff}",
    ];
    let n = rng.gen_range(0..8);
    let mut s: String = (0..n)
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect();
    if rng.gen_bool(0.03) {
        s.push_str(&"x".repeat(rng.gen_range(1_000..300_000)));
    }
    s
}

/// A random request body around the GraphQL keys.
fn random_body(rng: &mut StdRng, operations: &[Operation]) -> String {
    let mut fields = Vec::new();
    let keys = [
        "query",
        "variables",
        "extensions",
        "operationName",
        "documentId",
        "other",
    ];
    for _ in 0..rng.gen_range(0..5) {
        let key = keys[rng.gen_range(0..keys.len())];
        let value = match key {
            "query" if rng.gen_bool(0.6) && !operations.is_empty() => {
                serde_json::to_string(&operations[rng.gen_range(0..operations.len())].document)
                    .unwrap()
            }
            _ if rng.gen_bool(0.05) => nested("[", "]", rng.gen_range(10..3_000)),
            _ => {
                let depth = rng.gen_range(0..6);
                random_json(rng, depth)
            }
        };
        fields.push(format!("{}:{value}", serde_json::to_string(key).unwrap()));
    }
    format!("{{{}}}", fields.join(","))
}

/// A well-typed operation of the supergraph: one root field, every argument a variable.
struct Operation {
    document: String,
    variables: Vec<(String, Shape)>,
}

#[derive(Clone, Debug)]
enum Shape {
    Named(String, bool),
    List(Box<Shape>, bool),
}

struct Schema {
    inputs: std::collections::HashMap<String, Vec<(String, Shape)>>,
    enums: std::collections::HashMap<String, Vec<String>>,
}

fn shape(ty: &async_graphql_parser::types::Type) -> Shape {
    use async_graphql_parser::types::BaseType;
    match &ty.base {
        BaseType::Named(name) => Shape::Named(name.to_string(), !ty.nullable),
        BaseType::List(inner) => Shape::List(Box::new(shape(inner)), !ty.nullable),
    }
}

fn type_text(shape: &Shape) -> String {
    match shape {
        Shape::Named(name, required) => format!("{name}{}", if *required { "!" } else { "" }),
        Shape::List(inner, required) => {
            format!("[{}]{}", type_text(inner), if *required { "!" } else { "" })
        }
    }
}

/// Every root field of the client-facing supergraph as an operation with variables.
fn operations_of_the_supergraph() -> (Vec<Operation>, Schema) {
    use async_graphql_parser::types::{TypeKind, TypeSystemDefinition};
    let sdl =
        std::fs::read_to_string(common::repo_root().join("schema/supergraph.graphql")).unwrap();
    let document = async_graphql_parser::parse_schema(&sdl).unwrap();
    let mut schema = Schema {
        inputs: Default::default(),
        enums: Default::default(),
    };
    let mut roots = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        match &ty.node.kind {
            TypeKind::InputObject(input) => {
                schema.inputs.insert(
                    name,
                    input
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), shape(&f.node.ty.node)))
                        .collect(),
                );
            }
            TypeKind::Enum(e) => {
                schema.enums.insert(
                    name,
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                );
            }
            TypeKind::Object(object) if ["Query", "Mutation"].contains(&name.as_str()) => {
                for field in &object.fields {
                    let field_name = field.node.name.node.to_string();
                    if field_name.starts_with('_') {
                        continue; // federation internals (_entities, _service)
                    }
                    let args: Vec<(String, Shape)> = field
                        .node
                        .arguments
                        .iter()
                        .map(|a| (a.node.name.node.to_string(), shape(&a.node.ty.node)))
                        .collect();
                    let keyword = if name == "Query" { "query" } else { "mutation" };
                    let definitions: Vec<String> = args
                        .iter()
                        .map(|(n, s)| format!("${n}: {}", type_text(s)))
                        .collect();
                    let arguments: Vec<String> =
                        args.iter().map(|(n, _)| format!("{n}: ${n}")).collect();
                    let head = if definitions.is_empty() {
                        String::new()
                    } else {
                        format!("({})", definitions.join(", "))
                    };
                    let call = if arguments.is_empty() {
                        String::new()
                    } else {
                        format!("({})", arguments.join(", "))
                    };
                    // `__typename` is valid under any object type; scalars take no selection.
                    let scalar = [
                        "String", "Int", "Float", "Boolean", "ID", "DateTime", "UUID",
                    ]
                    .iter()
                    .any(|s| {
                        field
                            .node
                            .ty
                            .node
                            .to_string()
                            .trim_matches(|c| c == '[' || c == ']' || c == '!')
                            == *s
                    });
                    let selection = if scalar { "" } else { " { __typename }" };
                    roots.push(Operation {
                        document: format!(
                            "{keyword} Fuzz{head} {{ {field_name}{call}{selection} }}"
                        ),
                        variables: args,
                    });
                }
            }
            _ => {}
        }
    }
    (roots, schema)
}

fn random_value(rng: &mut StdRng, shape: &Shape, schema: &Schema, depth: usize) -> String {
    if rng.gen_bool(0.05) {
        return random_json(rng, 2); // the wrong kind on purpose
    }
    match shape {
        Shape::List(inner, _) if depth < 6 => {
            let items: Vec<String> = (0..rng.gen_range(0..3))
                .map(|_| random_value(rng, inner, schema, depth + 1))
                .collect();
            format!("[{}]", items.join(","))
        }
        Shape::List(..) => "[]".to_owned(),
        Shape::Named(name, _) => match name.as_str() {
            "Int" | "Float" => random_number(rng),
            "Boolean" => rng.r#gen::<bool>().to_string(),
            "ID" | "UUID" if rng.gen_bool(0.5) => format!("\"{}\"", uuid::Uuid::new_v4()),
            _ if schema.enums.contains_key(name) => {
                let values = &schema.enums[name];
                if rng.gen_bool(0.8) {
                    format!("\"{}\"", values[rng.gen_range(0..values.len())])
                } else {
                    serde_json::to_string(&random_string(rng)).unwrap()
                }
            }
            _ if schema.inputs.contains_key(name) && depth < 6 => {
                let mut fields = Vec::new();
                for (field, field_shape) in &schema.inputs[name] {
                    if rng.gen_bool(0.9) {
                        let value = random_value(rng, field_shape, schema, depth + 1);
                        fields.push(format!("\"{field}\":{value}"));
                    }
                }
                format!("{{{}}}", fields.join(","))
            }
            _ => serde_json::to_string(&random_string(rng)).unwrap(),
        },
    }
}

#[tokio::test]
async fn fuzz() {
    let cases: usize = std::env::var("TENOR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("TENOR_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261201);
    let stack = RouterStack::start_with(generous).await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let (operations, schema) = operations_of_the_supergraph();
    assert!(
        operations.len() > 20,
        "only {} root fields found",
        operations.len()
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for i in 0..cases {
        let body = if rng.gen_bool(0.5) {
            random_body(&mut rng, &operations)
        } else {
            let operation = &operations[rng.gen_range(0..operations.len())];
            let mut variables = Vec::new();
            for (name, shape) in &operation.variables {
                if rng.gen_bool(0.95) {
                    let value = random_value(&mut rng, shape, &schema, 0);
                    variables.push(format!("\"{name}\":{value}"));
                }
            }
            format!(
                "{{\"query\":{},\"variables\":{{{}}}}}",
                serde_json::to_string(&operation.document).unwrap(),
                variables.join(",")
            )
        };
        let case = Case {
            name: format!("fuzz case {i} (seed {seed})"),
            method: reqwest::Method::POST,
            query_string: String::new(),
            content_type: Some("application/json"),
            body: body.into_bytes(),
        };
        let mut request = client
            .post(stack.router.graphql_url())
            .header("content-type", "application/json")
            .body(case.body.clone());
        if rng.gen_bool(0.7) {
            request = request.bearer_auth(&token);
        }
        let outcome = match tokio::time::timeout(ANSWER_WITHIN, request.send()).await {
            Err(_) => Err("no answer within 2 s".to_owned()),
            Ok(Err(e)) => Err(format!("transport error: {e}")),
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                server_fault(status, &text).map_or(Ok(()), Err)
            }
        };
        if let Err(problem) = outcome {
            failures.push(format!(
                "{}: {problem}\n  body: {:.400}",
                case.name,
                String::from_utf8_lossy(&case.body)
            ));
        }
    }
    println!(
        "fuzz: {cases} cases, {} failed (seed {seed})",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_healthy(&stack.router).await;
}
