//! Journeys 2 and 3: a loan refused by policy, told with the reason the borrower reads; and a
//! borrower whose identity and whose credit are both borderline, decided by staff with their
//! scopes while the borrower's subscription and inbox follow (told first that the application
//! is being reviewed, then the decision).

use std::time::Duration;

use serde_json::{Value, json};
use tenor_harness::deciders::bureau;
use tenor_harness::journeys::{borderline_images, fresh_nik};
use tenor_harness::{RouterStack, eventually};
use tenor_mobile::{LoanDetails, WatchLoanStatus, loan_details, my_kyc, watch_loan_status};
use uuid::Uuid;

use super::app::{
    Subscription, apply, assert_in_inbox, details, email_about, register_and_sign_in, status_after,
    status_pushed, submit_identity, verify_identity, wait_for_kyc,
};

type Status = watch_loan_status::LoanStatus;
type Stage = loan_details::CreditReviewStage;

const KYC_QUEUE: &str = "query KycQueue { kycReviewQueue(first: 100) { nodes { id awaitingManualReview faceMatchScore user { id } } } }";
const REVIEW_KYC: &str = "mutation ReviewKyc($id: ID!, $decision: KycReviewDecision!, $reason: String) { reviewKyc(kycId: $id, decision: $decision, reason: $reason) { kyc { status } userErrors { code message } } }";
const CREDIT_QUEUE: &str =
    "query CreditQueue { creditReviewQueue(first: 100) { nodes { loanId queueReason } } }";
const DECIDE: &str = "mutation DecideLoan($input: DecideLoanInput!) { decideLoan(input: $input) { userErrors { code message } } }";

#[tokio::test]
async fn a_loan_refused_by_policy_is_told_with_its_reason() {
    let stack = RouterStack::start_deciding().await;
    let borrower = register_and_sign_in(&stack).await;
    let user = Uuid::parse_str(&borrower.user_id).unwrap();
    // Three other lending platforms already: OJK's limit, whatever the score says.
    stack
        .deciders()
        .bureau_file(user, &bureau::many_platforms())
        .await;
    verify_identity(&borrower, &fresh_nik()).await;
    let mut watch = Subscription::open::<WatchLoanStatus>(
        &stack,
        &borrower.token,
        watch_loan_status::Variables { loan_id: None },
    )
    .await;
    let loan = apply(&borrower, 3_000_000, 6).await;
    assert!(matches!(
        status_pushed(&mut watch).await.status,
        Status::SUBMITTED
    ));
    let refused = status_after(&mut watch, &Status::SUBMITTED).await;
    assert!(matches!(refused.status, Status::REJECTED), "{refused:?}");
    let reason = refused.reason.clone().expect("the borrower reads why");
    assert!(!reason.is_empty());

    let seen = details(&borrower, &loan.id).await;
    assert_eq!(
        seen.decision_reason.as_deref(),
        Some(reason.as_str()),
        "one reason everywhere"
    );
    assert!(
        seen.installments.is_empty(),
        "no schedule for a refused loan"
    );
    assert_in_inbox(&borrower, "loan.rejected.v1").await;
    assert!(
        matches!(seen.credit_review_stage, Some(Stage::DECIDED)),
        "{seen:?}"
    );
    // The app shows credit's reason; the email says it in the borrower's language (Indonesian).
    let email = email_about(&borrower, "belum dapat disetujui").await;
    assert!(
        email.contains("Alasan: Anda memiliki pinjaman aktif di terlalu banyak pemberi pinjaman"),
        "{email}"
    );
}

