//! Issue 10: another customer's KYC data and an id nobody has must look the same, byte for
//! byte (uploads, `User.kyc`, `User.kycAccessLog`); hostile text in a review reason is a
//! userError that stores nothing.

use serde_json::{Value, json};
use tenor_kyc::testing::*;
use uuid::Uuid;

fn masked(response: &Value, ids: &[&str]) -> String {
    let mut text = response.to_string();
    for id in ids {
        text = text.replace(id, "<ID>");
    }
    text
}

#[tokio::test]
async fn another_customers_uploads_and_kyc_answer_like_unknown_ids() {
    let service = TestService::start().await;
    let owner = Uuid::new_v4();
    let owner_token = service.customer_token(owner);
    let (document, selfie) = images_in(Band::Approve);
    let (their_document, their_selfie) = service.upload_pair(&owner_token, document, selfie).await;

    let stranger = Uuid::new_v4();
    let token = service.customer_token(stranger);
    let (document, selfie) = images_in(Band::Approve);
    let (my_document, my_selfie) = service.upload_pair(&token, document, selfie).await;
    let unknown = Uuid::now_v7().to_string();

    // submitKyc with someone else's upload vs an upload id nobody has.
    for (theirs, document, selfie, unknown_document, unknown_selfie) in [
        (
            &their_document,
            &their_document,
            &my_selfie,
            &unknown,
            &my_selfie,
        ),
        (
            &their_selfie,
            &my_document,
            &their_selfie,
            &my_document,
            &unknown,
        ),
    ] {
        let with_theirs = service.submit(&token, "KTP", NIK, document, selfie).await;
        let with_unknown = service
            .submit(&token, "KTP", NIK, unknown_document, unknown_selfie)
            .await;
        assert_eq!(
            masked(&with_theirs, &[theirs]),
            masked(&with_unknown, &[&unknown]),
        );
        assert_eq!(user_error_codes(&with_theirs), ["UPLOAD_NOT_FOUND"]);
    }

    // User.kyc and User.kycAccessLog of the owner (who has a submission now) vs an unknown user.
    service
        .submit(&owner_token, "KTP", NIK, &their_document, &their_selfie)
        .await;
    for fields in [
        "kyc { id status }",
        "kycAccessLog { edges { node { id } } }",
    ] {
        let query = format!(
            "query($reps: [_Any!]!) {{ _entities(representations: $reps) {{ ... on User {{ {fields} }} }} }}"
        );
        let theirs = service
            .client
            .query(
                Some(&token),
                &query,
                json!({ "reps": [{ "__typename": "User", "id": owner }] }),
            )
            .await;
        let missing = service
            .client
            .query(
                Some(&token),
                &query,
                json!({ "reps": [{ "__typename": "User", "id": unknown }] }),
            )
            .await;
        assert_eq!(
            masked(&theirs, &[&owner.to_string()]),
            masked(&missing, &[&unknown]),
            "{fields}"
        );
    }
}

#[tokio::test]
async fn hostile_review_reasons_are_user_errors_and_store_nothing() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let kyc = service
        .submit_scoring(&service.customer_token(customer), NIK, Band::Borderline)
        .await;
    service.wait_until_in_review(customer).await;
    let reviewer = service.token(Uuid::new_v4(), "kyc:review");
    let review = "mutation($id: ID!, $reason: String) { reviewKyc(kycId: $id, decision: REJECT, reason: $reason) { kyc { id } userErrors { code field } } }";
    for (reason, code) in [
        ("blurry\u{0}photo".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("blurry\u{1b}photo".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("blurry\u{85}photo".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("\u{202e}blurry photo".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("blurry\u{200b}photo".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("blurry\u{e0041}".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("\u{feff}blurry".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("\u{301}blurry".to_owned(), "TEXT_INVALID_CHARACTERS"),
        ("x".repeat(10_000), "REASON_LENGTH"),
        ("x".repeat(1 << 20), "REASON_LENGTH"),
    ] {
        let response = service
            .client
            .query(
                Some(&reviewer),
                review,
                json!({ "id": kyc, "reason": reason }),
            )
            .await;
        assert!(response["errors"].is_null(), "{response}");
        assert_eq!(
            user_error_codes(&response["data"]["reviewKyc"]),
            [code],
            "{response}"
        );
    }
    assert_eq!(
        service.count("SELECT count(*) AS n FROM kyc_reviews").await,
        0
    );
    let still = service.wait_until_in_review(customer).await;
    assert_eq!(still["status"], "PENDING");
}
