//! Over 400 lines: the four crash points and the slow-provider check share these fixtures.
//!
//! Money moves through a provider outside any transaction (`service/money_movement.rs`): a
//! process that crashes after recording the intent, or after the provider moved the money, is
//! finished exactly once — by the same request again or by the background resumer — and a slow
//! provider holds no row lock, no transaction and no pooled connection.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use tenor_contracts::credit::CreditDecision;
use tenor_contracts::loan::{LoanActivatedV1, LoanPaidV1, LoanStatus};
use tenor_loan::domain::schedule::business_today;
use tenor_loan::store::schema::loan_money_movements as movements;
use uuid::Uuid;

use crate::support::*;

const DISBURSE: &str = "mutation($id: ID!) { disburseLoan(id: $id) { loan { status disbursedOn } userErrors { code } } }";
const PAY: &str = "mutation($loan: ID!, $amount: Int!, $key: String!) {
    payInstallment(loanId: $loan, amount: $amount, idempotencyKey: $key) {
        loan { status outstanding }
        payment { providerReference replayed allocations { installmentNumber } }
        userErrors { code }
    } }";
const LOAN: &str = "query($id: ID!) { loan(id: $id) { status outstanding totalRepayment } }";

/// An APPROVED loan: (borrower, loan, borrower's token).
async fn approved_loan(service: &TestService) -> (Uuid, Uuid, String) {
    let user = service.verified_customer().await;
    let token = service.customer_token(user);
    let loan = loan_id(&service.apply(&token, 3_000_000, 3, "apply-1").await);
    service.decide(loan, user, CreditDecision::Approved).await;
    service.wait_for_status(loan, "APPROVED").await;
    (user, loan, token)
}

/// An ACTIVE loan, disbursed through GraphQL.
async fn active_loan(service: &TestService) -> (Uuid, Uuid, String) {
    let (user, loan, token) = approved_loan(service).await;
    let staff = service.staff_token(Uuid::new_v4());
    let done = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        done["data"]["disburseLoan"]["loan"]["status"], "ACTIVE",
        "{done}"
    );
    (user, loan, token)
}

/// (kind, status) of the loan's money movements, oldest first.
async fn intents(service: &TestService, loan: Uuid) -> Vec<(String, String)> {
    let mut conn = service.db.pool().get().await.unwrap();
    movements::table
        .filter(movements::loan_id.eq(loan))
        .order(movements::created_at)
        .select((movements::kind, movements::status))
        .load(&mut conn)
        .await
        .unwrap()
}

fn intent(kind: &str, status: &str) -> (String, String) {
    (kind.to_owned(), status.to_owned())
}

async fn outstanding(service: &TestService, token: &str, loan: Uuid) -> i64 {
    let state = service
        .graphql(Some(token), LOAN, json!({ "id": loan }))
        .await;
    state["data"]["loan"]["outstanding"].as_i64().unwrap()
}

/// Run `work` as a process that dies in the middle: the task must end in the simulated panic.
async fn crashes<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) {
    let ended = tokio::spawn(work).await;
    assert!(
        ended.is_err_and(|e| e.is_panic()),
        "the process was meant to crash"
    );
}

