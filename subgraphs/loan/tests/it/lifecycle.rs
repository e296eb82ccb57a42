//! Over 400 lines: each test is one loan's whole story against the real stack (decision,
//! disbursement, payments, daily job); split, a story would lose its order.
//!
//! The loan after submission: credit's decision (produced here by a test producer, as credit
//! will), disbursement, repayments and the daily due/overdue job, against the real stack.

use std::time::Duration;

use crate::support::*;
use chrono::{Days, Utc};
use serde_json::{Value, json};
use tenor_contracts::credit::CreditDecision;
use tenor_contracts::loan::{
    LoanActivatedV1, LoanApprovedV1, LoanInstallmentDueV1, LoanInstallmentOverdueV1, LoanPaidV1,
    LoanRejectedV1, LoanStatus,
};
use tenor_events::Envelope;
use tenor_loan::domain::schedule::business_today;
use tenor_loan::service::DailyReport;
use tenor_loan::store;
use uuid::Uuid;

const LOAN: &str =
    "query($id: ID!) { loan(id: $id) { id status amount outstanding disbursedOn totalRepayment
    installments { number dueDate amountDue amountPaid outstanding paidDate overdue } } }";
const DISBURSE: &str = "mutation($id: ID!) { disburseLoan(id: $id) { loan { status disbursedOn } userErrors { code field message } } }";
const PAY: &str = "mutation($loan: ID!, $amount: Int!, $key: String!) {
    payInstallment(loanId: $loan, amount: $amount, idempotencyKey: $key) {
        loan { status outstanding }
        payment { providerReference replayed allocations { installmentNumber fee interest principal } }
        userErrors { code field }
    } }";

async fn submitted_loan(service: &TestService, amount: i64, tenor: i32) -> (Uuid, Uuid, String) {
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let payload = service.apply(&token, amount, tenor, "apply-1").await;
    (user, loan_id(&payload), token)
}

async fn reviews(
    service: &TestService,
    loan: Uuid,
) -> Vec<(String, Option<i32>, Option<Uuid>, Value)> {
    let mut conn = service.db.pool().get().await.unwrap();
    store::reviews::reviews(&mut conn, loan).await.unwrap()
}

#[tokio::test]
async fn approval_persists_the_schedule_and_duplicates_or_late_decisions_are_harmless() {
    let service = TestService::start().await;
    let (user, loan, token) = submitted_loan(&service, 6_000_000, 6).await;

    let approval = service.decide(loan, user, CreditDecision::Approved).await;
    service.wait_for_status(loan, "APPROVED").await;

    // The same event delivered again (same CloudEvent id), a re-sent decision (new event id)
    // and a contradicting late REJECTED: none changes anything.
    let envelope = Envelope::new("/tenor/credit", loan.to_string(), &approval, None).unwrap();
    tenor_events::testing::publish(&service.topics.credit, &envelope).await;
    tenor_events::testing::publish(&service.topics.credit, &envelope).await;
    service
        .publish(&service.topics.credit, loan, &approval)
        .await;
    service.decide(loan, user, CreditDecision::Rejected).await;
    // A marker after them: once it is applied, the ones before it have been consumed too.
    let (other_user, other_loan, _) = submitted_loan(&service, 1_000_000, 2).await;
    service
        .decide(other_loan, other_user, CreditDecision::Rejected)
        .await;
    service.wait_for_status(other_loan, "REJECTED").await;

    assert_eq!(service.loan_status(loan).await.as_deref(), Some("APPROVED"));
    let history = reviews(&service, loan).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].0, "AUTOMATIC");
    assert_eq!(history[0].1, Some(720));
    assert_eq!(history[0].2, Some(approval.decision_id));
    assert_eq!(history[0].3["status"], "APPROVED");

    let response = service
        .graphql(Some(&token), LOAN, json!({ "id": loan }))
        .await;
    let installments = response["data"]["loan"]["installments"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(installments.len(), 6, "{response}");
    let sum: i64 = installments
        .iter()
        .map(|i| i["amountDue"].as_i64().unwrap())
        .sum();
    assert_eq!(
        sum,
        response["data"]["loan"]["totalRepayment"].as_i64().unwrap()
    );

    let events = service
        // Both loans' events: the topic has several partitions, read in no particular order.
        .loan_events(|e| {
            status_changes(e, loan).len() >= 2 && status_changes(e, other_loan).len() >= 2
        })
        .await;
    assert_eq!(
        status_changes(&events, loan),
        [LoanStatus::Submitted, LoanStatus::Approved]
    );
    assert_eq!(
        events.iter().filter(|e| e.is::<LoanApprovedV1>()).count(),
        1
    );
    let rejected: Vec<LoanRejectedV1> = events
        .iter()
        .filter(|e| e.is::<LoanRejectedV1>())
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].loan_id, other_loan);
    assert_eq!(rejected[0].reason_codes, ["SCORE_BELOW_THRESHOLD"]);
}

