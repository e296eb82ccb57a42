//! KYC through the router, as the app and the back office use it: upload links, the simulated
//! vendor's verdict read back across subgraphs (`me` from user, `kyc` from kyc), and the PII
//! fields guarded by scopes at the router and again in the subgraph.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_events::testing::{envelopes, read_until};

use crate::common::{
    RouterStack, error_codes, eventually, post_graphql, send_whole_then_read, set, yaml,
};
use tenor_harness::journeys::{fresh_nik, verified_customer};

#[tokio::test]
async fn upload_submit_and_read_back_verified_across_subgraphs() {
    let stack = RouterStack::start().await;
    let nik = fresh_nik();
    let (customer, token) = verified_customer(&stack, &nik).await;

    let mut me = Value::Null;
    eventually(async || {
        me = stack
            .gql(
                "query MyKyc { me { id fullname kyc { status documentType documentNumberMasked } } }",
                json!({}),
                Some(&token),
            )
            .await;
        me["data"]["me"]["kyc"]["status"] == "VERIFIED"
    })
    .await;
    assert_eq!(me["data"]["me"]["id"], customer.user_id.to_string());
    assert_eq!(me["data"]["me"]["fullname"], "Siti Rahayu");
    assert_eq!(
        me["data"]["me"]["kyc"]["documentNumberMasked"],
        format!("3201********{}", &nik[12..])
    );
    assert!(me["errors"].is_null(), "{me}");

    let subject = customer.user_id.to_string();
    let events = read_until(
        &stack.subgraphs.topics.kyc,
        Duration::from_secs(20),
        |received| {
            envelopes(received)
                .iter()
                .any(|e| e.event_type() == "kyc.verified.v1")
        },
    )
    .await;
    let types: Vec<_> = envelopes(&events)
        .iter()
        .map(|e| e.event_type().to_owned())
        .collect();
    assert_eq!(types, ["kyc.submitted.v1", "kyc.verified.v1"]);
    let verified = envelopes(&events)[1]
        .decode::<tenor_contracts::kyc::KycVerifiedV1>()
        .unwrap();
    assert_eq!(verified.user_id.to_string(), subject);
}

#[tokio::test]
async fn the_full_document_number_needs_kyc_pii_read_at_the_router_and_at_the_subgraph() {
    let stack = RouterStack::start().await;
    let nik = fresh_nik();
    let (customer, token) = verified_customer(&stack, &nik).await;
    let query = "query CustomerKyc($email: String) { users(filter: { query: $email }, first: 1) { nodes { id kyc { status documentNumber } } } }";

    // The owner sees the mask, never the full number.
    let own = stack
        .gql(
            "query MyKyc { me { kyc { documentNumberMasked documentNumber } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert!(
        own["data"]["me"]["kyc"]["documentNumber"].is_null(),
        "{own}"
    );
    assert_eq!(error_codes(&own), ["FORBIDDEN"], "{own}");

    // Staff who may review but not read PII: null + FORBIDDEN for that field only.
    let reviewer = stack.staff(&["user:admin", "kyc:review"]).await;
    let reviewer_token = stack.router.login(&reviewer).await;
    let mut seen = Value::Null;
    eventually(async || {
        seen = stack
            .gql(
                query,
                json!({ "email": customer.identifier }),
                Some(&reviewer_token),
            )
            .await;
        seen["data"]["users"]["nodes"][0]["kyc"]["status"] == "VERIFIED"
    })
    .await;
    assert!(
        seen["data"]["users"]["nodes"][0]["kyc"]["documentNumber"].is_null(),
        "{seen}"
    );
    assert_eq!(error_codes(&seen), ["FORBIDDEN"], "{seen}");

    // The same read sent straight to the kyc subgraph with that token gets nothing either.
    let direct = post_graphql(
        &format!("{}/graphql", stack.subgraphs.kyc_url),
        "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { kyc { documentNumber } } } }",
        json!({ "reps": [{ "__typename": "User", "id": customer.user_id }] }),
        Some(&reviewer_token),
    )
    .await;
    assert!(
        direct["data"]["_entities"][0]["kyc"]["documentNumber"].is_null(),
        "{direct}"
    );
    assert_eq!(error_codes(&direct), ["FORBIDDEN"], "{direct}");

    // With kyc:pii:read: the number, and the read is in the access log under this operation.
    let officer = stack.staff(&["user:admin", "kyc:pii:read"]).await;
    let officer_token = stack.router.login(&officer).await;
    let read = stack
        .gql(
            query,
            json!({ "email": customer.identifier }),
            Some(&officer_token),
        )
        .await;
    assert_eq!(
        read["data"]["users"]["nodes"][0]["kyc"]["documentNumber"], nik,
        "{read}"
    );
    assert!(read["errors"].is_null(), "{read}");
    let log = stack
        .gql(
            "query Log($id: ID!) { piiAccessLog(userId: $id, first: 10) { nodes { actorId field operationName } } }",
            json!({ "id": customer.user_id }),
            Some(&officer_token),
        )
        .await;
    let entries = log["data"]["piiAccessLog"]["nodes"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "only the one successful read: {log}");
    assert_eq!(entries[0]["actorId"], officer.user_id.to_string());
    assert_eq!(entries[0]["field"], "documentNumber");
    assert_eq!(entries[0]["operationName"], "CustomerKyc");

    // …and the customer sees who read their data.
    let mine = stack
        .gql(
            "query WhoReadMyKyc { me { kycAccessLog(first: 5) { nodes { actorId field } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        mine["data"]["me"]["kycAccessLog"]["nodes"][0]["actorId"],
        officer.user_id.to_string(),
        "{mine}"
    );
}