#[tokio::test]
async fn a_disbursement_that_crashed_before_the_provider_call_is_finished_once_by_the_retry() {
    let service = TestService::start().await;
    let (_, loan, token) = approved_loan(&service).await;
    let staff = service.staff_token(Uuid::new_v4());
    let today = business_today(Utc::now());

    let crashing = service.loans_crashing_at(Some(CrashPoint::BeforeProviderCall));
    crashes(async move { crashing.disburse(Uuid::new_v4(), loan, today).await }).await;
    assert_eq!(
        intents(&service, loan).await,
        [intent("PAYOUT", "REQUESTED")]
    );
    assert_eq!(service.providers.payout.ledger.calls(), 0);
    assert_eq!(service.loan_status(loan).await.as_deref(), Some("APPROVED"));

    // The operator clicks again: the recorded intent is finished with its own key.
    let done = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        done["data"]["disburseLoan"]["loan"]["status"], "ACTIVE",
        "{done}"
    );
    let again = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        again["data"]["disburseLoan"]["userErrors"][0]["code"],
        "LOAN_ALREADY_DISBURSED"
    );
    let payout = &service.providers.payout.ledger;
    assert_eq!((payout.effects(), payout.calls()), (1, 1), "paid out once");
    assert_eq!(payout.total_for(loan), 3_000_000);
    assert_eq!(
        intents(&service, loan).await,
        [intent("PAYOUT", "SUCCEEDED")]
    );

    let state = service
        .graphql(Some(&token), LOAN, json!({ "id": loan }))
        .await;
    assert_eq!(
        state["data"]["loan"]["outstanding"],
        state["data"]["loan"]["totalRepayment"]
    );
    let events = service
        .loan_events(|e| status_changes(e, loan).contains(&LoanStatus::Active))
        .await;
    assert_eq!(
        status_changes(&events, loan),
        [
            LoanStatus::Submitted,
            LoanStatus::Approved,
            LoanStatus::Active
        ]
    );
    let activated: Vec<LoanActivatedV1> = events
        .iter()
        .filter(|e| e.is::<LoanActivatedV1>())
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(activated.len(), 1);
    assert_eq!(
        activated[0].payout_reference,
        format!("SIM-PAYOUT-{}", loan.simple())
    );
}

#[tokio::test]
async fn a_disbursement_that_crashed_after_the_payout_is_finished_once_by_the_resumer() {
    let service = TestService::start().await;
    let (_, loan, _) = approved_loan(&service).await;
    let today = business_today(Utc::now());

    let crashing = service.loans_crashing_at(Some(CrashPoint::AfterProviderCall));
    crashes(async move { crashing.disburse(Uuid::new_v4(), loan, today).await }).await;
    // The money went out; the loan does not know yet.
    assert_eq!(service.providers.payout.ledger.effects(), 1);
    assert_eq!(
        intents(&service, loan).await,
        [intent("PAYOUT", "REQUESTED")]
    );
    assert_eq!(service.loan_status(loan).await.as_deref(), Some("APPROVED"));

    // Nobody retries: the running service's resumer takes the stalled intent over.
    service.wait_for_status(loan, "ACTIVE").await;
    let staff = service.staff_token(Uuid::new_v4());
    let again = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        again["data"]["disburseLoan"]["userErrors"][0]["code"],
        "LOAN_ALREADY_DISBURSED"
    );
    let payout = &service.providers.payout.ledger;
    assert_eq!(payout.effects(), 1, "paid out once");
    assert_eq!(payout.total_for(loan), 3_000_000);
    assert_eq!(
        intents(&service, loan).await,
        [intent("PAYOUT", "SUCCEEDED")]
    );

    let events = service
        .loan_events(|e| status_changes(e, loan).contains(&LoanStatus::Active))
        .await;
    assert_eq!(
        events.iter().filter(|e| e.is::<LoanActivatedV1>()).count(),
        1
    );
    assert_eq!(
        status_changes(&events, loan),
        [
            LoanStatus::Submitted,
            LoanStatus::Approved,
            LoanStatus::Active
        ]
    );
}

