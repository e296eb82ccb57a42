//! No money goes out to an account that is no longer active: an APPROVED loan whose borrower
//! staff blocked, or who deleted the account, after the approval is not paid out.

use crate::support::*;
use chrono::Utc;
use serde_json::json;
use tenor_contracts::credit::CreditDecision;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_loan::domain::eligibility::AccountState;
use uuid::Uuid;

const DISBURSE: &str = "mutation($id: ID!) { disburseLoan(id: $id) { loan { status } userErrors { code field message } } }";

#[tokio::test]
async fn an_approved_loan_is_not_paid_out_to_a_blocked_or_deleted_account() {
    let service = TestService::start().await;
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let applied = service.apply(&token, 2_000_000, 3, "guard-1").await;
    let loan = loan_id(&applied);
    service.decide(loan, user, CreditDecision::Approved).await;
    service.wait_for_status(loan, "APPROVED").await;
    let staff = service.staff_token(Uuid::new_v4());

    let blocked_at = Utc::now();
    let block = UserStatusChangedV1 {
        user_id: user,
        status: AccountStatus::Blocked,
        previous_status: AccountStatus::Active,
        reason: Some("fraud review".into()),
        changed_by: Some(Uuid::new_v4()),
        changed_at: blocked_at,
    };
    service.publish(&service.topics.user, user, &block).await;
    let projected = async |state| projected_status(&service, user).await == Some(state);
    assert!(wait_for(async || projected(AccountState::Blocked).await).await);

    let refused = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    let refusal = &refused["data"]["disburseLoan"]["userErrors"][0];
    assert_eq!(refusal["code"], "USER_NOT_ACTIVE", "{refused}");
    assert_eq!(refusal["field"], "id");
    assert!(
        refusal["message"].as_str().unwrap().contains("BLOCKED"),
        "{refused}"
    );
    assert_eq!(service.loan_status(loan).await.as_deref(), Some("APPROVED"));
    assert_eq!(payouts(&service, loan).await, 0, "no payout was asked for");

    // Unblocked: paid out as usual.
    let unblock = UserStatusChangedV1 {
        status: AccountStatus::Active,
        previous_status: AccountStatus::Blocked,
        changed_at: blocked_at + chrono::Duration::seconds(1),
        ..block.clone()
    };
    service.publish(&service.topics.user, user, &unblock).await;
    assert!(wait_for(async || projected(AccountState::Active).await).await);
    let paid = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        paid["data"]["disburseLoan"]["loan"]["status"], "ACTIVE",
        "{paid}"
    );

    // Another borrower deletes the account after the approval: nothing goes out either.
    let other = service.verified_customer().await;
    let other_token = service.customer_token(other);
    let other_loan = loan_id(&service.apply(&other_token, 2_000_000, 3, "guard-2").await);
    service
        .decide(other_loan, other, CreditDecision::Approved)
        .await;
    service.wait_for_status(other_loan, "APPROVED").await;
    let deleted = UserStatusChangedV1 {
        user_id: other,
        status: AccountStatus::Deleted,
        previous_status: AccountStatus::Active,
        reason: None,
        changed_by: None,
        changed_at: Utc::now(),
    };
    service.publish(&service.topics.user, other, &deleted).await;
    let gone =
        wait_for(async || projected_status(&service, other).await == Some(AccountState::Deleted))
            .await;
    assert!(gone);
    let refused = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": other_loan }))
        .await;
    assert_eq!(
        refused["data"]["disburseLoan"]["userErrors"][0]["code"], "USER_NOT_ACTIVE",
        "{refused}"
    );
    assert_eq!(payouts(&service, other_loan).await, 0);
}

/// Payouts recorded for `loan` (asked of the provider or not).
async fn payouts(service: &TestService, loan: Uuid) -> i64 {
    use diesel_async::RunQueryDsl;
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query(
        "SELECT count(*) AS n FROM loan_money_movements WHERE loan_id = $1 AND kind = 'PAYOUT'",
    )
    .bind::<diesel::sql_types::Uuid, _>(loan)
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