/// Where only the router is reachable (docker-compose, Kubernetes), KYC's signed links work on
/// the router's address: the router passes `/kyc/*` on to the KYC service and brings its answer
/// back as it is — the upload is stored (the submission accepts it), a second use of the link
/// gets KYC's own refusal, and methods a link never uses are refused by the router.
#[tokio::test]
async fn kyc_upload_links_work_through_the_router() {
    let stack = RouterStack::start().await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let (document, selfie) = tenor_harness::journeys::matching_images();
    let http = reqwest::Client::new();

    let mut uploads = Vec::new();
    for (kind, bytes) in [("DOCUMENT_FRONT", document), ("SELFIE", selfie)] {
        let requested = stack
            .gql(
                "mutation RequestKycUpload($kind: KycUploadKind!) { requestKycUpload(kind: $kind) { upload { uploadId url } } }",
                json!({ "kind": kind }),
                Some(&token),
            )
            .await;
        let upload = &requested["data"]["requestKycUpload"]["upload"];
        let direct = upload["url"].as_str().unwrap();
        // The same link on the router's address.
        let path = direct
            .strip_prefix(&stack.subgraphs.kyc_url)
            .unwrap_or_else(|| panic!("{direct} is not on {}", stack.subgraphs.kyc_url));
        assert!(path.starts_with("/kyc/"), "{path}");
        let via_router = format!("{}{path}", stack.router.url);
        let put = http
            .put(&via_router)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
        // Single use: KYC's refusal comes back through the router, code and all.
        let again = http.put(&via_router).body(bytes).send().await.unwrap();
        assert!(again.status().is_client_error(), "{}", again.status());
        let refusal: Value = again.json().await.unwrap();
        assert_eq!(refusal["error"]["code"], "UPLOAD_ALREADY_USED", "{refusal}");
        // A method the link does not take: KYC's own 405, its `Allow` passed back.
        let got = http.get(&via_router).send().await.unwrap();
        assert_eq!(got.status(), 405);
        assert_eq!(got.headers()["allow"], "PUT");
        uploads.push(upload["uploadId"].as_str().unwrap().to_owned());
    }
    let deleted = http
        .delete(format!("{}/kyc/uploads/anything", stack.router.url))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 405);
    assert_eq!(deleted.headers()["allow"], "GET, PUT");
    let refusal: Value = deleted.json().await.unwrap();
    assert_eq!(refusal["error"]["code"], "METHOD_NOT_ALLOWED", "{refusal}");
    assert!(
        refusal["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Tautan ini") && m.contains(" / This link")),
        "Indonesian, then English: {refusal}"
    );

    let submitted = stack
        .gql(
            "mutation SubmitKyc($input: SubmitKycInput!) { submitKyc(input: $input) { kyc { status } userErrors { code } } }",
            json!({ "input": { "documentType": "KTP", "documentNumber": fresh_nik(),
                "documentUploadId": uploads[0], "selfieUploadId": uploads[1] } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        submitted["data"]["submitKyc"]["kyc"]["status"], "PENDING",
        "uploads made through the router are stored: {submitted}"
    );
}

/// A phone that PUTs a photo over the router's body limit reads the router's 413, not a reset
/// connection: the router reads and throws away the rest of the body before it answers (up to
/// a bound), then closes the connection. Written with a raw socket that sends the whole body
/// before reading, as simple HTTP clients do — a reset shows up here as a failed write or read.
#[tokio::test]
async fn an_oversized_upload_reads_the_routers_413_not_a_reset() {
    let stack = RouterStack::start().await;
    let body = vec![0u8; 8 * 1024 * 1024];
    let head = format!(
        "PUT /kyc/uploads/00000000-0000-0000-0000-000000000000?sig=x HTTP/1.1\r\nhost: router\r\ncontent-type: image/jpeg\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = send_whole_then_read(stack.router.port, &head, &body)
        .await
        .expect("no reset: the whole body was written and the answer read");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"PAYLOAD_TOO_LARGE\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

/// A client that sends an upload's head and then too little of its body, too slowly, is
/// answered 408 `BODY_TIMEOUT` and its connection closed once `body_timeout` has passed,
/// instead of holding a connection, a task and its buffer for as long as it likes. Without
/// the bound this waits for the 30-second read in `send_whole_then_read` and fails.
#[tokio::test]
async fn an_upload_whose_body_never_finishes_is_answered_408_and_closed() {
    let stack = RouterStack::start_with(|config| {
        set(
            config,
            "plugins.tenor.config.kyc_links.config.body_timeout",
            yaml(json!("1s")),
        )
    })
    .await;
    let head = "PUT /kyc/uploads/00000000-0000-0000-0000-000000000000?sig=x HTTP/1.1\r\nhost: router\r\ncontent-type: image/jpeg\r\ncontent-length: 100000\r\n\r\n";
    let started = std::time::Instant::now();
    let answer = send_whole_then_read(stack.router.port, head, &[0u8; 10])
        .await
        .expect("the router answers and closes, well within the client's 30 s");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"BODY_TIMEOUT\""), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered after {:?}",
        started.elapsed()
    );
}