/// Ten operators (or one impatient one) click "disburse" together: one payout, and every
/// answer is either the ACTIVE loan or LOAN_ALREADY_DISBURSED, never LOAN_NOT_APPROVED (which
/// the calls arriving after the payout settled answered before).
#[tokio::test]
async fn ten_disbursals_at_once_pay_out_once_and_each_answer_says_so() {
    let service = TestService::start().await;
    let (_, loan, _) = approved_loan(&service).await;
    let staff = service.staff_token(Uuid::new_v4());

    // Spread over 300 ms, as clicks through a network arrive: the first ones find the payout
    // in flight, the last ones find it settled.
    let clicks = (0..10u64).map(|i| {
        let (service, staff) = (&service, &staff);
        async move {
            tokio::time::sleep(Duration::from_millis(30 * i)).await;
            service
                .graphql(Some(staff), DISBURSE, json!({ "id": loan }))
                .await
        }
    });
    let answers = futures::future::join_all(clicks).await;
    let mut active = 0;
    for answer in &answers {
        let payload = &answer["data"]["disburseLoan"];
        match payload["loan"]["status"].as_str() {
            Some("ACTIVE") => active += 1,
            _ => assert_eq!(
                payload["userErrors"][0]["code"], "LOAN_ALREADY_DISBURSED",
                "{answer}"
            ),
        }
    }
    assert!(active >= 1, "someone is told it went out: {answers:?}");
    let payout = &service.providers.payout.ledger;
    assert_eq!((payout.effects(), payout.total_for(loan)), (1, 3_000_000));
    assert_eq!(
        intents(&service, loan).await,
        [intent("PAYOUT", "SUCCEEDED")]
    );
}

#[tokio::test]
async fn a_payment_that_crashed_after_the_charge_is_completed_once_by_its_retry() {
    let service = TestService::start().await;
    let (user, loan, token) = active_loan(&service).await;
    let total = outstanding(&service, &token, loan).await;
    let today = business_today(Utc::now());

    let crashing = service.loans_crashing_at(Some(CrashPoint::AfterProviderCall));
    crashes(async move { crashing.pay(user, loan, 400_000, "pay-1", today).await }).await;
    assert_eq!(service.providers.payment.ledger.effects(), 1);
    assert_eq!(outstanding(&service, &token, loan).await, total);

    // The app retries with the same key: the charge is recorded, once.
    let pay = || {
        service.graphql(
            Some(&token),
            PAY,
            json!({ "loan": loan, "amount": 400_000, "key": "pay-1" }),
        )
    };
    let first: Value = pay().await;
    let p = &first["data"]["payInstallment"];
    assert_eq!(p["payment"]["replayed"], false, "{first}");
    assert_eq!(p["loan"]["outstanding"].as_i64().unwrap(), total - 400_000);
    let replay = pay().await;
    assert_eq!(
        replay["data"]["payInstallment"]["payment"]["replayed"],
        true
    );
    assert_eq!(outstanding(&service, &token, loan).await, total - 400_000);

    let payment = &service.providers.payment.ledger;
    assert_eq!(payment.effects(), 1, "charged once");
    assert_eq!(payment.total_for(loan), 400_000);
    let mut conn = service.db.pool().get().await.unwrap();
    assert_eq!(
        tenor_loan::store::repayments::total_repaid(&mut conn, loan)
            .await
            .unwrap(),
        400_000
    );
    assert_eq!(
        intents(&service, loan).await,
        [
            intent("PAYOUT", "SUCCEEDED"),
            intent("COLLECTION", "SUCCEEDED")
        ]
    );
}

#[tokio::test]
async fn a_final_payment_that_crashed_before_the_charge_is_completed_once_by_the_resumer() {
    let service = TestService::start().await;
    let (user, loan, token) = active_loan(&service).await;
    let total = outstanding(&service, &token, loan).await;
    let today = business_today(Utc::now());

    let crashing = service.loans_crashing_at(Some(CrashPoint::BeforeProviderCall));
    crashes(async move { crashing.pay(user, loan, total, "pay-all", today).await }).await;
    assert_eq!(service.providers.payment.ledger.calls(), 0);
    // The payment still at the provider counts against what may be paid meanwhile.
    let more = service
        .graphql(
            Some(&token),
            PAY,
            json!({ "loan": loan, "amount": 1, "key": "pay-more" }),
        )
        .await;
    assert_eq!(
        more["data"]["payInstallment"]["userErrors"][0]["code"], "OVERPAYMENT",
        "{more}"
    );

    service.wait_for_status(loan, "PAID").await;
    let payment = &service.providers.payment.ledger;
    assert_eq!((payment.effects(), payment.total_for(loan)), (1, total));
    assert_eq!(outstanding(&service, &token, loan).await, 0);
    // The borrower's retry now answers with the recorded payment.
    let replay = service
        .graphql(
            Some(&token),
            PAY,
            json!({ "loan": loan, "amount": total, "key": "pay-all" }),
        )
        .await;
    assert_eq!(
        replay["data"]["payInstallment"]["payment"]["replayed"], true,
        "{replay}"
    );
    assert_eq!(payment.effects(), 1);

    let events = service
        .loan_events(|e| status_changes(e, loan).contains(&LoanStatus::Paid))
        .await;
    let paid: Vec<LoanPaidV1> = events
        .iter()
        .filter(|e| e.is::<LoanPaidV1>())
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].total_paid, total);
}

