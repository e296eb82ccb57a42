//! Field-level authorization on KYC PII, enforced by the subgraph itself (the router is not in
//! front here), and the access log every PII read writes.

use serde_json::{Value, json};
use tenor_kyc::testing::*;
use uuid::Uuid;

const DOCUMENT_NUMBER: &str = "query KycCaseFile($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on User { kyc { id documentNumberMasked documentNumber } } } }";

const IMAGES: &str = "query ReviewImages($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on User { kyc { id documentImageUrl selfieImageUrl } } } }";

const ACCESS_LOG: &str = "query($user: ID!) {
    piiAccessLog(userId: $user) { edges { node { actorId field operationName accessedAt kycId } } } }";

const MY_ACCESS_LOG: &str = "query($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on User {
        kycAccessLog(first: 10) { edges { node { actorId field operationName } } pageInfo { hasNextPage } } } } }";

fn reps(user: Uuid) -> Value {
    json!({ "reps": [{ "__typename": "User", "id": user }] })
}

fn kyc(response: &Value) -> &Value {
    &response["data"]["_entities"][0]["kyc"]
}

async fn verified_customer(service: &TestService) -> (Uuid, Vec<u8>, Vec<u8>) {
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service
        .upload_pair(&token, document.clone(), selfie.clone())
        .await;
    let payload = service.submit(&token, "KTP", NIK, &d, &s).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    service.wait_status(customer, "VERIFIED").await;
    (customer, document, selfie)
}

#[tokio::test]
async fn the_full_document_number_needs_kyc_pii_read_and_every_read_is_logged() {
    let service = TestService::start().await;
    let (customer, _, _) = verified_customer(&service).await;
    let logged = || service.count("SELECT count(*) AS n FROM pii_access_log");

    // The owner sees the mask, not the number.
    let response = service
        .client
        .query(
            Some(&service.customer_token(customer)),
            DOCUMENT_NUMBER,
            reps(customer),
        )
        .await;
    assert_eq!(kyc(&response)["documentNumberMasked"], "3201********0001");
    assert_eq!(kyc(&response)["documentNumber"], Value::Null);
    assert_eq!(error_code(&response), "FORBIDDEN");
    let path = response["errors"][0]["path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), "documentNumber", "{response}");

    // Staff with kyc:review only: still no number.
    let reviewer = service.token(Uuid::new_v4(), "kyc:review");
    let response = service
        .client
        .query(Some(&reviewer), DOCUMENT_NUMBER, reps(customer))
        .await;
    assert_eq!(kyc(&response)["documentNumber"], Value::Null);
    assert_eq!(error_code(&response), "FORBIDDEN");
    assert_eq!(logged().await, 0, "refused reads are not data reads");

    // No token at all: nothing.
    let response = service
        .client
        .query(None, DOCUMENT_NUMBER, reps(customer))
        .await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert_eq!(kyc(&response), &Value::Null);

    // Another customer cannot even see the KYC.
    let stranger = service.customer_token(Uuid::new_v4());
    let response = service
        .client
        .query(Some(&stranger), DOCUMENT_NUMBER, reps(customer))
        .await;
    assert_eq!(kyc(&response), &Value::Null);
    assert_eq!(error_code(&response), "FORBIDDEN");

    // With kyc:pii:read: the number, and one log row naming who, whose, what and the operation.
    let officer = Uuid::new_v4();
    let token = service.token(officer, "kyc:review kyc:pii:read");
    let response = service
        .client
        .named(Some(&token), DOCUMENT_NUMBER, "KycCaseFile", reps(customer))
        .await;
    assert_eq!(kyc(&response)["documentNumber"], NIK, "{response}");
    assert!(response["errors"].is_null(), "{response}");
    assert_eq!(logged().await, 1);

    let log = service
        .client
        .query(Some(&token), ACCESS_LOG, json!({ "user": customer }))
        .await;
    let entry = &log["data"]["piiAccessLog"]["edges"][0]["node"];
    assert_eq!(entry["actorId"], officer.to_string(), "{log}");
    assert_eq!(entry["field"], "documentNumber");
    assert_eq!(entry["operationName"], "KycCaseFile");
    assert_eq!(entry["kycId"], kyc(&response)["id"]);

    // The staff listing is itself behind kyc:pii:read.
    let denied = service
        .client
        .query(Some(&reviewer), ACCESS_LOG, json!({ "user": customer }))
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");
    assert_eq!(denied["data"]["piiAccessLog"], Value::Null);

    // The customer sees who read their data; another customer does not.
    let mine = service
        .client
        .query(
            Some(&service.customer_token(customer)),
            MY_ACCESS_LOG,
            reps(customer),
        )
        .await;
    let edges = &mine["data"]["_entities"][0]["kycAccessLog"]["edges"];
    assert_eq!(edges.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(edges[0]["node"]["actorId"], officer.to_string());
    let theirs = service
        .client
        .query(Some(&stranger), MY_ACCESS_LOG, reps(customer))
        .await;
    assert_eq!(error_code(&theirs), "FORBIDDEN");
    assert_eq!(theirs["data"]["_entities"][0]["kycAccessLog"], Value::Null);
}

#[tokio::test]
async fn image_links_need_kyc_review_expire_and_decrypt_on_download_with_a_log_row() {
    let service = TestService::start().await;
    let (customer, document, selfie) = verified_customer(&service).await;

    let response = service
        .client
        .query(
            Some(&service.customer_token(customer)),
            IMAGES,
            reps(customer),
        )
        .await;
    assert_eq!(kyc(&response)["documentImageUrl"], Value::Null);
    assert_eq!(kyc(&response)["selfieImageUrl"], Value::Null);
    assert_eq!(error_code(&response), "FORBIDDEN");

    let reviewer = Uuid::new_v4();
    let token = service.token(reviewer, "kyc:review");
    let response = service
        .client
        .named(Some(&token), IMAGES, "ReviewImages", reps(customer))
        .await;
    let document_url = kyc(&response)["documentImageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let selfie_url = kyc(&response)["selfieImageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM pii_access_log WHERE operation_name = 'ReviewImages'")
            .await,
        2
    );

    let download = service.http.get(&document_url).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.headers()["cache-control"], "no-store");
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        document.as_slice()
    );
    let download = service.http.get(&selfie_url).send().await.unwrap();
    assert_eq!(download.headers()["content-type"], "image/jpeg");
    assert_eq!(download.bytes().await.unwrap().as_ref(), selfie.as_slice());
    assert_eq!(
        service.count(&format!(
            "SELECT count(*) AS n FROM pii_access_log WHERE operation_name = 'download' AND actor_id = '{reviewer}'"
        ))
        .await,
        2
    );

    // A link altered to point at the other image, or to another reader, is refused.
    let swapped = document_url.replace("/document?", "/selfie?");
    let response = service.http.get(&swapped).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "DOWNLOAD_URL_INVALID");
    let other_actor = document_url.replace(&reviewer.to_string(), &Uuid::new_v4().to_string());
    assert_eq!(
        service
            .http
            .get(&other_actor)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        service
            .count("SELECT count(*) AS n FROM pii_access_log WHERE operation_name = 'download'")
            .await,
        2,
        "refused downloads read nothing"
    );
}

