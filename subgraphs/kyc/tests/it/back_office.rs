//! Staff work the manual review queue behind `kyc:review`; decisions are stored and published.
//! Verifications expire after the configured validity and may then be renewed.

use std::sync::Arc;

use serde_json::{Value, json};
use tenor_contracts::kyc::{KycDecisionSource, KycExpiredV1, KycRejectedV1, KycVerifiedV1};
use tenor_kyc::testing::*;
use tenor_kyc::verification::SimulatedKycVendor;
use uuid::Uuid;

const QUEUE: &str = "query($first: Int, $after: String) {
    kycReviewQueue(first: $first, after: $after) {
        edges { cursor node { id status awaitingManualReview faceMatchScore user { id } } }
        pageInfo { hasNextPage endCursor } } }";

const REVIEW: &str = "mutation($id: ID!, $decision: KycReviewDecision!, $reason: String) {
    reviewKyc(kycId: $id, decision: $decision, reason: $reason) {
        kyc { id status decidedAt rejectionReason rejectionReasonCode
              reviews { reviewerId decision reason reviewedAt } }
        userErrors { code field message } } }";

fn queue_ids(response: &Value) -> Vec<String> {
    response["data"]["kycReviewQueue"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn borderline_submissions_wait_for_staff_who_approve_or_reject_with_a_reason() {
    let service = TestService::start().await;
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let alice_kyc = service
        .submit_scoring(&service.customer_token(alice), NIK, Band::Borderline)
        .await;
    let bob_kyc = service
        .submit_scoring(
            &service.customer_token(bob),
            "3174055203050042",
            Band::Borderline,
        )
        .await;
    let kyc = service.wait_until_in_review(alice).await;
    assert_eq!(kyc["status"], "PENDING");
    service.wait_until_in_review(bob).await;

    let staff = Uuid::new_v4();
    let reviewer = service.token(staff, "kyc:review");

    // The queue pages oldest first.
    let page = service
        .client
        .query(Some(&reviewer), QUEUE, json!({ "first": 1 }))
        .await;
    assert_eq!(queue_ids(&page), std::slice::from_ref(&alice_kyc), "{page}");
    let node = &page["data"]["kycReviewQueue"]["edges"][0]["node"];
    assert_eq!(node["user"]["id"], alice.to_string());
    let score = node["faceMatchScore"].as_f64().unwrap();
    assert!((0.5..0.85).contains(&score), "{score}");
    assert_eq!(
        page["data"]["kycReviewQueue"]["pageInfo"]["hasNextPage"],
        true
    );
    let after = page["data"]["kycReviewQueue"]["pageInfo"]["endCursor"].clone();
    let page = service
        .client
        .query(
            Some(&reviewer),
            QUEUE,
            json!({ "first": 1, "after": after }),
        )
        .await;
    assert_eq!(queue_ids(&page), std::slice::from_ref(&bob_kyc), "{page}");
    assert_eq!(
        page["data"]["kycReviewQueue"]["pageInfo"]["hasNextPage"],
        false
    );

    // Customers cannot see the queue or decide.
    let customer = service.customer_token(alice);
    let denied = service
        .client
        .query(Some(&customer), QUEUE, json!({}))
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");
    assert_eq!(denied["data"]["kycReviewQueue"], Value::Null);
    let denied = service
        .client
        .query(
            Some(&customer),
            REVIEW,
            json!({ "id": alice_kyc, "decision": "APPROVE" }),
        )
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");

    // Approve Alice.
    let response = service
        .client
        .query(
            Some(&reviewer),
            REVIEW,
            json!({ "id": alice_kyc, "decision": "APPROVE" }),
        )
        .await;
    let payload = &response["data"]["reviewKyc"];
    assert_eq!(payload["userErrors"], json!([]), "{response}");
    assert_eq!(payload["kyc"]["status"], "VERIFIED");
    assert_eq!(
        payload["kyc"]["reviews"][0]["reviewerId"],
        staff.to_string()
    );
    assert_eq!(payload["kyc"]["reviews"][0]["decision"], "APPROVE");

    // A rejection needs a reason; a refused review changes nothing.
    let response = service
        .client
        .query(
            Some(&reviewer),
            REVIEW,
            json!({ "id": bob_kyc, "decision": "REJECT", "reason": " " }),
        )
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["reviewKyc"]),
        ["REASON_REQUIRED"]
    );
    assert_eq!(
        service.count("SELECT count(*) AS n FROM kyc_reviews").await,
        1
    );
    let response = service
        .client.query(
            Some(&reviewer),
            REVIEW,
            json!({ "id": bob_kyc, "decision": "REJECT", "reason": "Foto KTP buram / blurry photo" }),
        )
        .await;
    let payload = &response["data"]["reviewKyc"];
    assert_eq!(payload["userErrors"], json!([]), "{response}");
    assert_eq!(payload["kyc"]["status"], "REJECTED");
    assert_eq!(
        payload["kyc"]["rejectionReason"],
        "Foto KTP buram / blurry photo"
    );
    assert_eq!(
        payload["kyc"]["rejectionReasonCode"],
        "MANUAL_REVIEW_REJECTED"
    );

    // Decided submissions leave the queue and cannot be decided twice.
    let page = service
        .client
        .query(Some(&reviewer), QUEUE, json!({}))
        .await;
    assert_eq!(queue_ids(&page), Vec::<String>::new());
    let response = service
        .client
        .query(
            Some(&reviewer),
            REVIEW,
            json!({ "id": bob_kyc, "decision": "APPROVE" }),
        )
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["reviewKyc"]),
        ["KYC_NOT_IN_REVIEW"]
    );
    assert_eq!(
        service.count("SELECT count(*) AS n FROM kyc_reviews").await,
        2
    );

    let events = service.events(|e| e.len() >= 4).await;
    let verified: KycVerifiedV1 = events
        .iter()
        .find(|e| e.event_type() == "kyc.verified.v1")
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(verified.source, KycDecisionSource::Manual);
    assert_eq!(verified.decided_by, Some(staff));
    assert_eq!(verified.user_id, alice);
    let rejected: KycRejectedV1 = events
        .iter()
        .find(|e| e.event_type() == "kyc.rejected.v1")
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(rejected.user_id, bob);
    assert_eq!(rejected.decided_by, Some(staff));
    assert_eq!(rejected.reason, "Foto KTP buram / blurry photo");
    assert_eq!(events.len(), 4, "two submitted, one verified, one rejected");
}

