//! The app's dashboard (`schema/operations/Dashboard.graphql`: `me` with its KYC status, the
//! borrower's loans with their installments and what is outstanding — user, kyc and loan) costs
//! each subgraph the same number of SQL statements however many loans and installments it
//! returns: every field on the path loads through a DataLoader, one query per batch
//! (docs/conventions.md § API conventions).
//!
//! Counted where the statements are sent: each subgraph's pooled connections count theirs into
//! `tenor_db_statements_total{database, origin}` (`tenor_platform::db`), and the test reads the
//! `origin="request"` series of each subgraph's own database before and after one dashboard,
//! so the subgraphs' background work (outbox relays, consumers) does not blur the count.

use serde_json::{Value, json};
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_events::Envelope;
use tenor_harness::journeys::{apply_when_eligible, eligible_customer};
use tenor_harness::{Account, RouterStack, Yaml, eventually, set, yaml};
use tenor_mobile::{Dashboard, MobileClient, dashboard};
use uuid::Uuid;

/// The most statements one dashboard may cost each subgraph, whatever it returns: one per
/// loader batch on the path (user: the profile; kyc: the latest submission; loan: the
/// borrower's loans, then their schedules).
const BOUND: [(&str, u64); 3] = [("user", 1), ("kyc", 1), ("loan", 2)];

/// Loans the second borrower has: all but the last paid off, the last running.
const MANY: usize = 4;
/// Every application's tenor (harness `apply_when_eligible`): installments per loan.
const TENOR: usize = 6;

#[tokio::test]
async fn the_dashboard_costs_the_same_statements_for_one_loan_and_for_many() {
    let stack = RouterStack::start_with(dashboard_within_budget).await;
    let staff = stack.staff(&["loan:operate"]).await;
    let staff = stack.router.login(&staff).await;

    let one = eligible_customer(&stack).await;
    borrow(&stack, &one, &staff, Ending::Running).await;
    let many = eligible_customer(&stack).await;
    for _ in 1..MANY {
        borrow(&stack, &many, &staff, Ending::PaidOff).await;
    }
    borrow(&stack, &many, &staff, Ending::Running).await;

    let (one_loan, one_loan_cost) = dashboard(&stack, &one.1).await;
    let (many_loans, many_loans_cost) = dashboard(&stack, &many.1).await;

    // What each dashboard showed: the counts below are for these.
    let installments = |me: &dashboard::DashboardMe| -> usize {
        me.loans.iter().map(|loan| loan.installments.len()).sum()
    };
    assert_eq!(one_loan.loans.len(), 1, "{one_loan:?}");
    assert_eq!(installments(&one_loan), TENOR);
    assert_eq!(many_loans.loans.len(), MANY, "{many_loans:?}");
    assert_eq!(installments(&many_loans), MANY * TENOR);
    assert!(many_loans.kyc.is_some() && one_loan.kyc.is_some());
    let outstanding: Vec<i64> = many_loans.loans.iter().map(|l| l.outstanding).collect();
    assert!(outstanding[0] > 0, "the newest loan runs: {outstanding:?}");
    assert!(outstanding[1..].iter().all(|&o| o == 0), "{outstanding:?}");

    eprintln!(
        "statements per subgraph, 1 loan: {one_loan_cost:?}; {MANY} loans: {many_loans_cost:?}"
    );
    for (subgraph, bound) in BOUND {
        let one = one_loan_cost[subgraph];
        let many = many_loans_cost[subgraph];
        assert!(
            one > 0,
            "{subgraph}: no statement counted (is the counter wired?)"
        );
        assert_eq!(
            many, one,
            "{subgraph}: {many} statements for {MANY} loans, {one} for one: a query per item"
        );
        assert!(
            many <= bound,
            "{subgraph}: {many} statements, at most {bound} expected"
        );
    }
}

/// The router prices an `_entities` fetch as `default_list_size` entities, each list that long
/// too: with the committed 50, the dashboard's loan fetch (users × loans × installments) is
/// estimated at 50 × (1 + 50 × 51) = 127 550 — refused (`COST_ESTIMATED_TOO_EXPENSIVE`) though
/// it carries one user. Loan's lists are short (a schedule has at most 12 installments,
/// `MAX_TENOR_MONTHS`; a borrower has few loans), so loan is priced with 12: 12 × (1 + 12 × 13)
/// = 1 884.
fn dashboard_within_budget(config: &mut Yaml) {
    set(
        config,
        "demand_control.default_list_size.subgraphs",
        yaml(json!({ "loan": 12 })),
    );
}

