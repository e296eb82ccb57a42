//! The router at the edge, as the mobile app and a hostile client meet it: the JWT matrix,
//! field-level scopes, limits that reject before any subgraph call, request ids and the client
//! address handed to subgraphs. Everything runs through the real `tenor-router` binary.

mod common;

use base64::Engine as _;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use common::{RouterStack, error_codes, eventually, post_graphql};

const ME_AND_SESSIONS: &str = "query MeAndSessions { me { id email } mySessions { nodes { id } } }";

/// A token shaped like auth's, signed with `pem` under `kid`, with `claims` overriding the
/// defaults (valid for 10 minutes, audience `tenor`, issuer `tenor-auth`).
fn token(pem: &[u8], kid: &str, sub: &str, claims: Value) -> String {
    let now = Utc::now().timestamp();
    let mut body = json!({
        "sub": sub, "sid": uuid::Uuid::new_v4(), "iss": "tenor-auth", "aud": "tenor",
        "iat": now, "nbf": now, "exp": now + 600, "scope": "loan:apply kyc:submit",
    });
    for (k, v) in claims.as_object().unwrap() {
        body[k] = v.clone();
    }
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    encode(&header, &body, &EncodingKey::from_ec_pem(pem).unwrap()).unwrap()
}

fn unsigned(sub: &str) -> String {
    let b64 = |v: Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let now = Utc::now().timestamp();
    format!(
        "{}.{}.",
        b64(json!({ "alg": "none", "typ": "JWT", "kid": "k1" })),
        b64(
            json!({ "sub": sub, "iss": "tenor-auth", "aud": "tenor", "exp": now + 600, "scope": "user:admin" })
        )
    )
}

#[tokio::test]
async fn one_operation_reads_from_two_subgraphs_with_a_customer_token() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let mut response = Value::Null;
    // The profile reaches the user subgraph through Kafka.
    eventually(async || {
        response = stack.gql(ME_AND_SESSIONS, json!({}), Some(&token)).await;
        !response["data"]["me"].is_null()
    })
    .await;
    assert_eq!(response["data"]["me"]["id"], customer.user_id.to_string());
    assert_eq!(response["data"]["me"]["email"], customer.identifier);
    assert_eq!(
        response["data"]["mySessions"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{response}"
    );
    assert!(response["errors"].is_null(), "{response}");
}

#[tokio::test]
async fn every_bad_token_is_unauthenticated_through_the_router_and_at_the_subgraph() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let sub = customer.user_id.to_string();
    let real_key = std::fs::read(stack.subgraphs.key_file()).unwrap();
    let other_key = tenor_auth::keys::generate_pem();
    let now = Utc::now().timestamp();

    let cases = [
        (
            "expired",
            token(
                &real_key,
                "k1",
                &sub,
                json!({ "exp": now - 120, "iat": now - 1000, "nbf": now - 1000 }),
            ),
        ),
        ("forged", token(other_key.as_bytes(), "k1", &sub, json!({}))),
        ("alg none", unsigned(&sub)),
        (
            "wrong audience",
            token(&real_key, "k1", &sub, json!({ "aud": "someone-else" })),
        ),
        (
            "wrong issuer",
            token(&real_key, "k1", &sub, json!({ "iss": "evil" })),
        ),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    // Sanity: the same construction with nothing wrong is accepted, so the cases fail for the
    // reason they name.
    let good = token(&real_key, "k1", &sub, json!({}));
    let ok = stack
        .gql("{ mySessions { nodes { id } } }", json!({}), Some(&good))
        .await;
    assert!(
        ok["errors"].is_null(),
        "a well-formed token must pass: {ok}"
    );

    for (name, bad) in &cases {
        let response = stack.gql(ME_AND_SESSIONS, json!({}), Some(bad)).await;
        // The router treats a token it cannot verify as no token and still forwards it; each
        // subgraph then refuses it as well — one UNAUTHENTICATED per refusing part.
        let codes = error_codes(&response);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "UNAUTHENTICATED"),
            "{name} through the router: {response}"
        );
        assert!(
            response["data"].is_null() || response["data"]["mySessions"].is_null(),
            "{name}: {response}"
        );
        // Straight to the subgraphs, bypassing the router: still nothing.
        for url in [&stack.subgraphs.auth_url, &stack.subgraphs.user_url] {
            let query = if url == &stack.subgraphs.auth_url {
                "{ mySessions { nodes { id } } }"
            } else {
                "{ me { id email } }"
            };
            let direct = post_graphql(&format!("{url}/graphql"), query, json!({}), Some(bad)).await;
            let codes = error_codes(&direct);
            assert!(
                !codes.is_empty() && codes.iter().all(|c| c == "UNAUTHENTICATED"),
                "{name} at {url}: {direct}"
            );
            let data = &direct["data"];
            assert!(
                data.is_null() || data.as_object().unwrap().values().all(Value::is_null),
                "{name} at {url}: {direct}"
            );
        }
    }

    // No token at all on fields marked @authenticated: the router itself refuses them.
    let response = stack.gql(ME_AND_SESSIONS, json!({}), None).await;
    let codes = error_codes(&response);
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == "UNAUTHENTICATED"),
        "no token: {response}"
    );
    assert!(
        response["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["extensions"]["reason"] == "UNAUTHORIZED_FIELD_OR_TYPE"),
        "refused by the router, not a subgraph: {response}"
    );
}