#[tokio::test]
async fn staff_cannot_review_their_own_submission() {
    let service = TestService::start().await;
    let staff = Uuid::new_v4();
    let token = service.token(staff, "kyc:submit kyc:review");
    let kyc = service.submit_scoring(&token, NIK, Band::Borderline).await;
    service.wait_until_in_review(staff).await;
    let response = service
        .client
        .query(
            Some(&token),
            REVIEW,
            json!({ "id": kyc, "decision": "APPROVE" }),
        )
        .await;
    assert_eq!(
        user_error_codes(&response["data"]["reviewKyc"]),
        ["KYC_OWN_SUBMISSION"]
    );
}

#[tokio::test]
async fn verifications_expire_after_the_validity_and_can_be_renewed() {
    let service =
        TestService::start_with(&[("KYC_VALIDITY", "2s")], Arc::new(SimulatedKycVendor)).await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    let kyc_id = service.submit_scoring(&token, NIK, Band::Approve).await;
    service.wait_status(customer, "VERIFIED").await;
    service.wait_status(customer, "EXPIRED").await;

    let events = service.events(|e| e.len() >= 3).await;
    assert_eq!(events[2].event_type(), "kyc.expired.v1");
    let expired: KycExpiredV1 = events[2].decode().unwrap();
    assert_eq!(expired.kyc_id.to_string(), kyc_id);
    assert_eq!(expired.user_id, customer);

    // Renewal with the same NIK (still this customer's) is accepted.
    service.submit_scoring(&token, NIK, Band::Approve).await;
    service.wait_status(customer, "VERIFIED").await;
}

#[tokio::test]
async fn the_reviews_of_a_whole_queue_page_cost_one_query() {
    let service = TestService::start().await;
    for nik in [NIK, "3174055203050042", "3174055203050043"] {
        let user = Uuid::new_v4();
        service
            .submit_scoring(&service.customer_token(user), nik, Band::Borderline)
            .await;
        service.wait_until_in_review(user).await;
    }
    let reviewer = service.token(Uuid::new_v4(), "kyc:review");
    let before = service.loader_stats.batches();
    let page = service
        .client
        .query(
            Some(&reviewer),
            "query { kycReviewQueue(first: 10) { edges { node { id reviews { decision } } } } }",
            json!({}),
        )
        .await;
    let edges = page["data"]["kycReviewQueue"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"));
    assert_eq!(edges.len(), 3, "{page}");
    assert!(
        edges.iter().all(|e| e["node"]["reviews"] == json!([])),
        "{page}"
    );
    assert_eq!(
        service.loader_stats.batches() - before,
        1,
        "one batch for three submissions"
    );
}