/// Whether another transaction can lock the loan's row right now (`NOWAIT`: fails at once if a
/// lock is held).
async fn row_is_free(service: &TestService, loan: Uuid) -> bool {
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::sql_query("SELECT id FROM loans WHERE id = $1 FOR UPDATE NOWAIT")
        .bind::<diesel::sql_types::Uuid, _>(loan)
        .execute(&mut conn)
        .await
        .is_ok()
}

/// Locks other sessions hold on the loan tables (any open transaction that touched them holds
/// one until it ends). The outbox relay's own transaction is not counted: it touches only the
/// outbox.
async fn locks_on_loan_tables(service: &TestService) -> i64 {
    let mut conn = service.db.pool().get().await.unwrap();
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
          WHERE c.relname IN ('loans', 'loans_payments', 'loans_repayments', 'loan_money_movements') \
            AND l.pid <> pg_backend_pid() \
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
    ))
    .get_result(&mut conn)
    .await
    .unwrap()
}

/// While the provider sleeps inside `call`, the loan is readable at once, its row lockable
/// without waiting, and no transaction holds anything on the loan tables.
async fn nothing_waits_on(
    service: &TestService,
    token: &str,
    loan: Uuid,
    call: tokio::task::JoinHandle<Value>,
) -> Value {
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !call.is_finished(),
        "the provider should still be answering"
    );
    assert!(row_is_free(service, loan).await, "the loan row is locked");
    assert_eq!(
        locks_on_loan_tables(service).await,
        0,
        "a transaction is open on the loan"
    );
    // More reads at once than the pool has connections: all of them answer before the
    // provider does, so the call holds none of the pool.
    let reads = (0..10).map(|_| async {
        let state = service
            .graphql(Some(token), LOAN, json!({ "id": loan }))
            .await;
        assert!(!state["data"]["loan"].is_null(), "{state}");
    });
    futures::future::join_all(reads).await;
    assert!(
        !call.is_finished(),
        "the checks ran while the provider was answering"
    );
    call.await.unwrap()
}

#[tokio::test]
async fn a_slow_provider_holds_no_row_lock_transaction_or_connection() {
    let service = TestService::start().await;
    let (_, loan, token) = approved_loan(&service).await;
    service.providers.set_delay(Duration::from_secs(2));

    let staff = service.staff_token(Uuid::new_v4());
    let client = service.client.clone();
    let disbursing = tokio::spawn(async move {
        client
            .query(Some(&staff), DISBURSE, json!({ "id": loan }))
            .await
    });
    let done = nothing_waits_on(&service, &token, loan, disbursing).await;
    assert_eq!(
        done["data"]["disburseLoan"]["loan"]["status"], "ACTIVE",
        "{done}"
    );

    let client = service.client.clone();
    let borrower = token.clone();
    let paying = tokio::spawn(async move {
        client
            .query(
                Some(&borrower),
                PAY,
                json!({ "loan": loan, "amount": 100_000, "key": "slow-1" }),
            )
            .await
    });
    let paid = nothing_waits_on(&service, &token, loan, paying).await;
    assert_eq!(
        paid["data"]["payInstallment"]["payment"]["replayed"], false,
        "{paid}"
    );
    assert_eq!(service.providers.payout.ledger.effects(), 1);
    assert_eq!(service.providers.payment.ledger.effects(), 1);
}