#[tokio::test]
async fn borderline_identity_and_credit_are_decided_by_staff_and_the_borrower_follows() {
    let stack = RouterStack::start_deciding().await;
    let borrower = register_and_sign_in(&stack).await;
    let user = Uuid::parse_str(&borrower.user_id).unwrap();
    stack
        .deciders()
        .bureau_file(user, &bureau::borderline())
        .await;

    // A selfie the vendor is unsure about: neither verified nor rejected by the machine.
    let kyc = submit_identity(&borrower, &fresh_nik(), borderline_images()).await;
    wait_for_kyc(&borrower, |k| k.awaiting_manual_review).await;
    let reviewer = stack.staff(&["kyc:review"]).await;
    let reviewer = stack.router.login(&reviewer).await;
    // Without the scope, the queue and the decision are refused.
    let outsider = stack.staff(&["loan:operate"]).await;
    let outsider = stack.router.login(&outsider).await;
    let refused = stack.gql(KYC_QUEUE, json!({}), Some(&outsider)).await;
    assert!(refused["data"]["kycReviewQueue"].is_null(), "{refused}");
    let refused = stack
        .gql(
            REVIEW_KYC,
            json!({ "id": kyc, "decision": "APPROVE" }),
            Some(&outsider),
        )
        .await;
    assert!(refused["data"]["reviewKyc"].is_null(), "{refused}");

    let queue = stack.gql(KYC_QUEUE, json!({}), Some(&reviewer)).await;
    let queued = nodes(&queue["data"]["kycReviewQueue"])
        .into_iter()
        .find(|n| n["id"] == kyc.as_str())
        .unwrap_or_else(|| panic!("not queued: {queue}"));
    assert_eq!(queued["user"]["id"], borrower.user_id.as_str());
    let score = queued["faceMatchScore"].as_f64().unwrap();
    assert!((0.5..0.85).contains(&score), "{queued}");
    // The borrower's name is not a reviewer's to read (no `user:admin`): that user is null and
    // the queue stays (a non-null `Kyc.user` used to null the whole page).
    let named = stack
        .gql(
            "query { kycReviewQueue(first: 100) { nodes { id user { fullname } } } }",
            json!({}),
            Some(&reviewer),
        )
        .await;
    let entry = nodes(&named["data"]["kycReviewQueue"])
        .into_iter()
        .find(|n| n["id"] == kyc.as_str())
        .unwrap_or_else(|| panic!("the queue is there without the names: {named}"));
    assert!(entry["user"].is_null(), "{named}");
    assert!(
        named["errors"][0]["extensions"]["code"] == "FORBIDDEN",
        "{named}"
    );
    let reviewed = stack
        .gql(
            REVIEW_KYC,
            json!({ "id": kyc, "decision": "APPROVE", "reason": "Wajah cocok, foto lama" }),
            Some(&reviewer),
        )
        .await;
    assert_eq!(
        reviewed["data"]["reviewKyc"]["userErrors"],
        json!([]),
        "{reviewed}"
    );
    wait_for_kyc(&borrower, |k| {
        matches!(k.status, my_kyc::KycStatus::VERIFIED) && !k.awaiting_manual_review
    })
    .await;
    assert_in_inbox(&borrower, "kyc.verified.v1").await;

    // Borderline credit: referred to staff, not decided by the machine.
    let mut watch = Subscription::open::<WatchLoanStatus>(
        &stack,
        &borrower.token,
        watch_loan_status::Variables { loan_id: None },
    )
    .await;
    let loan = apply(&borrower, 4_000_000, 6).await;
    assert!(matches!(
        status_pushed(&mut watch).await.status,
        Status::SUBMITTED
    ));
    let officer = stack.staff(&["credit:decide"]).await;
    let officer = stack.router.login(&officer).await;
    eventually(async || {
        let queue = stack.gql(CREDIT_QUEUE, json!({}), Some(&officer)).await;
        nodes(&queue["data"]["creditReviewQueue"])
            .iter()
            .any(|n| n["loanId"] == loan.id.as_str())
    })
    .await;
    while let Some(pushed) = watch
        .next::<WatchLoanStatus>(Duration::from_millis(300))
        .await
    {
        let status = pushed.loan_status_changed.status;
        assert!(
            matches!(status, Status::SUBMITTED),
            "referred, so not decided: {status:?}"
        );
    }
    // Not decided, but not left in silence: the borrower hears it is being reviewed, and the
    // app can show it.
    assert_in_inbox(&borrower, "credit.referred.v1").await;
    let email = email_about(&borrower, "sedang ditinjau").await;
    assert!(email.contains("Rp4.000.000"), "{email}");
    let waiting = details(&borrower, &loan.id).await;
    assert!(
        matches!(waiting.credit_review_stage, Some(Stage::WITH_A_PERSON)),
        "{waiting:?}"
    );
    let decided = stack
        .gql(
            DECIDE,
            json!({ "input": { "loanId": loan.id, "decision": "APPROVE",
                "reasonCode": "INCOME_VERIFIED", "note": "slip gaji 3 bulan diperiksa" } }),
            Some(&officer),
        )
        .await;
    assert_eq!(
        decided["data"]["decideLoan"]["userErrors"],
        json!([]),
        "{decided}"
    );
    let approved = status_after(&mut watch, &Status::SUBMITTED).await;
    assert!(matches!(approved.status, Status::APPROVED), "{approved:?}");
    let seen = borrower
        .app
        .run::<LoanDetails>(loan_details::Variables {
            id: loan.id.clone(),
        })
        .await
        .data()
        .loan
        .unwrap();
    assert!(seen.decided_at.is_some());
    assert!(
        matches!(seen.credit_review_stage, Some(Stage::DECIDED)),
        "{seen:?}"
    );
    assert_in_inbox(&borrower, "loan.approved.v1").await;
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{connection}"))
        .clone()
}