#[tokio::test]
async fn a_decision_for_an_unknown_loan_goes_to_the_dead_letter_topic() {
    let service = TestService::start().await;
    let decision = service
        .decide(Uuid::new_v4(), Uuid::new_v4(), CreditDecision::Approved)
        .await;
    let dlq = format!("{}.dlq", service.topics.credit);
    let parked =
        tenor_events::testing::read_until(&dlq, Duration::from_secs(20), |r| !r.is_empty()).await;
    assert_eq!(parked.len(), 1);
    let envelope = parked[0].envelope.as_ref().unwrap();
    assert_eq!(
        envelope
            .decode::<tenor_contracts::credit::CreditDecisionMadeV1>()
            .unwrap(),
        decision
    );
}

#[tokio::test]
async fn full_path_disburse_then_partial_full_overpay_and_replayed_payments() {
    let service = TestService::start().await;
    let (user, loan, token) = submitted_loan(&service, 3_000_000, 3).await;
    let staff = service.staff_token(Uuid::new_v4());

    // Not approved yet: refused, unchanged.
    let early = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        early["data"]["disburseLoan"]["userErrors"][0]["code"],
        "LOAN_NOT_APPROVED"
    );

    service.decide(loan, user, CreditDecision::Approved).await;
    service.wait_for_status(loan, "APPROVED").await;

    // The borrower cannot disburse their own loan.
    let own = service
        .graphql(Some(&token), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(error_code(&own), "FORBIDDEN");
    let done = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        done["data"]["disburseLoan"]["loan"]["status"], "ACTIVE",
        "{done}"
    );
    let today = business_today(Utc::now());
    assert_eq!(
        done["data"]["disburseLoan"]["loan"]["disbursedOn"],
        today.to_string()
    );
    let twice = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    let refusal = &twice["data"]["disburseLoan"]["userErrors"][0];
    assert_eq!(refusal["code"], "LOAN_ALREADY_DISBURSED");
    assert_eq!(refusal["field"], "id");
    let message = refusal["message"].as_str().unwrap();
    assert!(
        message.contains(&today.to_string()) && message.contains("ACTIVE"),
        "the refusal says when it went out and what the loan is now: {message}"
    );
    assert!(twice["data"]["disburseLoan"]["loan"].is_null(), "{twice}");

    let state = service
        .graphql(Some(&token), LOAN, json!({ "id": loan }))
        .await;
    let installments = state["data"]["loan"]["installments"]
        .as_array()
        .unwrap()
        .clone();
    let expected_dates: Vec<String> = tenor_loan::domain::schedule::due_dates(today, 3)
        .iter()
        .map(ToString::to_string)
        .collect();
    let dates: Vec<String> = installments
        .iter()
        .map(|i| i["dueDate"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates, expected_dates);
    let first_due = installments[0]["amountDue"].as_i64().unwrap();
    let total = state["data"]["loan"]["outstanding"].as_i64().unwrap();

    let pay = |amount: i64, key: &str| {
        service.graphql(
            Some(&token),
            PAY,
            json!({ "loan": loan, "amount": amount, "key": key }),
        )
    };
    // Partial: stays on installment 1.
    let partial = pay(first_due - 1_000, "p1").await;
    let p = &partial["data"]["payInstallment"];
    assert_eq!(
        p["loan"]["outstanding"].as_i64().unwrap(),
        total - (first_due - 1_000),
        "{partial}"
    );
    assert_eq!(p["payment"]["allocations"].as_array().unwrap().len(), 1);
    // Replay: the same result, no second effect.
    let replay = pay(first_due - 1_000, "p1").await;
    assert_eq!(
        replay["data"]["payInstallment"]["payment"]["replayed"],
        true
    );
    assert_eq!(
        replay["data"]["payInstallment"]["loan"]["outstanding"]
            .as_i64()
            .unwrap(),
        total - (first_due - 1_000)
    );
    // Another user's payment on this loan: not found.
    let stranger = service
        .graphql(
            Some(&service.customer_token(Uuid::new_v4())),
            PAY,
            json!({ "loan": loan, "amount": 1_000, "key": "x" }),
        )
        .await;
    assert_eq!(
        stranger["data"]["payInstallment"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );

    // Completes installment 1 and starts on 2 (oldest first).
    let spill = pay(2_000, "p2").await;
    let allocations = spill["data"]["payInstallment"]["payment"]["allocations"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(allocations.len(), 2, "{spill}");
    assert_eq!(allocations[0]["installmentNumber"], 1);
    assert_eq!(allocations[1]["installmentNumber"], 2);

    // Overpay: refused, nothing changes.
    let outstanding = total - first_due - 1_000;
    let over = pay(outstanding + 1, "p3").await;
    assert_eq!(
        over["data"]["payInstallment"]["userErrors"][0]["code"],
        "OVERPAYMENT"
    );
    let state = service
        .graphql(Some(&token), LOAN, json!({ "id": loan }))
        .await;
    assert_eq!(
        state["data"]["loan"]["outstanding"].as_i64().unwrap(),
        outstanding
    );
    assert_eq!(
        state["data"]["loan"]["installments"][0]["paidDate"],
        today.to_string()
    );

    // The rest: PAID.
    let rest = pay(outstanding, "p4").await;
    assert_eq!(
        rest["data"]["payInstallment"]["loan"]["status"], "PAID",
        "{rest}"
    );
    assert_eq!(rest["data"]["payInstallment"]["loan"]["outstanding"], 0);
    // Replaying the last payment after PAID still answers with the original, changing nothing.
    let replay = pay(outstanding, "p4").await;
    assert_eq!(
        replay["data"]["payInstallment"]["payment"]["replayed"],
        true
    );
    let more = pay(1, "p5").await;
    assert_eq!(
        more["data"]["payInstallment"]["userErrors"][0]["code"],
        "LOAN_NOT_ACTIVE"
    );

    let mut conn = service.db.pool().get().await.unwrap();
    assert_eq!(
        store::repayments::total_repaid(&mut conn, loan)
            .await
            .unwrap(),
        total
    );
    drop(conn);

    let events = service
        .loan_events(|e| status_changes(e, loan).contains(&LoanStatus::Paid))
        .await;
    assert_eq!(
        status_changes(&events, loan),
        [
            LoanStatus::Submitted,
            LoanStatus::Approved,
            LoanStatus::Active,
            LoanStatus::Paid
        ]
    );
    let activated: LoanActivatedV1 = events
        .iter()
        .find(|e| e.is::<LoanActivatedV1>())
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(
        activated.payout_reference,
        format!("SIM-PAYOUT-{}", loan.simple())
    );
    let paid: LoanPaidV1 = events
        .iter()
        .find(|e| e.is::<LoanPaidV1>())
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(paid.total_paid, total);
    assert_eq!(events.iter().filter(|e| e.is::<LoanPaidV1>()).count(), 1);
}

#[tokio::test]
async fn back_office_reads_and_search_need_loan_operate() {
    let service = TestService::start().await;
    let (user, loan, token) = submitted_loan(&service, 2_000_000, 2).await;
    let staff = service.staff_token(Uuid::new_v4());

    // Someone else's loan looks exactly like one that does not exist (issue 10): null, no
    // error. (This assertion used to expect FORBIDDEN, which told the stranger it exists.)
    let stranger = service
        .graphql(
            Some(&service.customer_token(Uuid::new_v4())),
            LOAN,
            json!({ "id": loan }),
        )
        .await;
    assert_eq!(stranger, json!({ "data": { "loan": null } }), "{stranger}");
    let by_staff = service
        .graphql(Some(&staff), LOAN, json!({ "id": loan }))
        .await;
    assert_eq!(by_staff["data"]["loan"]["status"], "SUBMITTED");

    let search = "query($user: ID) { loans(status: SUBMITTED, userId: $user, first: 10) { nodes { id } pageInfo { hasNextPage } } }";
    let refused = service
        .graphql(Some(&token), search, json!({ "user": user }))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let found = service
        .graphql(Some(&staff), search, json!({ "user": user }))
        .await;
    assert_eq!(
        found["data"]["loans"]["nodes"][0]["id"],
        loan.to_string(),
        "{found}"
    );

    // Federation: User.loans through _entities, for the owner only.
    let entities = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { loans { id status } } } }";
    let reps = json!({ "reps": [{ "__typename": "User", "id": user }] });
    let own = service.graphql(Some(&token), entities, reps.clone()).await;
    assert_eq!(
        own["data"]["_entities"][0]["loans"][0]["id"],
        loan.to_string(),
        "{own}"
    );
    let other = service
        .graphql(
            Some(&service.customer_token(Uuid::new_v4())),
            entities,
            reps,
        )
        .await;
    assert_eq!(error_code(&other), "FORBIDDEN");
}

