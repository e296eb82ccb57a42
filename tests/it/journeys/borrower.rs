//! Journey 1: a new borrower registers, proves who they are, borrows, hears the decision on
//! every channel, receives the money and pays it all back — and a phone that loses its
//! connection during the decision learns the outcome from its first message after reconnecting.

use std::time::Duration;

use serde_json::json;
use tenor_harness::deciders::bureau;
use tenor_harness::journeys::fresh_nik;
use tenor_harness::{RouterStack, eventually};
use tenor_mobile::{
    PayInstallment, QuoteLoan, WatchLoanStatus, pay_installment, quote_loan, watch_loan_status,
};
use uuid::Uuid;

use super::app::{
    Subscription, apply, assert_in_inbox, details, email_about, notifications,
    register_and_sign_in, status_after, status_pushed, verify_identity,
};

const AMOUNT: i64 = 5_000_000;
const TENOR: i64 = 3;
const DISBURSE: &str = "mutation DisburseLoan($id: ID!) { disburseLoan(id: $id) { loan { status } userErrors { code message } } }";

type Status = watch_loan_status::LoanStatus;

#[tokio::test]
async fn a_borrower_borrows_hears_the_decision_and_repays_in_full() {
    let stack = RouterStack::start_deciding().await;
    let borrower = register_and_sign_in(&stack).await;
    let user = Uuid::parse_str(&borrower.user_id).unwrap();
    stack.deciders().bureau_file(user, &bureau::clean()).await;
    verify_identity(&borrower, &fresh_nik()).await;

    let quote = borrower
        .app
        .run::<QuoteLoan>(quote_loan::Variables {
            amount: AMOUNT,
            tenor_months: TENOR,
        })
        .await
        .data()
        .quote_loan
        .quote
        .expect("a quote for an amount and tenor the product offers");

    // The phone's steady connection, watching all of the borrower's loans.
    let mut steady = Subscription::open::<WatchLoanStatus>(
        &stack,
        &borrower.token,
        watch_loan_status::Variables { loan_id: None },
    )
    .await;
    let loan = apply(&borrower, AMOUNT, TENOR).await;
    assert_eq!(loan.amount, AMOUNT);
    assert_eq!(
        loan.monthly_installment, quote.monthly_installment,
        "the quote is what is applied for"
    );
    assert_eq!(loan.total_repayment, quote.total_repayment);

    // Submitted: as a change, or in the opening snapshot when the application won the race
    // with the subscription's start.
    let submitted = status_pushed(&mut steady).await;
    assert!(
        matches!(submitted.status, Status::SUBMITTED),
        "{submitted:?}"
    );

    // A second connection that drops while the loan is being decided: on reconnecting, the
    // first message is the loan's status as it is now.
    let mut flaky = Subscription::open::<WatchLoanStatus>(
        &stack,
        &borrower.token,
        watch_loan_status::Variables {
            loan_id: Some(loan.id.clone()),
        },
    )
    .await;
    let before = status_pushed(&mut flaky).await;
    assert!(before.snapshot, "{before:?}");
    assert_eq!(before.loan.id, loan.id);
    drop(flaky);

    let approved = status_after(&mut steady, &Status::SUBMITTED).await;
    assert!(!approved.snapshot, "a change as it happens");
    assert!(matches!(approved.status, Status::APPROVED), "{approved:?}");
    assert!(matches!(approved.previous_status, Some(Status::SUBMITTED)));

    let mut reconnected = Subscription::open::<WatchLoanStatus>(
        &stack,
        &borrower.token,
        watch_loan_status::Variables {
            loan_id: Some(loan.id.clone()),
        },
    )
    .await;
    let now = status_pushed(&mut reconnected).await;
    assert!(
        now.snapshot && matches!(now.status, Status::APPROVED),
        "{now:?}"
    );
    assert!(
        reconnected
            .next::<WatchLoanStatus>(Duration::from_millis(500))
            .await
            .is_none(),
        "one snapshot per loan, then only changes"
    );

    // Told on every channel, in Indonesian (no language chosen).
    email_about(&borrower, "disetujui").await;
    eventually(async || {
        notifications(&stack)
            .sms_to(&borrower.phone)
            .iter()
            .any(|sms| {
                sms.json["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("disetujui"))
            })
    })
    .await;
    assert_in_inbox(&borrower, "loan.approved.v1").await;

    // Staff pay the money out; the borrower's phone shows it.
    let staff = stack.staff(&["loan:operate"]).await;
    let staff = stack.router.login(&staff).await;
    let disbursed = stack
        .gql(DISBURSE, json!({ "id": loan.id }), Some(&staff))
        .await;
    assert_eq!(
        disbursed["data"]["disburseLoan"]["userErrors"],
        json!([]),
        "{disbursed}"
    );
    let active = status_after(&mut steady, &Status::APPROVED).await;
    assert!(matches!(active.status, Status::ACTIVE), "{active:?}");

    // Every installment paid from the app, oldest first.
    let schedule = details(&borrower, &loan.id).await.installments;
    assert_eq!(schedule.len(), TENOR as usize);
    for installment in &schedule {
        let paid = borrower
            .app
            .run::<PayInstallment>(pay_installment::Variables {
                loan_id: loan.id.clone(),
                amount: installment.outstanding,
                idempotency_key: Uuid::new_v4().to_string(),
            })
            .await
            .data()
            .pay_installment;
        assert!(
            paid.user_errors.is_empty(),
            "installment {}: {paid:?}",
            installment.number
        );
    }
    let paid_off = status_after(&mut steady, &Status::ACTIVE).await;
    assert!(matches!(paid_off.status, Status::PAID), "{paid_off:?}");
    assert_eq!(paid_off.loan.outstanding, 0);
    let after = details(&borrower, &loan.id).await;
    assert!(
        after
            .installments
            .iter()
            .all(|i| i.outstanding == 0 && i.paid_date.is_some())
    );
    assert_eq!(
        after
            .installments
            .iter()
            .map(|i| i.amount_paid)
            .sum::<i64>(),
        loan.total_repayment,
        "paid exactly what was quoted"
    );

    assert_in_inbox(&borrower, "loan.paid.v1").await;
    email_about(&borrower, "lunas").await;
}
