//! Credit's side of the data-subject request (docs/conventions.md § Data-subject requests):
//! `myCreditDecisionData` gives the caller the decisions on their own loans with the reasons
//! they may read, and their human-review requests; nothing once the account is deleted.

use chrono::Utc;
use serde_json::{Value, json};
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_credit::testing::*;
use tenor_platform::testing::wait_for;

use super::back_office::{decide, decided_loan, queue_loans};
use uuid::Uuid;

const EXPORT: &str = "query MyDataExport { myCreditDecisionData {
    decisions { loanId outcome source reasonCodes reason rulesVersion }
    humanReviewRequests { loanId status note } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_owner_exports_decisions_with_reasons_and_nothing_once_deleted() {
    let service = TestService::start().await;
    let (user, loan) = decided_loan(&service, 5_000_000, 420).await;
    let (_, their_loan) = decided_loan(&service, 3_000_000, 420).await;
    let token = service.token(user, "loan:apply kyc:submit");
    let requested = service
        .graphql(
            Some(&token),
            "mutation($input: RequestHumanReviewInput!) { requestHumanReview(input: $input) {
                userErrors { code } } }",
            json!({ "input": { "loanId": loan, "note": "My income has changed since" } }),
        )
        .await;
    assert_eq!(
        requested["data"]["requestHumanReview"]["userErrors"],
        json!([]),
        "{requested}"
    );

    let response = service.graphql(Some(&token), EXPORT, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    let export = &response["data"]["myCreditDecisionData"];
    let decisions = export["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{export}");
    assert_eq!(decisions[0]["loanId"], loan.to_string());
    assert_eq!(decisions[0]["outcome"], "REJECT");
    assert_eq!(decisions[0]["source"], "AUTOMATIC");
    assert!(
        decisions[0]["reasonCodes"]
            .as_array()
            .is_some_and(|codes| !codes.is_empty()),
        "{export}"
    );
    assert!(!decisions[0]["reason"].as_str().unwrap().is_empty());
    assert_eq!(
        export["humanReviewRequests"],
        json!([{ "loanId": loan.to_string(), "status": "REQUESTED",
                 "note": "My income has changed since" }])
    );
    assert!(!response.to_string().contains(&their_loan.to_string()));

    let deleted = UserStatusChangedV1::deleted_by_owner(user, AccountStatus::Active, Utc::now());
    service.publish(&service.topics.user, user, &deleted).await;
    let gone = wait_for(async || {
        let response = service.graphql(Some(&token), EXPORT, json!({})).await;
        response["data"]["myCreditDecisionData"] == Value::Null
    })
    .await;
    assert!(gone, "a deleted account's export still answered");

    // The review the borrower asked for is withdrawn: off the queue, the rejection stands, and
    // a person can no longer decide it — an approval could never be paid out.
    assert!(!queue_loans(&service).await.contains(&loan.to_string()));
    let row = service.score(loan).await.unwrap();
    assert_eq!(
        (row.decision.as_db(), row.review_status.as_db()),
        ("REJECT", "WITHDRAWN")
    );
    for decision in ["APPROVE", "REJECT"] {
        let refused = decide(&service, Uuid::new_v4(), loan, decision, "REVIEW_DONE").await;
        assert_eq!(user_error_codes(&refused), ["ACCOUNT_DELETED"], "{refused}");
    }
    assert_eq!(
        service.score(loan).await.unwrap().decision.as_db(),
        "REJECT"
    );
}
