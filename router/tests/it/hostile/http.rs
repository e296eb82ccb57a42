//! The hostile HTTP corpus: over-deep JSON in every place a request carries it, broken
//! encodings, wrong types, huge values and odd content types, each answered in time without a
//! server fault; and the JSON depth limit to the level.

use std::time::Instant;

use serde_json::Value;

use super::{ANSWER_WITHIN, Case, assert_healthy, deep_object, generous, nested, server_fault};
use crate::common::{Router, RouterStack, send_whole_then_read};

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
        json_post("Int spelt as float 1e3", r#"{"query":"query Q($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalCost } } }","variables":{"a":1e3,"t":3}}"#),
        json_post("Int spelt as float 3.0", r#"{"query":"query Q($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalCost } } }","variables":{"a":1000000,"t":3.0}}"#),
        json_post("Int spelt as float 2.5", r#"{"query":"query Q($a: Int!, $t: Int!) { quoteLoan(amount: $a, tenorMonths: $t) { quote { totalCost } } }","variables":{"a":1000000,"t":2.5}}"#),
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
        // Int variables out of range or spelt as floats: a request error with a plain message,
        // not the engine's 200 and debug text ("Number(Number(1000.0))").
        let int_rule = if case.name.starts_with("Int spelt as float") {
            Some("non-integer value")
        } else if case.name.starts_with("Int variable") {
            Some("32-bit")
        } else {
            None
        };
        if let Some(says) = int_rule {
            assert_eq!(status, 400, "{}: {body}", case.name);
            assert!(
                body.contains("BAD_USER_INPUT") && body.contains(says) && !body.contains("Number("),
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

/// A small document with hundreds of mistakes is answered with the first 100 and one saying
/// validation stopped (the engine answered a 5 KB document of 1 000 unknown fields with 180 KB,
/// one error each, to anyone); a document with few mistakes gets every one.
#[tokio::test]
async fn a_document_with_hundreds_of_mistakes_is_answered_with_the_first_hundred() {
    let stack = RouterStack::start_with(generous).await;
    let client = reqwest::Client::new();
    let fields = |n: usize| {
        (0..n)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let many = json_post(
        "1 000 unknown fields",
        serde_json::json!({ "query": format!("{{ {} }}", fields(1000)) }).to_string(),
    );
    let (status, body) = send(&client, &stack.router, &many).await;
    assert!(body.len() < 30_000, "{} bytes answered", body.len());
    let errors = serde_json::from_str::<Value>(&body).unwrap()["errors"].clone();
    let errors = errors.as_array().unwrap();
    assert_eq!(errors.len(), 101, "{body}");
    assert_eq!(
        errors[0]["message"],
        r#"Cannot query field "x0" on type "Query"."#
    );
    assert_eq!(
        errors[99]["message"],
        r#"Cannot query field "x99" on type "Query"."#
    );
    let last = &errors[100];
    assert_eq!(
        last["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{last}"
    );
    assert_eq!(
        last["extensions"]["reason"], "TooManyValidationErrors",
        "{last}"
    );
    assert!(
        last["message"].as_str().unwrap().contains("100 of 1000"),
        "{last}"
    );

    let few = json_post(
        "100 unknown fields",
        serde_json::json!({ "query": format!("{{ {} }}", fields(100)) }).to_string(),
    );
    let (few_status, body) = send(&client, &stack.router, &few).await;
    assert_eq!(
        few_status, status,
        "capped or not, the same kind of answer: {body}"
    );
    let errors = serde_json::from_str::<Value>(&body).unwrap()["errors"].clone();
    assert_eq!(errors.as_array().unwrap().len(), 100, "{body}");
    assert!(!body.contains("TooManyValidationErrors"), "{body}");
}

/// A GraphQL body over `limits.max_request_body_size` (256 KB), sent whole before reading as
/// Python's `requests` does: the engine's own 413 comes back, not a reset connection
/// (`oversized_bodies` drains the body first), and the router serves the next client.
#[tokio::test]
async fn an_oversized_body_reads_the_engines_413_not_a_reset() {
    let stack = RouterStack::start_with(generous).await;
    let body = query_with_variables_of(5 * 1024 * 1024);
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: router\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = send_whole_then_read(stack.router.port, &head, body.as_bytes())
        .await
        .expect("no reset: the whole body was written and the answer read");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("PAYLOAD_TOO_LARGE_CONTENT_LENGTH"),
        "{answer}"
    );
    assert_healthy(&stack.router).await;
}

/// A valid `{ __typename }` request whose one variable is `bytes` long.
fn query_with_variables_of(bytes: usize) -> String {
    format!(
        r#"{{"query":"{{ __typename }}","variables":{{"x":"{}"}}}}"#,
        "v".repeat(bytes)
    )
}

/// `body` in HTTP/1.1 chunked coding, 64 KiB a chunk.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut coded = Vec::new();
    for chunk in body.chunks(64 * 1024) {
        coded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        coded.extend_from_slice(chunk);
        coded.extend_from_slice(b"\r\n");
    }
    coded.extend_from_slice(b"0\r\n\r\n");
    coded
}

const CHUNKED_HEAD: &str = "POST /graphql HTTP/1.1\r\nhost: router\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";

/// The same with a chunked body, whose size the engine learns only by reading it: the 413 comes
/// back, not a reset; and a chunked body within the limit is answered as any other.
#[tokio::test]
async fn an_oversized_chunked_body_reads_the_engines_413_not_a_reset() {
    let stack = RouterStack::start_with(generous).await;
    let body = query_with_variables_of(5 * 1024 * 1024);
    let answer = send_whole_then_read(stack.router.port, CHUNKED_HEAD, &chunked(body.as_bytes()))
        .await
        .expect("no reset: the whole body was written and the answer read");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE_BODY_STREAM"), "{answer}");

    // 200 KiB of variables, under the 256 KB limit, in four chunks: the engine reads it whole.
    let body = query_with_variables_of(200 * 1024);
    let answer = send_whole_then_read(stack.router.port, CHUNKED_HEAD, &chunked(body.as_bytes()))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#"{"data":{"__typename":"Query"}}"#),
        "{answer}"
    );
    assert_healthy(&stack.router).await;
}