#[tokio::test]
async fn the_daily_job_reminds_before_due_and_flags_overdue_once() {
    let service = TestService::start().await;
    let (user, loan, _) = submitted_loan(&service, 2_000_000, 2).await;
    service.decide(loan, user, CreditDecision::Approved).await;
    service.wait_for_status(loan, "APPROVED").await;
    let staff = service.staff_token(Uuid::new_v4());
    service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    service.wait_for_status(loan, "ACTIVE").await;

    let mut conn = service.db.pool().get().await.unwrap();
    let installments = store::installments::installments(&mut conn, loan)
        .await
        .unwrap();
    drop(conn);
    let first_due = installments[0].due_date;
    let loans = service.loans();

    // Four days before: nothing within the 3-day window.
    let report = loans
        .run_daily_job(first_due - Days::new(4), 3)
        .await
        .unwrap();
    assert_eq!(report, DailyReport::default());
    // Three days before: one reminder; running again the same day sends nothing more.
    let report = loans
        .run_daily_job(first_due - Days::new(3), 3)
        .await
        .unwrap();
    assert_eq!(
        report,
        DailyReport {
            reminders: 1,
            overdue: 0
        }
    );
    let report = loans
        .run_daily_job(first_due - Days::new(2), 3)
        .await
        .unwrap();
    assert_eq!(report, DailyReport::default());
    // The day after the due date: overdue once (the second installment is not yet in window).
    let report = loans
        .run_daily_job(first_due + Days::new(1), 3)
        .await
        .unwrap();
    assert_eq!(
        report,
        DailyReport {
            reminders: 0,
            overdue: 1
        }
    );
    let report = loans
        .run_daily_job(first_due + Days::new(2), 3)
        .await
        .unwrap();
    assert_eq!(report, DailyReport::default());

    let mut conn = service.db.pool().get().await.unwrap();
    let installments = store::installments::installments(&mut conn, loan)
        .await
        .unwrap();
    assert!(installments[0].overdue && !installments[1].overdue);
    drop(conn);

    let events = service
        .loan_events(|e| e.iter().any(|e| e.is::<LoanInstallmentOverdueV1>()))
        .await;
    let due: Vec<LoanInstallmentDueV1> = events
        .iter()
        .filter(|e| e.is::<LoanInstallmentDueV1>())
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].loan_id, due[0].installment_number, due[0].due_date),
        (loan, 1, first_due)
    );
    let overdue: Vec<LoanInstallmentOverdueV1> = events
        .iter()
        .filter(|e| e.is::<LoanInstallmentOverdueV1>())
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].days_past_due, 1);
    assert_eq!(overdue[0].amount_due, installments[0].amount_due());
}
