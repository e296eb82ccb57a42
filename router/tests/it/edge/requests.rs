//! What the router accepts at all, and what it adds: limits and spec rules that refuse before
//! any subgraph call, CSRF prevention, the mobile client's persisted operations, request ids,
//! the client address handed to subgraphs, probes and metrics.

use serde_json::{Value, json};

use crate::common::{self, RouterStack, error_codes, eventually};

#[tokio::test]
async fn hostile_documents_are_refused_before_any_subgraph_call() {
    let stack = RouterStack::start().await;
    let accounts_before = stack.subgraphs.count("users_auth").await;

    // Alias bomb on a mutation with an effect: had it reached auth, accounts would exist.
    let aliases: String = (0..40)
        .map(|i| {
            format!(
                "r{i}: register(input: {{ fullname: \"Bomb {i}\", email: \"bomb{i}-{}@example.id\", phoneNumber: \"0812{:08}\", password: \"kopi susu di pagi hari\" }}) {{ userId }}\n",
                uuid::Uuid::new_v4().simple(),
                i
            )
        })
        .collect();
    let response = stack
        .gql(&format!("mutation Bomb {{ {aliases} }}"), json!({}), None)
        .await;
    assert_eq!(
        error_codes(&response),
        ["MAX_ALIASES_EXCEEDED"],
        "{response}"
    );

    // Depth bomb.
    let deep = format!("{{ me {} }}", "{ id ".repeat(20) + &"}".repeat(20));
    let response = stack.gql(&deep, json!({}), None).await;
    assert!(
        error_codes(&response).contains(&"MAX_DEPTH_EXCEEDED".to_owned()),
        "{response}"
    );

    // Oversize body (the limit is 256 KB).
    let padding = "x".repeat(300 * 1024);
    let response = reqwest::Client::new()
        .post(stack.router.graphql_url())
        .header("content-type", "application/json")
        .body(
            json!({ "query": format!("mutation {{ register(input: {{ fullname: \"{padding}\", email: \"big@example.id\", phoneNumber: \"081299990000\", password: \"kopi susu di pagi hari\" }}) {{ userId }} }}") })
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413, "{}", response.text().await.unwrap());

    assert_eq!(stack.subgraphs.count("users_auth").await, accounts_before);
}

