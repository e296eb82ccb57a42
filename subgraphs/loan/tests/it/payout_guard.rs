//! No money goes out to an account that is no longer active: an APPROVED loan whose borrower
//! staff blocked after the approval is not paid out, and one whose borrower deleted the account
//! is withdrawn. And no money goes out on a loan its borrower declined: an APPROVED loan can be
//! cancelled until its payout is at the provider, and not after.

use crate::support::*;
use chrono::Utc;
use serde_json::json;
use tenor_contracts::credit::CreditDecision;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_contracts::loan::LoanStatus;
use tenor_loan::domain::eligibility::AccountState;
use uuid::Uuid;

const DISBURSE: &str = "mutation($id: ID!) { disburseLoan(id: $id) { loan { status } userErrors { code field message } } }";
const CANCEL: &str = "mutation($id: ID!) { cancelLoan(id: $id) { loan { status } userErrors { code field message } } }";

#[tokio::test]
async fn an_approved_loan_is_not_paid_out_to_a_blocked_account() {
    let service = TestService::start().await;
    let (user, loan, _) = approved_loan(&service, "guard-1").await;
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
}

/// The user context refuses to delete an account with an open loan, but learns of a new
/// application through Kafka: one made in the moments before the deletion reaches loan with
/// the account already gone. It is withdrawn, not left open for good; a loan whose payout is
/// at the provider is paid out, and its debt stands.
#[tokio::test]
async fn a_deleted_accounts_loans_not_yet_paid_out_are_withdrawn() {
    let service = TestService::start().await;
    let staff = service.staff_token(Uuid::new_v4());
    let delete = async |user| {
        let deleted = UserStatusChangedV1 {
            user_id: user,
            status: AccountStatus::Deleted,
            previous_status: AccountStatus::Active,
            reason: None,
            changed_by: None,
            changed_at: Utc::now(),
        };
        service.publish(&service.topics.user, user, &deleted).await;
        let gone = async || projected_status(&service, user).await == Some(AccountState::Deleted);
        assert!(wait_for(gone).await);
    };

    // Submitted, and approved: both withdrawn with the account, and nothing goes out.
    let (submitter, submitted, _) = applied(&service, "closure-1").await;
    let (approvee, approved, _) = approved_loan(&service, "closure-2").await;
    delete(submitter).await;
    delete(approvee).await;
    for loan in [submitted, approved] {
        assert_eq!(
            service.loan_status(loan).await.as_deref(),
            Some("CANCELLED")
        );
        let refused = service
            .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
            .await;
        assert_eq!(
            refused["data"]["disburseLoan"]["userErrors"][0]["code"], "LOAN_NOT_APPROVED",
            "{refused}"
        );
        assert_eq!(payouts(&service, loan).await, 0);
    }
    let events = service
        .loan_events(|e| {
            [submitted, approved]
                .iter()
                .all(|loan| status_changes(e, *loan).contains(&LoanStatus::Cancelled))
        })
        .await;
    for (loan, before) in [
        (submitted, LoanStatus::Submitted),
        (approved, LoanStatus::Approved),
    ] {
        let last = status_events(&events, loan).pop().unwrap();
        assert_eq!(
            (last.status, last.previous_status, last.reason.as_deref()),
            (LoanStatus::Cancelled, Some(before), Some("account deleted"))
        );
    }

    // The payout is at the provider when the account goes: it finishes, and the loan is owed.
    let (payee, paying, _) = approved_loan(&service, "closure-3").await;
    leave_payout_pending(&service, &staff, paying).await;
    delete(payee).await;
    assert_eq!(
        service.loan_status(paying).await.as_deref(),
        Some("APPROVED")
    );
    service.providers.set_unreachable(false);
    service.wait_for_status(paying, "ACTIVE").await;
    assert_eq!(payouts(&service, paying).await, 1);
}

#[tokio::test]
async fn an_approved_loan_can_be_declined_until_its_payout_is_under_way() {
    let service = TestService::start().await;
    let staff = service.staff_token(Uuid::new_v4());

    // Declined before anyone paid it out: CANCELLED, announced, and never paid out.
    let (_, declined, token) = approved_loan(&service, "decline-1").await;
    let cancelled = service
        .graphql(Some(&token), CANCEL, json!({ "id": declined }))
        .await;
    assert_eq!(
        cancelled["data"]["cancelLoan"]["loan"]["status"], "CANCELLED",
        "{cancelled}"
    );
    let refused = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": declined }))
        .await;
    assert_eq!(
        refused["data"]["disburseLoan"]["userErrors"][0]["code"], "LOAN_NOT_APPROVED",
        "{refused}"
    );
    assert_eq!(payouts(&service, declined).await, 0);
    let events = service
        .loan_events(|e| status_changes(e, declined).contains(&LoanStatus::Cancelled))
        .await;
    let last = status_events(&events, declined).pop().unwrap();
    assert_eq!(
        (last.status, last.previous_status),
        (LoanStatus::Cancelled, Some(LoanStatus::Approved))
    );

    // The payout is at a provider that does not answer: the money may be moving, so the
    // borrower can no longer decline, and the payout finishes once the provider answers.
    let (_, paying, token) = approved_loan(&service, "decline-2").await;
    leave_payout_pending(&service, &staff, paying).await;
    let refused = service
        .graphql(Some(&token), CANCEL, json!({ "id": paying }))
        .await;
    let refusal = &refused["data"]["cancelLoan"]["userErrors"][0];
    assert_eq!(refusal["code"], "LOAN_NOT_CANCELLABLE", "{refused}");
    assert_eq!(refusal["field"], "id");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains("being paid out"),
        "{refused}"
    );
    assert_eq!(
        service.loan_status(paying).await.as_deref(),
        Some("APPROVED")
    );
    service.providers.set_unreachable(false);
    service.wait_for_status(paying, "ACTIVE").await;
    let refused = service
        .graphql(Some(&token), CANCEL, json!({ "id": paying }))
        .await;
    assert_eq!(
        refused["data"]["cancelLoan"]["userErrors"][0]["code"], "LOAN_NOT_CANCELLABLE",
        "{refused}"
    );
    assert_eq!(service.loan_status(paying).await.as_deref(), Some("ACTIVE"));
    assert_eq!(payouts(&service, paying).await, 1);
}

/// A verified borrower's SUBMITTED loan: (borrower, loan, borrower's token).
async fn applied(service: &TestService, key: &str) -> (Uuid, Uuid, String) {
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let loan = loan_id(&service.apply(&token, 2_000_000, 3, key).await);
    (user, loan, token)
}

/// [`applied`], then approved by credit.
async fn approved_loan(service: &TestService, key: &str) -> (Uuid, Uuid, String) {
    let (user, loan, token) = applied(service, key).await;
    service.decide(loan, user, CreditDecision::Approved).await;
    service.wait_for_status(loan, "APPROVED").await;
    (user, loan, token)
}

/// Staff pay `loan` out while the provider does not answer: the payout stays at the provider
/// (the money may be moving) until `set_unreachable(false)`.
async fn leave_payout_pending(service: &TestService, staff: &str, loan: Uuid) {
    service.providers.set_unreachable(true);
    let pending = service
        .graphql(Some(staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        pending["data"]["disburseLoan"]["userErrors"][0]["code"], "PAYOUT_PENDING",
        "{pending}"
    );
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
