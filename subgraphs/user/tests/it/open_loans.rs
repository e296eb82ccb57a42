//! An account is not deleted while one of its loans is open: the user context learns each
//! loan's status from loan's `loan.status.changed` events (real Kafka), and `deleteMyAccount`
//! answers `LOANS_OPEN`, changing and announcing nothing, until every loan has ended.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_contracts::loan::{LoanStatus, LoanStatusChangedV1};
use tenor_events::Envelope;
use tenor_platform::testing::user_error_codes;
use tenor_user::domain;
use tenor_user::testing::*;
use uuid::Uuid;

const DELETE: &str = "mutation { deleteMyAccount(confirm: true) {
    deletedAt userErrors { code field message } } }";

fn change(loan: Uuid, user: Uuid, status: LoanStatus, at: DateTime<Utc>) -> LoanStatusChangedV1 {
    LoanStatusChangedV1 {
        loan_id: loan,
        user_id: user,
        status,
        previous_status: None,
        reason: None,
        changed_at: at,
    }
}

#[tokio::test]
async fn an_account_with_an_open_loan_is_deleted_only_once_every_loan_has_ended() {
    let service = TestService::start().await;
    let user = service.seed("Dewi Lestari").await;
    let token = service.customer_token(user);
    let t0 = Utc::now();
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let publish = async |loan, status, minutes| {
        let event = change(loan, user, status, t0 + Duration::minutes(minutes));
        let envelope = service.publish_loan_status(&event).await;
        assert!(
            wait_for(async || service.applied(&envelope).await).await,
            "{status:?} of {loan} not applied"
        );
        envelope
    };
    // Someone else's open loan is none of this account's business.
    let other = change(Uuid::new_v4(), Uuid::new_v4(), LoanStatus::Active, t0);
    let other = service.publish_loan_status(&other).await;
    assert!(wait_for(async || service.applied(&other).await).await);

    // Submitted, then approved: refused both times, with nothing changed.
    for status in [LoanStatus::Submitted, LoanStatus::Approved] {
        publish(first, status, i64::from(status == LoanStatus::Approved)).await;
        let refused = service.graphql.query(Some(&token), DELETE, json!({})).await;
        let payload = &refused["data"]["deleteMyAccount"];
        assert_eq!(user_error_codes(payload), ["LOANS_OPEN"], "{refused}");
        assert!(payload["deletedAt"].is_null());
        let message = payload["userErrors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("pinjaman"),
            "in the account's language: {message}"
        );
        let kept = service.profile(user).await.unwrap();
        assert_eq!(kept.status, domain::AccountStatus::Active);
        assert!(kept.email.is_some());
    }

    // The borrower declines it; a second application is paid out and repaid. A re-published
    // older status of a finished loan (a relay retry) does not reopen it.
    publish(first, LoanStatus::Cancelled, 2).await;
    publish(second, LoanStatus::Submitted, 3).await;
    publish(second, LoanStatus::Active, 5).await;
    assert_eq!(service.open_loans(user).await, 1);
    publish(second, LoanStatus::Paid, 9).await;
    let stale: Envelope = publish(second, LoanStatus::Active, 5).await;
    assert!(service.applied(&stale).await);
    assert_eq!(service.open_loans(user).await, 0);

    let deleted = service.graphql.query(Some(&token), DELETE, json!({})).await;
    let payload = &deleted["data"]["deleteMyAccount"];
    assert_eq!(payload["userErrors"], json!([]), "{deleted}");
    assert!(payload["deletedAt"].is_string());
    assert_eq!(
        service.profile(user).await.unwrap().status,
        domain::AccountStatus::Deleted
    );
    // The refusals announced nothing: the one status event is the deletion.
    let events = service.user_events(|events| !events.is_empty()).await;
    let changes: Vec<UserStatusChangedV1> = events.iter().map(|e| e.decode().unwrap()).collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].status, AccountStatus::Deleted);
}