#[tokio::test]
async fn download_links_expire() {
    let service = TestService::start_with(
        &[("KYC_DOWNLOAD_URL_TTL", "1s")],
        std::sync::Arc::new(tenor_kyc::verification::SimulatedKycVendor),
    )
    .await;
    let (customer, _, _) = verified_customer(&service).await;
    let token = service.token(Uuid::new_v4(), "kyc:review");
    let response = service
        .client
        .query(Some(&token), IMAGES, reps(customer))
        .await;
    let url = kyc(&response)["documentImageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = service.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "DOWNLOAD_URL_EXPIRED");
}

#[tokio::test]
async fn an_entities_batch_of_users_loads_their_kyc_in_one_query() {
    let service = TestService::start().await;
    let mut users = vec![];
    for nik in ["3201011203900001", "3174055203050042", "3201011203900002"] {
        let user = Uuid::new_v4();
        service
            .submit_scoring(&service.customer_token(user), nik, Band::Borderline)
            .await;
        users.push(user);
    }
    users.push(Uuid::new_v4()); // no KYC at all
    let staff = service.token(Uuid::new_v4(), "kyc:review");
    let before = service.loader_stats.batches();
    let reps: Vec<Value> = users
        .iter()
        .map(|id| json!({ "__typename": "User", "id": id }))
        .collect();
    let response = service
        .client.query(
            Some(&staff),
            "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id kyc { documentNumberMasked } } } }",
            json!({ "reps": reps }),
        )
        .await;
    let entities = response["data"]["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), 4, "{response}");
    assert_eq!(
        entities[1]["kyc"]["documentNumberMasked"],
        "3174********0042"
    );
    assert_eq!(entities[3]["kyc"], Value::Null);
    assert_eq!(service.loader_stats.batches() - before, 1);
}