#[tokio::test]
async fn a_staff_scoped_field_is_null_with_forbidden_for_a_customer_and_the_rest_intact() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let query = "query Mixed { me { id } users(first: 5) { edges { node { id } } } }";
    let mut response = Value::Null;
    eventually(async || {
        response = stack.gql(query, json!({}), Some(&token)).await;
        !response["data"]["me"].is_null()
    })
    .await;
    assert_eq!(response["data"]["me"]["id"], customer.user_id.to_string());
    assert!(response["data"]["users"].is_null(), "{response}");
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");
    let errors = response["errors"].as_array().unwrap();
    assert_eq!(
        errors[0]["extensions"]["reason"], "UNAUTHORIZED_FIELD_OR_TYPE",
        "{response}"
    );
    // The spec's `path`, which Apollo Kotlin/iOS match errors to fields with.
    assert_eq!(errors[0]["path"], json!(["users"]), "{response}");
    let nested = stack
        .gql(
            "query Nested { me { id kyc { documentNumber } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let hidden = nested["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["extensions"]["code"] == "FORBIDDEN")
        .unwrap_or_else(|| panic!("{nested}"));
    assert_eq!(
        hidden["path"],
        json!(["me", "kyc", "documentNumber"]),
        "{nested}"
    );
    // Signed out, a signed-in-only field says UNAUTHENTICATED with its path too.
    let anonymous = stack.gql("query Me { me { id } }", json!({}), None).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"], "{anonymous}");
    assert_eq!(anonymous["errors"][0]["path"], json!(["me"]), "{anonymous}");

    // Straight at the subgraph with the same customer token: refused there too.
    let direct = post_graphql(
        &format!("{}/graphql", stack.subgraphs.user_url),
        "{ users(first: 5) { edges { node { id } } } }",
        json!({}),
        Some(&token),
    )
    .await;
    assert!(direct["data"]["users"].is_null(), "{direct}");
    assert_eq!(error_codes(&direct), ["FORBIDDEN"], "{direct}");

    // A staff member with the scope reads it.
    let staff = stack.staff(&["user:admin"]).await;
    let staff_token = stack.router.login(&staff).await;
    let allowed = stack
        .gql(
            "{ users(first: 5) { edges { node { id } } } }",
            json!({}),
            Some(&staff_token),
        )
        .await;
    assert!(allowed["errors"].is_null(), "{allowed}");
    assert!(allowed["data"]["users"]["edges"].is_array(), "{allowed}");
}

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
async fn introspection_needs_a_back_office_scope() {
    let stack = RouterStack::start().await;
    let query = "{ __schema { queryType { name } } }";
    let anonymous = stack.gql(query, json!({}), None).await;
    assert_eq!(
        error_codes(&anonymous),
        ["INTROSPECTION_DISABLED"],
        "{anonymous}"
    );
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let as_customer = stack.gql(query, json!({}), Some(&token)).await;
    assert_eq!(
        error_codes(&as_customer),
        ["INTROSPECTION_DISABLED"],
        "{as_customer}"
    );
    let staff = stack.staff(&["kyc:review"]).await;
    let staff_token = stack.router.login(&staff).await;
    let as_staff = stack.gql(query, json!({}), Some(&staff_token)).await;
    assert_eq!(
        as_staff["data"]["__schema"]["queryType"]["name"], "Query",
        "{as_staff}"
    );
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
    let metrics = reqwest::get(format!("{}/metrics", stack.router_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("http_server_request_duration") || metrics.contains("graphql"),
        "{metrics}"
    );
}