/// Spec rules the engine skipped: an ambiguous document and a 33-bit `Int` variable are request
/// errors, and neither reaches a subgraph.
#[tokio::test]
async fn ambiguous_operations_and_out_of_range_ints_are_request_errors() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let raw = |body: Value| {
        reqwest::Client::new()
            .post(stack.router.graphql_url())
            .header("content-type", "application/json")
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let two = "query A { me { id } } query B { mySessions { nodes { id } } }";
    let response = raw(json!({ "query": two })).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["data"].is_null(), "no operation may run: {body}");
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("operationName"),
        "{body}"
    );
    // With a name, the named one runs.
    let named: Value = raw(json!({ "query": two, "operationName": "B" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(named["data"]["mySessions"].is_object(), "{named}");
    assert!(named["data"]["me"].is_null(), "{named}");
    // A name the document does not define: the spec's wording, a request error.
    let unknown = raw(json!({ "query": two, "operationName": "C" }))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(error_codes(&unknown), ["BAD_USER_INPUT"], "{unknown}");
    assert_eq!(
        unknown["errors"][0]["message"],
        "Unknown operation named \"C\""
    );

    let quote = "query Q($amount: Int!, $tenor: Int!) { quoteLoan(amount: $amount, tenorMonths: $tenor) { quote { totalCost } userErrors { code } } }";
    for (amount, tenor) in [(2_147_483_648_i64, 3_i64), (1_000_000, -2_147_483_649)] {
        let response =
            raw(json!({ "query": quote, "variables": { "amount": amount, "tenor": tenor } }))
                .await
                .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("32-bit"),
            "{body}"
        );
    }
    // The largest Int is fine at the edge (the loan rules answer it).
    let at_limit: Value =
        raw(json!({ "query": quote, "variables": { "amount": 2_147_483_647, "tenor": 3 } }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        at_limit["data"]["quoteLoan"]["userErrors"][0]["code"], "AMOUNT_TOO_HIGH",
        "{at_limit}"
    );
    // Values of the wrong kind: a request error naming the kind, not the engine's 200 with
    // Rust debug text ("Array(Array([Number(Number(1))]))"), and nothing runs.
    let update = "mutation U($input: UpdateProfileInput!) { updateProfile(input: $input) { user { fullname } } }";
    for (query, variables, says) in [
        (
            quote,
            json!({ "amount": "1000000", "tenor": 3 }),
            "Int cannot represent a string",
        ),
        (
            quote,
            json!({ "amount": [[1]], "tenor": 3 }),
            "Int cannot represent a list",
        ),
        (
            quote,
            json!({ "amount": 1_000_000, "tenor": { "a": 1 } }),
            "Int cannot represent an object",
        ),
        (
            update,
            json!({ "input": true }),
            "UpdateProfileInput is an input object, found a boolean",
        ),
        (
            update,
            json!({ "input": { "fullname": 42 } }),
            "String cannot represent a number",
        ),
    ] {
        let response = raw(json!({ "query": query, "variables": variables }))
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{variables}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(says) && !message.contains("Number("),
            "{body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
}

/// An input object variable with a field its type does not have, or an enum value it does not
/// know, passes hive-router 0.2's variable checks and is refused by the subgraph: the app still
/// reads `BAD_USER_INPUT` (not the engine's `DOWNSTREAM_SERVICE_ERROR`), and nothing changes.
#[tokio::test]
async fn input_objects_the_subgraph_refuses_are_bad_user_input() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let update = "mutation U($input: UpdateProfileInput!) { updateProfile(input: $input) { user { fullname } userErrors { code } } }";
    for input in [
        json!({ "fullname": "Budi Berubah", "isAdmin": true }),
        json!({ "language": "KLINGON" }),
    ] {
        let body = stack
            .gql(update, json!({ "input": input }), Some(&token))
            .await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{input}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    let me = stack
        .gql("{ me { fullname } }", json!({}), Some(&token))
        .await;
    assert_ne!(me["data"]["me"]["fullname"], "Budi Berubah", "{me}");
}

#[tokio::test]
async fn cross_site_form_posts_are_refused_and_json_clients_are_not() {
    let stack = RouterStack::start().await;
    let form = reqwest::Client::new()
        .post(stack.router.graphql_url())
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    let body: Value = form.json().await.unwrap();
    assert_eq!(error_codes(&body), ["CSRF_PREVENTION_FAILED"], "{body}");

    let json_client = stack.gql("{ __typename }", json!({}), None).await;
    assert_eq!(json_client["data"]["__typename"], "Query", "{json_client}");
}

#[tokio::test]
async fn request_ids_are_echoed_or_minted_and_subgraphs_see_the_real_client_address() {
    let stack = RouterStack::start().await;
    let client = reqwest::Client::new();
    let send = |request_id: Option<&str>, forwarded: &str| {
        let mut request = client
            .post(stack.router.graphql_url())
            .header("content-type", "application/json")
            .header("x-forwarded-for", forwarded)
            .json(&json!({
                "query": common::LOGIN,
                "variables": { "i": { "identifier": "nobody@example.id", "password": "wrong password here" } },
            }));
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let echoed = send(Some("app-req-00042"), "6.6.6.6").await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "app-req-00042");
    let minted = send(Some("bad id; drop table"), "6.6.6.6").await.unwrap();
    let minted = minted.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&minted).is_ok(), "{minted}");

    // auth recorded the failed logins under the address the router saw (loopback), not the
    // address the client claimed.
    let sources = stack
        .subgraphs
        .query_strings("SELECT DISTINCT coalesce(ip_address, '') FROM login_attempts")
        .await;
    assert_eq!(sources, ["127.0.0.1"], "{sources:?}");
}

#[tokio::test]
async fn the_mobile_client_runs_only_its_persisted_operations() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let operations =
        tenor_router::operations::load(&common::repo_root().join("schema/operations")).unwrap();
    let me = operations.iter().find(|op| op.name == "Me").unwrap();
    let mobile = |body: Value| {
        reqwest::Client::new()
            .post(stack.router.graphql_url())
            .header("content-type", "application/json")
            .header("graphql-client-name", "tenor-mobile")
            .header("graphql-client-version", "1.4.0")
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let free_form: Value = mobile(json!({ "query": "{ me { id } }" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_codes(&free_form),
        ["PERSISTED_DOCUMENT_ID_REQUIRED"],
        "{free_form}"
    );

    let unknown: Value = mobile(json!({ "documentId": "0".repeat(64) }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_codes(&unknown),
        ["PERSISTED_DOCUMENT_NOT_FOUND"],
        "{unknown}"
    );

    let mut by_id = Value::Null;
    eventually(async || {
        by_id = mobile(json!({ "documentId": me.id(), "operationName": "Me" }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        !by_id["data"]["me"].is_null()
    })
    .await;
    assert_eq!(by_id["data"]["me"]["id"], customer.user_id.to_string());
}

#[tokio::test]
async fn probes_and_prometheus_metrics_are_served() {
    let stack = RouterStack::start().await;
    for probe in ["/health", "/readiness"] {
        let response = reqwest::get(format!("{}{probe}", stack.router_url()))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{probe}");
    }
    stack.gql("{ __typename }", json!({}), None).await;
    let page = async || {
        reqwest::get(format!("{}/metrics", stack.router_url()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let metrics = page().await;
    assert!(
        metrics.contains("http_server_request_duration") || metrics.contains("graphql"),
        "{metrics}"
    );
    // Operation names are the client's to choose: none becomes a label, so no client can grow
    // the page (or the router's memory) by naming its operations (a 100 KB name put 12 MB on
    // the page).
    for name in ["ProbeOne", "ProbeTwo"] {
        let document = format!("query {name} {{ __typename }}");
        let answer = stack.gql(&document, json!({}), None).await;
        assert_eq!(answer["data"]["__typename"], "Query", "{answer}");
    }
    // And a name longer than 128 characters is refused (it would be every log line's too).
    let long = format!("Probe{}", "x".repeat(20_000));
    let answer = stack
        .gql(&format!("query {long} {{ __typename }}"), json!({}), None)
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{answer:.300}"
    );
    assert!(!answer.to_string().contains(&long));
    let after = page().await;
    assert!(!after.contains("ProbeOne") && !after.contains("ProbeTwo"));
    // New status codes make a few new series; the name, labelled, would have made about 120
    // of 20 KB each.
    assert!(
        after.len() < metrics.len() + 200_000,
        "/metrics grew from {} to {} bytes",
        metrics.len(),
        after.len()
    );
}

/// A document this schema does not accept is one code for the app, whichever rule it broke; the
/// rule is kept in `reason` and the message names what is at fault.
#[tokio::test]
async fn a_document_the_schema_does_not_accept_is_graphql_validation_failed() {
    let stack = RouterStack::start().await;
    for (document, rule) in [
        ("{ me { id salary } }", "FieldsOnCorrectType"),
        (
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            "NoFragmentsCycle",
        ),
    ] {
        let body = stack.gql(document, json!({}), None).await;
        assert_eq!(error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"], "{body}");
        assert_eq!(body["errors"][0]["extensions"]["reason"], rule, "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
}

/// Outside what the router serves, a JSON 404 naming the GraphQL path — never the engine's
/// "Welcome to Hive Router" page with 200 — and on the GraphQL path a method GraphQL over HTTP
/// does not use is a JSON 405 naming the ones it does.
#[tokio::test]
async fn paths_the_router_does_not_serve_are_json_404s_and_wrong_methods_405s() {
    let stack = RouterStack::start().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", stack.router_url());

    for path in [
        "/",
        "/admin",
        "/.env",
        "/graphqlx",
        "/healthz",
        "/metrics/x",
    ] {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let response = http
                .request(method.clone(), url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
            assert_eq!(response.headers()["content-type"], "application/json");
            let body = response.text().await.unwrap();
            assert!(!body.contains("Hive"), "{method} {path}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(error_codes(&body), ["NOT_FOUND"], "{method} {path}: {body}");
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("/graphql")),
                "{body}"
            );
        }
    }

    for method in ["PUT", "DELETE", "PATCH", "HEAD", "TRACE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = http
            .request(method.clone(), stack.router.graphql_url())
            .header("content-type", "application/json")
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(
            response.headers()["allow"],
            "GET, POST, OPTIONS",
            "{method}"
        );
        if method != reqwest::Method::HEAD {
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                error_codes(&body),
                ["METHOD_NOT_ALLOWED"],
                "{method}: {body}"
            );
        }
    }

    // The engine's own 405: a mutation may not be sent with GET.
    let get = async |query: &str| {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .finish();
        http.get(format!("{}?{query}", stack.router.graphql_url()))
            .header("x-tenor-client", "tests")
            .send()
            .await
            .unwrap()
    };
    let response = get("mutation { __typename }").await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    // What the router does serve is untouched.
    assert_eq!(get("{ __typename }").await.status(), 200);
    for probe in ["/health", "/readiness"] {
        assert_eq!(
            http.head(url(probe)).send().await.unwrap().status(),
            200,
            "{probe}"
        );
    }
}

/// `Authorization: bearer …` in any case is the caller's token at the router too (RFC 9110
/// §11.1; the subgraphs always read it so): before, the router took such a request as
/// anonymous and refused `me`.
#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let me = async |scheme: &str| -> Value {
        reqwest::Client::new()
            .post(stack.router.graphql_url())
            .header("content-type", "application/json")
            .header("authorization", format!("{scheme} {token}"))
            .json(&json!({ "query": "{ me { id } }" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    // The profile is made from auth's `user.registered`, through Kafka: wait until it exists.
    tenor_harness::eventually(async || !me("Bearer").await["data"]["me"].is_null()).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let body = me(scheme).await;
        assert_eq!(
            body["data"]["me"]["id"],
            customer.user_id.to_string(),
            "{scheme}: {body}"
        );
    }
}
