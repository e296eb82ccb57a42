//! Loan's side of the data-subject request (docs/conventions.md § Data-subject requests):
//! `myLendingData` gives the caller their own loans with the decision, every installment and
//! repayment; once the account is deleted (as projected from `user.status.changed`) the export
//! is empty while the loan record stays for staff.

use chrono::Utc;
use serde_json::{Value, json};
use tenor_contracts::credit::CreditDecision;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use uuid::Uuid;

use crate::support::*;

const EXPORT: &str = "query MyDataExport { myLendingData {
    loans { id amount status reasonCodes decisionReason }
    installments { loanId number amountDue }
    repayments { loanId amount } } }";

#[tokio::test]
async fn the_owner_exports_loans_and_schedules_and_nothing_once_deleted() {
    let service = TestService::start().await;
    let borrower = service.verified_customer().await;
    let other = service.verified_customer().await;
    let token = service.customer_token(borrower);
    let applied = service.apply(&token, 6_000_000, 6, "export-1").await;
    let loan = loan_id(&applied);
    service
        .decide(loan, borrower, CreditDecision::Approved)
        .await;
    service.wait_for_status(loan, "APPROVED").await;
    let theirs = service
        .apply(&service.customer_token(other), 2_000_000, 3, "export-2")
        .await;
    let their_loan = loan_id(&theirs);

    let response = service.graphql(Some(&token), EXPORT, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    let export = &response["data"]["myLendingData"];
    assert_eq!(export["loans"].as_array().unwrap().len(), 1, "{export}");
    assert_eq!(export["loans"][0]["id"], loan.to_string());
    assert_eq!(export["loans"][0]["amount"], 6_000_000);
    assert_eq!(export["loans"][0]["status"], "APPROVED");
    let installments = export["installments"].as_array().unwrap();
    assert_eq!(installments.len(), 6, "{export}");
    assert!(installments.iter().all(|i| i["loanId"] == loan.to_string()));
    assert!(!response.to_string().contains(&their_loan.to_string()));

    let deleted =
        UserStatusChangedV1::deleted_by_owner(borrower, AccountStatus::Active, Utc::now());
    service
        .publish(&service.topics.user, borrower, &deleted)
        .await;
    let gone = tenor_platform::testing::wait_for(async || {
        let response = service.graphql(Some(&token), EXPORT, json!({})).await;
        response["data"]["myLendingData"] == Value::Null
    })
    .await;
    assert!(gone, "a deleted account's export still answered");
    // The record stays for the lender.
    let staff = service.staff_token(Uuid::new_v4());
    let record = service
        .graphql(
            Some(&staff),
            "query($id: ID!) { loan(id: $id) { id amount userId } }",
            json!({ "id": loan }),
        )
        .await;
    assert_eq!(record["data"]["loan"]["amount"], 6_000_000, "{record}");
    assert_eq!(record["data"]["loan"]["userId"], borrower.to_string());
}
