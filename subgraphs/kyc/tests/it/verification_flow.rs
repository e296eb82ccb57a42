//! Submission → simulated vendor → decision, with the events each step publishes; and a
//! submission accepted before a crash is verified after the restart.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use tenor_contracts::kyc::{
    DocumentType, KycDecisionSource, KycRejectedV1, KycSubmittedV1, KycVerifiedV1,
};
use tenor_kyc::testing::*;
use tenor_kyc::verification::{KycVerifier, SimulatedKycVendor, VendorAnswer, VerificationRequest};
use uuid::Uuid;

#[tokio::test]
async fn happy_path_uploads_submits_and_verifies_automatically() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);

    let (document, selfie) = images_in(Band::Approve);
    let (document_id, selfie_id) = service.upload_pair(&token, document, selfie).await;
    let payload = service
        .submit(
            &token,
            "KTP",
            "3201 0112 0390 0001",
            &document_id,
            &selfie_id,
        )
        .await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(payload["kyc"]["status"], "PENDING");
    assert_eq!(payload["kyc"]["documentNumberMasked"], "3201********0001");
    let kyc_id: Uuid = payload["kyc"]["id"].as_str().unwrap().parse().unwrap();

    let kyc = service.wait_status(customer, "VERIFIED").await;
    assert_eq!(kyc["id"], kyc_id.to_string());
    assert_eq!(kyc["documentNumberMasked"], "3201********0001");
    assert!(kyc["expiresAt"].is_string(), "{kyc}");

    let events = service.events(|e| e.len() >= 2).await;
    assert_eq!(events[0].event_type(), "kyc.submitted.v1");
    let submitted: KycSubmittedV1 = events[0].decode().unwrap();
    assert_eq!((submitted.kyc_id, submitted.user_id), (kyc_id, customer));
    assert_eq!(submitted.document_type, DocumentType::Ktp);
    assert_eq!(events[1].event_type(), "kyc.verified.v1");
    let verified: KycVerifiedV1 = events[1].decode().unwrap();
    assert_eq!((verified.kyc_id, verified.user_id), (kyc_id, customer));
    assert_eq!(verified.source, KycDecisionSource::Automatic);
    assert_eq!(verified.decided_by, None);
    assert!(verified.expires_at > verified.verified_at);
    // No PII in events.
    for event in &events {
        assert!(!String::from_utf8_lossy(&event.to_bytes()).contains(NIK));
    }
}

#[tokio::test]
async fn a_low_score_is_rejected_with_a_reason_and_the_customer_may_resubmit() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);

    service.submit_scoring(&token, NIK, Band::Reject).await;
    let kyc = service.wait_status(customer, "REJECTED").await;
    assert_eq!(kyc["rejectionReasonCode"], "FACE_MISMATCH");
    assert!(kyc["rejectionReason"].as_str().unwrap().contains("selfie"));

    let events = service.events(|e| e.len() >= 2).await;
    assert_eq!(events[1].event_type(), "kyc.rejected.v1");
    let rejected: KycRejectedV1 = events[1].decode().unwrap();
    assert_eq!(rejected.reason_code, "FACE_MISMATCH");
    assert_eq!(rejected.source, KycDecisionSource::Automatic);

    // Same NIK again, better selfie: accepted and verified.
    service.submit_scoring(&token, NIK, Band::Approve).await;
    service.wait_status(customer, "VERIFIED").await;
}

/// A vendor that is down: every call fails.
struct VendorDown;

#[async_trait]
impl KycVerifier for VendorDown {
    async fn verify(&self, _: &VerificationRequest) -> anyhow::Result<VendorAnswer> {
        anyhow::bail!("vendor unavailable")
    }
}

#[tokio::test]
async fn a_submission_pending_at_a_crash_is_verified_after_the_restart() {
    let mut service = TestService::start_with(&[], Arc::new(VendorDown)).await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    service.submit_scoring(&token, NIK, Band::Approve).await;

    // The worker has had several passes; the vendor failed each time and nothing was decided.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let pending = service.user_kyc(&token, customer, "status").await;
    assert_eq!(pending["data"]["_entities"][0]["kyc"]["status"], "PENDING");

    service.restart(Arc::new(SimulatedKycVendor)).await;
    service.wait_status(customer, "VERIFIED").await;
    let events = service.events(|e| e.len() >= 2).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type().to_owned()).collect();
    assert_eq!(types, ["kyc.submitted.v1", "kyc.verified.v1"]);
}

/// Three rejected attempts in a day (each a paid vendor check; repeated attempts with other
/// pictures are also how identity fraud probes a face match): the fourth is refused with the
/// hours to wait, storing, uploading to the vendor and announcing nothing; a day after the
/// first, the account may try again.
#[tokio::test]
async fn an_account_submits_at_most_three_times_in_any_day() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let token = service.customer_token(customer);
    for _ in 0..3 {
        service.submit_scoring(&token, NIK, Band::Reject).await;
        service.wait_status(customer, "REJECTED").await;
    }

    let (document, selfie) = images_in(Band::Approve);
    let (d, s) = service.upload_pair(&token, document, selfie).await;
    let refused = service.submit(&token, "KTP", NIK, &d, &s).await;
    let error = &refused["userErrors"][0];
    assert_eq!(error["code"], "KYC_SUBMISSION_LIMIT", "{refused}");
    assert!(error["field"].is_null());
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("24 jam") && message.contains("24 hours"),
        "{message}"
    );
    assert!(refused["kyc"].is_null());
    let count = "SELECT count(*) AS n FROM user_kyc WHERE user_id = '{user}'";
    let count = count.replace("{user}", &customer.to_string());
    assert_eq!(service.count(&count).await, 3);

    // A day after the first attempt, its place is free: the same uploads are accepted.
    service
        .count(&format!(
            "WITH first AS (SELECT id FROM user_kyc WHERE user_id = '{customer}' \
             ORDER BY submitted_at LIMIT 1) \
             UPDATE user_kyc SET submitted_at = submitted_at - interval '25 hours' \
             WHERE id IN (SELECT id FROM first) RETURNING 1::bigint AS n"
        ))
        .await;
    let accepted = service.submit(&token, "KTP", NIK, &d, &s).await;
    assert_eq!(accepted["userErrors"], json!([]), "{accepted}");
    service.wait_status(customer, "VERIFIED").await;
    let events = service
        .events(|e| e.iter().any(|e| e.is::<KycVerifiedV1>()))
        .await;
    let submitted = events.iter().filter(|e| e.is::<KycSubmittedV1>()).count();
    assert_eq!(
        submitted, 4,
        "three, then one a day later; none for the refusal"
    );
}
