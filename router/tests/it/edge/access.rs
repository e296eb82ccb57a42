//! Who may read what through the router: a customer's token across two subgraphs, every kind of
//! bad token (refused at the router and again at the subgraphs), staff-only fields and
//! introspection.

use base64::Engine as _;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::common::{RouterStack, error_codes, eventually, post_graphql};

const ME_AND_SESSIONS: &str = "query MeAndSessions { me { id email } mySessions { nodes { id } } }";

/// A token shaped like auth's, signed with `pem` under `kid`, with `claims` overriding the
/// defaults (valid for 10 minutes, audience `tenor`, issuer `tenor-auth`).
fn token(pem: &[u8], kid: &str, sub: &str, claims: Value) -> String {
    tenor_platform::crypto::install_providers();
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

/// A field another subgraph refuses inside an entity fetch is placed where the client asked
/// for it: the client's path (`loan.user.kyc`), not the subgraph's `["_entities", "kyc"]`, and
/// no `locations` from the query the router sent that subgraph.
#[tokio::test]
async fn a_field_refused_inside_another_subgraph_names_the_clients_path() {
    let stack = RouterStack::start().await;
    let (_, token) = tenor_harness::journeys::eligible_customer(&stack).await;
    let applied = tenor_harness::journeys::apply_when_eligible(&stack, &token, "k-path").await;
    let loan = applied["loan"]["id"].as_str().unwrap().to_owned();
    let operator = stack.staff(&["loan:operate"]).await;
    let operator = stack.router.login(&operator).await;
    let query = "query($id: ID!) { loan(id: $id) { id user { id kyc { id } } } }";
    let response = stack
        .gql(query, json!({ "id": loan }), Some(&operator))
        .await;
    assert_eq!(response["data"]["loan"]["id"], loan, "{response}");
    assert!(
        response["data"]["loan"]["user"]["kyc"].is_null(),
        "{response}"
    );
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");
    let error = &response["errors"][0];
    assert_eq!(error["path"], json!(["loan", "user", "kyc"]), "{response}");
    assert!(error.get("locations").is_none(), "{response}");

    // The borrower's profile is not the operator's to read (no `user:admin`): the borrower is
    // null, the loan itself stays (before, a non-null `Loan.user` nulled the whole loan).
    let query = "query($id: ID!) { loan(id: $id) { id status user { fullname } } }";
    let response = stack
        .gql(query, json!({ "id": loan }), Some(&operator))
        .await;
    assert_eq!(response["data"]["loan"]["id"], loan, "{response}");
    assert!(response["data"]["loan"]["status"].is_string(), "{response}");
    assert!(response["data"]["loan"]["user"].is_null(), "{response}");
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");
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
