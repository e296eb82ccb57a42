//! The borrower's right to have a person review an automatic rejection (UU PDP): owner only,
//! once, within the window, only for an automatic rejection; the staff decision that follows
//! names the rejection it reviews.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use tenor_contracts::credit::{CreditDecision, CreditDecisionSource};
use tenor_credit::testing::*;
use uuid::Uuid;

use super::back_office::{decide, decided_loan, queue_loans};

const REQUEST: &str = "mutation($input: RequestHumanReviewInput!) {
    requestHumanReview(input: $input) {
        review { loanId status requestedAt }
        userErrors { code field message }
    }
}";

async fn request(service: &TestService, user: Uuid, loan: Uuid) -> Value {
    let token = service.token(user, "loan:apply kyc:submit");
    let response = service
        .graphql(
            Some(&token),
            REQUEST,
            json!({ "input": { "loanId": loan, "note": "My income has changed since" } }),
        )
        .await;
    response["data"]["requestHumanReview"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_automatic_rejection_is_reviewed_once_by_a_person() {
    let service = TestService::start().await;
    let (user, loan) = decided_loan(&service, 5_000_000, 420).await;
    let rejection = service.score(loan).await.unwrap().decision_id.unwrap();

    let stranger = request(&service, Uuid::new_v4(), loan).await;
    assert_eq!(user_error_codes(&stranger), ["NOT_FOUND"]);
    assert!(!queue_loans(&service).await.contains(&loan.to_string()));

    let token = service.token(user, "loan:apply kyc:submit");
    let spoofed = service
        .graphql(
            Some(&token),
            REQUEST,
            json!({ "input": { "loanId": loan, "note": "saya \u{202e}setuju" } }),
        )
        .await;
    let spoofed = &spoofed["data"]["requestHumanReview"];
    assert_eq!(user_error_codes(spoofed), ["NOTE_INVALID"], "{spoofed}");
    assert!(!queue_loans(&service).await.contains(&loan.to_string()));

    let requested = request(&service, user, loan).await;
    assert_eq!(requested["userErrors"], json!([]), "{requested}");
    assert_eq!(requested["review"]["status"], "REQUESTED");
    assert!(queue_loans(&service).await.contains(&loan.to_string()));
    let row = service.score(loan).await.unwrap();
    assert_eq!(row.queue_reason.as_deref(), Some("HUMAN_REVIEW_REQUESTED"));
    assert_eq!(
        row.decision.as_db(),
        "REJECT",
        "the rejection stands until reviewed"
    );

    let twice = request(&service, user, loan).await;
    assert_eq!(user_error_codes(&twice), ["REVIEW_ALREADY_REQUESTED"]);

    let staff = Uuid::new_v4();
    let reviewed = decide(&service, staff, loan, "APPROVE", "REVIEW_OVERTURNED").await;
    assert_eq!(reviewed["userErrors"], json!([]), "{reviewed}");
    assert_eq!(reviewed["assessment"]["humanReviewStatus"], "DECIDED");
    let events = service
        .decision_events(loan, 2, Duration::from_secs(6))
        .await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].decision_id, rejection);
    assert_eq!(events[0].source, CreditDecisionSource::Automatic);
    assert_eq!(events[1].decision, CreditDecision::Approved);
    assert_eq!(events[1].source, CreditDecisionSource::Manual);
    assert_eq!(events[1].reviews_decision, Some(rejection));
    assert_eq!(events[1].decided_by, Some(staff));

    let after = request(&service, user, loan).await;
    assert_eq!(user_error_codes(&after), ["NOT_REJECTED"]);
    let again = decide(&service, Uuid::new_v4(), loan, "REJECT", "SECOND_THOUGHTS").await;
    assert_eq!(user_error_codes(&again), ["ALREADY_DECIDED"]);
    service.assert_replays_match().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_automatic_rejections_within_the_window_can_be_reviewed() {
    let service = TestService::start().await;

    let (approved_user, approved) = decided_loan(&service, 5_000_000, 780).await;
    let response = request(&service, approved_user, approved).await;
    assert_eq!(user_error_codes(&response), ["NOT_REJECTED"]);

    let (late_user, late) = decided_loan(&service, 5_000_000, 420).await;
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query(
        "UPDATE credit_scores SET decided_at = now() - interval '15 days' WHERE loan_id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(late)
    .execute(&mut conn)
    .await
    .unwrap();
    let response = request(&service, late_user, late).await;
    assert_eq!(user_error_codes(&response), ["REVIEW_WINDOW_PASSED"]);

    // A person rejected it already: nothing automatic to object to.
    let (manual_user, manual) = decided_loan(&service, 5_000_000, 600).await;
    let rejected = decide(&service, Uuid::new_v4(), manual, "REJECT", "AFFORDABILITY").await;
    assert_eq!(rejected["userErrors"], json!([]), "{rejected}");
    let response = request(&service, manual_user, manual).await;
    assert_eq!(user_error_codes(&response), ["NOT_AUTOMATIC"]);

    let anonymous = service
        .graphql(None, REQUEST, json!({ "input": { "loanId": late } }))
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    for loan in [late, manual] {
        let row = service.score(loan).await.unwrap();
        assert_eq!(row.review_status.as_db(), "NONE", "{row:?}");
    }
}