/// One dashboard as the app sends it (persisted document) and what it cost each subgraph.
async fn dashboard(
    stack: &RouterStack,
    token: &str,
) -> (
    dashboard::DashboardMe,
    std::collections::HashMap<&'static str, u64>,
) {
    let app = MobileClient::new(stack.router.graphql_url()).signed_in(token);
    let before = request_statements(stack).await;
    let me = app
        .run::<Dashboard>(dashboard::Variables)
        .await
        .data()
        .me
        .expect("the signed-in borrower");
    let after = request_statements(stack).await;
    let cost = BOUND
        .iter()
        .map(|(subgraph, _)| (*subgraph, after[subgraph] - before[subgraph]))
        .collect();
    (me, cost)
}

/// `tenor_db_statements_total{origin="request"}` of each subgraph's database (the subgraphs run
/// in one process here, so one `/metrics` page has them all).
async fn request_statements(stack: &RouterStack) -> std::collections::HashMap<&'static str, u64> {
    let mut counts = std::collections::HashMap::new();
    for (subgraph, url) in stack.subgraphs.database_urls() {
        let database = url.rsplit('/').next().unwrap().split('?').next().unwrap();
        let count =
            tenor_platform::testing::request_statements(&stack.subgraphs.user_url, database).await;
        counts.insert(subgraph, count);
    }
    counts
}

enum Ending {
    /// Disbursed, installments running.
    Running,
    /// Disbursed and repaid in full.
    PaidOff,
}

/// One loan for the token's owner: applied for, approved by credit, disbursed by staff, and
/// repaid when `ending` says so.
async fn borrow(
    stack: &RouterStack,
    (borrower, token): &(Account, String),
    staff: &str,
    ending: Ending,
) {
    let key = Uuid::new_v4().to_string();
    let applied = apply_when_eligible(stack, token, &key).await;
    assert_eq!(applied["userErrors"], json!([]), "{applied}");
    let loan = applied["loan"]["id"].as_str().unwrap().to_owned();
    approve(stack, &loan, borrower.user_id).await;
    wait_for(stack, token, &loan, "APPROVED").await;

    let disbursed = stack
        .gql(
            "mutation DisburseLoan($id: ID!) { disburseLoan(id: $id) { userErrors { code message } } }",
            json!({ "id": loan }),
            Some(staff),
        )
        .await;
    assert_eq!(
        disbursed["data"]["disburseLoan"]["userErrors"],
        json!([]),
        "{disbursed}"
    );
    wait_for(stack, token, &loan, "ACTIVE").await;
    if let Ending::PaidOff = ending {
        let outstanding = loan_of(stack, token, &loan).await["outstanding"]
            .as_i64()
            .unwrap();
        let paid = stack
            .gql(
                "mutation PayInstallment($loan: ID!, $amount: Int!, $key: String!) { payInstallment(loanId: $loan, amount: $amount, idempotencyKey: $key) { userErrors { code message } } }",
                json!({ "loan": loan, "amount": outstanding, "key": Uuid::new_v4().to_string() }),
                Some(token),
            )
            .await;
        assert_eq!(
            paid["data"]["payInstallment"]["userErrors"],
            json!([]),
            "{paid}"
        );
        wait_for(stack, token, &loan, "PAID").await;
    }
}

/// Credit's approval, published the way credit's relay would.
async fn approve(stack: &RouterStack, loan: &str, user: Uuid) {
    let event = CreditDecisionMadeV1 {
        decision_id: Uuid::new_v4(),
        loan_id: Uuid::parse_str(loan).unwrap(),
        user_id: user,
        decision: CreditDecision::Approved,
        score: 720,
        reason_codes: vec!["SCORE_ABOVE_THRESHOLD".into()],
        reason: Some("policy".into()),
        source: CreditDecisionSource::Automatic,
        decided_by: None,
        decided_at: chrono::Utc::now(),
        reviews_decision: None,
    };
    let envelope = Envelope::new("/tenor/credit", loan, &event, None).unwrap();
    tenor_events::testing::publish(&stack.subgraphs.topics.credit, &envelope).await;
}

async fn loan_of(stack: &RouterStack, token: &str, loan: &str) -> Value {
    let response = stack
        .gql(
            "query LoanState($id: ID!) { loan(id: $id) { status outstanding } }",
            json!({ "id": loan }),
            Some(token),
        )
        .await;
    response["data"]["loan"].clone()
}

async fn wait_for(stack: &RouterStack, token: &str, loan: &str, status: &str) {
    eventually(async || loan_of(stack, token, loan).await["status"] == status).await;
}