const AWAITING: &str = "{ moneyMovementsAwaitingProvider(first: 100) { loanId kind providerKey attempts requestedAt lastTriedAt } }";

async fn awaiting(service: &TestService, staff: &str) -> Vec<Value> {
    let response = service.graphql(Some(staff), AWAITING, json!({})).await;
    response["data"]["moneyMovementsAwaitingProvider"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .clone()
}

/// One gauge of this service's database from `/metrics`, for `kind`; `None` before it is set.
async fn gauge(service: &TestService, name: &str, kind: &str) -> Option<f64> {
    let labels = [("database", service.db.name()), ("kind", kind)];
    tenor_platform::testing::metric(&service.base_url, name, &labels)
        .await
        .into_iter()
        .next()
}

/// A payout the provider never answers stays REQUESTED and is retried with the same key, for as
/// long as it takes — giving up could leave money moved and unrecorded — so the on-call
/// engineer needs to see it: after each resumer pass, `/metrics` counts the intents past the
/// resume threshold and how long the oldest has waited, and both fall back to 0 once the
/// provider answers and the resumer settles it.
#[tokio::test]
async fn a_payout_the_provider_never_answers_shows_on_metrics_until_it_settles() {
    use tenor_loan::service::money_movement::{STALLED, STALLED_OLDEST};

    let service = TestService::start().await;
    let (_, loan, _) = approved_loan(&service).await;
    service.providers.set_unreachable(true);
    let staff = service.staff_token(Uuid::new_v4());
    let pending = service
        .graphql(Some(&staff), DISBURSE, json!({ "id": loan }))
        .await;
    assert_eq!(
        pending["data"]["disburseLoan"]["userErrors"][0]["code"], "PAYOUT_PENDING",
        "{pending}"
    );

    // Past the harness's 4 s resume threshold, the resumer's passes report it.
    let stalled = tenor_platform::testing::wait_for(async || {
        gauge(&service, STALLED, "payout").await == Some(1.0)
    })
    .await;
    assert!(stalled, "{:?}", gauge(&service, STALLED, "payout").await);
    let waited = gauge(&service, STALLED_OLDEST, "payout").await.unwrap();
    assert!(waited >= 4.0, "oldest waited {waited} s");
    assert_eq!(gauge(&service, STALLED, "collection").await, Some(0.0));
    assert_eq!(service.loan_status(loan).await.as_deref(), Some("APPROVED"));
    // Staff see it, with the key to quote to the provider; a borrower does not.
    let waiting = awaiting(&service, &staff).await;
    let listed = waiting
        .iter()
        .find(|m| m["loanId"] == loan.to_string())
        .unwrap_or_else(|| panic!("{waiting:?}"));
    assert_eq!(listed["kind"], "PAYOUT");
    assert!(!listed["providerKey"].as_str().unwrap().is_empty());
    assert!(listed["attempts"].as_i64().unwrap() >= 2, "{listed}");
    let borrower = service.customer_token(Uuid::new_v4());
    let refused = service.graphql(Some(&borrower), AWAITING, json!({})).await;
    assert!(
        refused["data"]["moneyMovementsAwaitingProvider"].is_null(),
        "{refused}"
    );

    service.providers.set_unreachable(false);
    service.wait_for_status(loan, "ACTIVE").await;
    let cleared = tenor_platform::testing::wait_for(async || {
        gauge(&service, STALLED, "payout").await == Some(0.0)
    })
    .await;
    assert!(cleared);
    assert_eq!(gauge(&service, STALLED_OLDEST, "payout").await, Some(0.0));
    assert!(awaiting(&service, &staff).await.is_empty());
    assert_eq!(
        service.providers.payout.ledger.effects(),
        1,
        "paid out once"
    );
}
