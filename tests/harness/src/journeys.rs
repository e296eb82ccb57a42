//! Journeys several router tests and benchmarks start from, through the router as the app
//! makes them.

use serde_json::{Value, json};
use tenor_kyc::verification::SimulatedKycVendor;

use crate::{Account, RouterStack, eventually};

/// A valid NIK of its own (Jawa Barat, Kab. Bogor; a random real birth date, +40 on the day for
/// half of them as for women; a random serial): one NIK may back only one account, so the space
/// is large enough that a benchmark's borrowers never collide.
pub fn fresh_nik() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    let day = (n % 28 + 1) as u32 + if (n >> 8).is_multiple_of(2) { 0 } else { 40 };
    let month = ((n >> 16) % 12 + 1) as u32;
    let year = ((n >> 24) % 40 + 60) as u32;
    let serial = (n >> 40) % 9999 + 1;
    format!("320101{day:02}{month:02}{year:02}{serial:04}")
}

fn png(tag: &str) -> Vec<u8> {
    tenor_kyc::testing::png(tag.as_bytes())
}

fn jpeg(tag: &str) -> Vec<u8> {
    tenor_kyc::testing::jpeg(tag.as_bytes())
}

/// A document and a selfie the simulated vendor scores at or above the approval threshold.
pub fn matching_images() -> (Vec<u8>, Vec<u8>) {
    let document = png(&format!("ktp-{}", uuid::Uuid::new_v4()));
    let selfie = (0u32..)
        .map(|i| jpeg(&format!("selfie-{i}")))
        .find(|selfie| SimulatedKycVendor::face_match_score(&document, selfie) >= 0.85)
        .unwrap();
    (document, selfie)
}

/// A document and a selfie the simulated vendor scores between its reject (0.5) and approve
/// (0.85) thresholds: the submission waits for a staff decision.
pub fn borderline_images() -> (Vec<u8>, Vec<u8>) {
    let document = png(&format!("ktp-{}", uuid::Uuid::new_v4()));
    let selfie = (0u32..)
        .map(|i| jpeg(&format!("selfie-{i}")))
        .find(|selfie| {
            (0.5..0.85).contains(&SimulatedKycVendor::face_match_score(&document, selfie))
        })
        .unwrap();
    (document, selfie)
}

/// One image through the upload link `requestKycUpload` hands out; the upload's id.
pub async fn upload(stack: &RouterStack, token: &str, kind: &str, bytes: Vec<u8>) -> String {
    let response = stack
        .gql(
            "mutation RequestKycUpload($kind: KycUploadKind!) { requestKycUpload(kind: $kind) { upload { uploadId url method } userErrors { code } } }",
            json!({ "kind": kind }),
            Some(token),
        )
        .await;
    let upload = &response["data"]["requestKycUpload"]["upload"];
    assert_eq!(upload["method"], "PUT", "{response}");
    let put = reqwest::Client::new()
        .put(upload["url"].as_str().unwrap())
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    upload["uploadId"].as_str().unwrap().to_owned()
}

/// A customer whose KTP (`nik`) the simulated vendor will verify, submitted through the router
/// end to end; returns the account and its access token. The verdict follows asynchronously.
pub async fn verified_customer(stack: &RouterStack, nik: &str) -> (Account, String) {
    let customer = stack.customer().await;
    let token = submit_kyc(stack, &customer, nik).await;
    (customer, token)
}

/// `customer` logs in and submits a KTP (`nik`) the simulated vendor will verify; the token.
async fn submit_kyc(stack: &RouterStack, customer: &Account, nik: &str) -> String {
    let token = stack.router.login(customer).await;
    let (document, selfie) = matching_images();
    let document = upload(stack, &token, "DOCUMENT_FRONT", document).await;
    let selfie = upload(stack, &token, "SELFIE", selfie).await;
    let submitted = stack
        .gql(
            "mutation SubmitKyc($input: SubmitKycInput!) { submitKyc(input: $input) { kyc { status } userErrors { code field message } } }",
            json!({ "input": { "documentType": "KTP", "documentNumber": nik, "documentUploadId": document, "selfieUploadId": selfie } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        submitted["data"]["submitKyc"]["userErrors"],
        json!([]),
        "{submitted}"
    );
    assert_eq!(submitted["data"]["submitKyc"]["kyc"]["status"], "PENDING");
    token
}

/// A customer with verified KYC whose verification has reached the loan subgraph (through
/// Kafka): waits on what the app shows (`me.kyc.status`), then on loan accepting an application.
pub async fn eligible_customer(stack: &RouterStack) -> (Account, String) {
    let customer = stack.customer().await;
    let token = make_eligible(stack, &customer).await;
    (customer, token)
}

/// Like [`eligible_customer`] for an account made by the test (e.g. one with a phone number):
/// its access token once its KYC is verified.
pub async fn make_eligible(stack: &RouterStack, customer: &Account) -> String {
    let token = submit_kyc(stack, customer, &fresh_nik()).await;
    wait_until_verified(stack, &token).await;
    token
}

/// Waits until the app shows the token's owner a VERIFIED KYC (`me.kyc.status`).
pub async fn wait_until_verified(stack: &RouterStack, token: &str) {
    eventually(async || {
        let me = stack
            .gql(
                "query MyKyc { me { kyc { status } } }",
                json!({}),
                Some(token),
            )
            .await;
        me["data"]["me"]["kyc"]["status"] == "VERIFIED"
    })
    .await;
}

/// The mobile app's application (Rp 5.000.000 over 6 months unless said otherwise).
pub const APPLY: &str = "mutation ApplyLoan($amount: Int!, $tenor: Int!, $key: String!) { applyLoan(amount: $amount, tenorMonths: $tenor, purpose: \"Modal usaha warung\", idempotencyKey: $key) { loan { id status amount tenorMonths } userErrors { code field message } } }";

/// `applyLoan`'s payload.
pub async fn apply(stack: &RouterStack, token: &str, amount: i64, tenor: i64, key: &str) -> Value {
    let response = stack
        .gql(
            APPLY,
            json!({ "amount": amount, "tenor": tenor, "key": key }),
            Some(token),
        )
        .await;
    response["data"]["applyLoan"].clone()
}

/// Applies for Rp 5.000.000 / 6 months, retrying only while loan has not yet heard of the KYC
/// verification (`KYC_NOT_VERIFIED`); the payload of the application that was not refused so.
pub async fn apply_when_eligible(stack: &RouterStack, token: &str, key: &str) -> Value {
    let mut payload = Value::Null;
    eventually(async || {
        payload = apply(stack, token, 5_000_000, 6, key).await;
        payload["userErrors"]
            .as_array()
            .is_none_or(|errors| errors.iter().all(|e| e["code"] != "KYC_NOT_VERIFIED"))
    })
    .await;
    payload
}
