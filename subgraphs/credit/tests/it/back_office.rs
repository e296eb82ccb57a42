//! Staff with `credit:decide`: the review queue, manual scores, decisions, maker-checker, and
//! the scopes every field insists on.

use std::time::Duration;

use serde_json::{Value, json};
use tenor_contracts::credit::{CreditDecision, CreditDecisionSource};
use tenor_contracts::loan::LoanStatusChangedV1;
use tenor_credit::testing::*;
use uuid::Uuid;

pub const RECORD: &str = "mutation($input: RecordManualScoreInput!) {
    recordManualScore(input: $input) {
        assessment { decision scores { source score mandatory recordedBy } }
        userErrors { code field message }
    }
}";

pub const DECIDE: &str = "mutation($input: DecideLoanInput!) {
    decideLoan(input: $input) {
        assessment { decision decisionSource decidedBy reasonCodes queueReason humanReviewStatus }
        userErrors { code field message }
    }
}";

pub const QUEUE: &str = "query($first: Int, $after: String) {
    creditReviewQueue(first: $first, after: $after) {
        edges { cursor node { loanId queueReason decision } }
        pageInfo { hasNextPage endCursor }
    }
}";

pub async fn decide(
    service: &TestService,
    staff: Uuid,
    loan: Uuid,
    decision: &str,
    code: &str,
) -> Value {
    let token = service.staff_token(staff);
    let response = service
        .graphql(
            Some(&token),
            DECIDE,
            json!({ "input": { "loanId": loan, "decision": decision, "reasonCode": code, "note": "checked payslips" } }),
        )
        .await;
    response["data"]["decideLoan"].clone()
}

async fn record(service: &TestService, staff: Uuid, loan: Uuid, score: i32, reason: &str) -> Value {
    let token = service.staff_token(staff);
    let response = service
        .graphql(
            Some(&token),
            RECORD,
            json!({ "input": { "loanId": loan, "score": score, "reason": reason } }),
        )
        .await;
    response["data"]["recordManualScore"].clone()
}

pub async fn queue_loans(service: &TestService) -> Vec<String> {
    let token = service.staff_token(Uuid::new_v4());
    let response = service
        .graphql(Some(&token), QUEUE, json!({ "first": 100 }))
        .await;
    response["data"]["creditReviewQueue"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|e| e["node"]["loanId"].as_str().unwrap().to_owned())
        .collect()
}

/// A loan of a fresh borrower decided automatically with risk's `normalized` score.
pub async fn decided_loan(service: &TestService, amount: i64, normalized: i32) -> (Uuid, Uuid) {
    let user = service.verified_borrower().await;
    let loan = service.submit_loan(user, amount, 6).await;
    service.risk_evaluated(&loan, normalized, 1, 1).await;
    service.decided(loan.loan_id).await;
    (user, loan.loan_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_referral_is_decided_once_by_staff() {
    let service = TestService::start().await;
    let (user, loan) = decided_loan(&service, 5_000_000, 600).await;
    assert!(queue_loans(&service).await.contains(&loan.to_string()));
    let staff = Uuid::new_v4();

    let decided = decide(&service, staff, loan, "APPROVE", "INCOME_VERIFIED").await;
    assert_eq!(decided["userErrors"], json!([]), "{decided}");
    let assessment = &decided["assessment"];
    assert_eq!(assessment["decision"], "APPROVE");
    assert_eq!(assessment["decisionSource"], "MANUAL");
    assert_eq!(assessment["decidedBy"], staff.to_string());
    assert_eq!(assessment["reasonCodes"], json!(["INCOME_VERIFIED"]));
    assert!(assessment["queueReason"].is_null());
    assert!(!queue_loans(&service).await.contains(&loan.to_string()));

    // Twice: refused, and nothing more is published.
    let again = decide(&service, Uuid::new_v4(), loan, "REJECT", "CHANGED_MIND").await;
    assert_eq!(user_error_codes(&again), ["ALREADY_DECIDED"]);
    let events = service
        .decision_events(loan, 1, Duration::from_secs(6))
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.decision, CreditDecision::Approved);
    assert_eq!(event.source, CreditDecisionSource::Manual);
    assert_eq!(event.decided_by, Some(staff));
    assert_eq!(event.user_id, user);
    assert_eq!(event.reviews_decision, None);
    let row = service.score(loan).await.unwrap();
    assert_eq!(row.decision.as_db(), "APPROVE");
    assert_eq!(
        service.decisions(loan).await.len(),
        2,
        "REFER then the staff decision"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whoever_records_the_manual_score_cannot_decide() {
    let service = TestService::start().await;
    // Above the manual-score limit: referred until a person scores it.
    let (_, loan) = decided_loan(&service, 25_000_000, 780).await;
    let row = service.score(loan).await.unwrap();
    assert!(row.manual_mandatory);
    assert_eq!(row.queue_reason.as_deref(), Some("MANUAL_SCORE_REQUIRED"));
    let (maker, checker) = (Uuid::new_v4(), Uuid::new_v4());

    let early = decide(&service, checker, loan, "APPROVE", "MANUAL_APPROVAL").await;
    assert_eq!(user_error_codes(&early), ["MANUAL_SCORE_REQUIRED"]);

    let recorded = record(
        &service,
        maker,
        loan,
        710,
        "Payslips and bank statements checked",
    )
    .await;
    assert_eq!(recorded["userErrors"], json!([]), "{recorded}");
    let manual = recorded["assessment"]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "MANUAL")
        .unwrap()
        .clone();
    assert_eq!(manual["score"], 710);
    assert_eq!(manual["mandatory"], true);
    assert_eq!(manual["recordedBy"], maker.to_string());
    let twice = record(&service, checker, loan, 600, "second opinion").await;
    assert_eq!(user_error_codes(&twice), ["MANUAL_SCORE_ALREADY_RECORDED"]);

    let own = decide(&service, maker, loan, "APPROVE", "MANUAL_APPROVAL").await;
    assert_eq!(user_error_codes(&own), ["MAKER_CHECKER"]);
    assert_eq!(service.score(loan).await.unwrap().decision.as_db(), "REFER");

    let checked = decide(&service, checker, loan, "REJECT", "AFFORDABILITY").await;
    assert_eq!(checked["userErrors"], json!([]), "{checked}");
    let events = service
        .decision_events(loan, 1, Duration::from_secs(6))
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].decision, CreditDecision::Rejected);
    assert_eq!(events[0].decided_by, Some(checker));
    let after = record(&service, checker, loan, 700, "too late").await;
    assert_eq!(user_error_codes(&after), ["ALREADY_DECIDED"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_is_refused_and_changes_nothing() {
    let service = TestService::start().await;
    let (_, loan) = decided_loan(&service, 5_000_000, 600).await;
    let staff = Uuid::new_v4();
    let out_of_range = record(&service, staff, loan, 900, "fine").await;
    assert_eq!(user_error_codes(&out_of_range), ["SCORE_OUT_OF_RANGE"]);
    let both = record(&service, staff, loan, 100, "   ").await;
    assert_eq!(
        user_error_codes(&both),
        ["SCORE_OUT_OF_RANGE", "REASON_INVALID"]
    );
    let unknown = record(&service, staff, Uuid::now_v7(), 700, "fine").await;
    assert_eq!(user_error_codes(&unknown), ["NOT_FOUND"]);
    // What a reviewer reads later must be what was typed: no bidi overrides, invisible or
    // control characters (platform text policy), each refused with its field's code.
    for hostile in ["gaji \u{202e}ok", "slip\u{200b}", "ok\u{0}", "\u{feff}"] {
        let reason = record(&service, staff, loan, 700, hostile).await;
        assert_eq!(
            user_error_codes(&reason),
            ["REASON_INVALID"],
            "{hostile:?}: {reason}"
        );
        let token = service.staff_token(staff);
        let noted = service
            .graphql(
                Some(&token),
                DECIDE,
                json!({ "input": { "loanId": loan, "decision": "APPROVE", "reasonCode": "INCOME_VERIFIED", "note": hostile } }),
            )
            .await;
        let noted = &noted["data"]["decideLoan"];
        assert_eq!(
            user_error_codes(noted),
            ["NOTE_INVALID"],
            "{hostile:?}: {noted}"
        );
    }
    let bad_code = decide(&service, staff, loan, "APPROVE", "not a code").await;
    assert_eq!(user_error_codes(&bad_code), ["REASON_CODE_INVALID"]);
    let token = service.staff_token(staff);
    let garbage = service
        .graphql(
            Some(&token),
            DECIDE,
            json!({ "input": { "loanId": "not-a-uuid", "decision": "APPROVE", "reasonCode": "OK_CODE" } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&garbage["data"]["decideLoan"]),
        ["NOT_FOUND"]
    );
    let row = service.score(loan).await.unwrap();
    assert_eq!(row.decision.as_db(), "REFER");
    assert_eq!(row.manual_score, None);
    assert_eq!(service.decisions(loan).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_field_insists_on_its_scope() {
    let service = TestService::start().await;
    let (user, loan) = decided_loan(&service, 5_000_000, 600).await;
    let customer = service.token(user, "loan:apply kyc:submit");
    let someone = Uuid::new_v4();

    for scopes in ["credit:decide", "risk:read"] {
        let token = service.token(someone, scopes);
        let response = service.assessments(Some(&token), &[loan]).await;
        let assessment = &response["data"]["_entities"][0]["creditAssessment"];
        assert_eq!(assessment["decision"], "REFER", "{scopes}: {response}");
    }
    let refused = service.assessments(Some(&customer), &[loan]).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert!(refused["data"]["_entities"][0]["creditAssessment"].is_null());
    let anonymous = service.assessments(None, &[loan]).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

    let risk_only = service.token(someone, "risk:read");
    let queue = service.graphql(Some(&risk_only), QUEUE, json!({})).await;
    assert_eq!(error_code(&queue), "FORBIDDEN", "{queue}");
    assert!(queue["data"]["creditReviewQueue"].is_null());
    for token in [&risk_only, &customer] {
        let response = service
            .graphql(
                Some(token),
                DECIDE,
                json!({ "input": { "loanId": loan, "decision": "APPROVE", "reasonCode": "SELF_SERVICE" } }),
            )
            .await;
        assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
        let response = service
            .graphql(
                Some(token),
                RECORD,
                json!({ "input": { "loanId": loan, "score": 850, "reason": "me" } }),
            )
            .await;
        assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    }
    let row = service.score(loan).await.unwrap();
    assert_eq!(row.decision.as_db(), "REFER");
    assert_eq!(row.manual_score, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_queue_pages_oldest_first() {
    let service = TestService::start().await;
    let mut referred = vec![];
    for _ in 0..3 {
        referred.push(decided_loan(&service, 5_000_000, 600).await.1.to_string());
    }
    let token = service.staff_token(Uuid::new_v4());
    let mut seen = vec![];
    let mut after: Option<String> = None;
    loop {
        let response = service
            .graphql(Some(&token), QUEUE, json!({ "first": 2, "after": after }))
            .await;
        let page = &response["data"]["creditReviewQueue"];
        for edge in page["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
        {
            assert_eq!(edge["node"]["queueReason"], "SCORE_IN_REVIEW_BAND");
            seen.push(edge["node"]["loanId"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, referred);
    let too_many = service
        .graphql(Some(&token), QUEUE, json!({ "first": 101 }))
        .await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");
}

/// The borrower cancels an application (loan publishes `loan.status.changed` CANCELLED).
async fn cancel(service: &TestService, user: Uuid, loan: Uuid) {
    let cancelled = LoanStatusChangedV1::cancelled_by_borrower(loan, user, chrono::Utc::now());
    service
        .publish(&service.topics.loan, loan, &cancelled)
        .await;
}

async fn withdrawn(service: &TestService, loan: Uuid) -> bool {
    tenor_platform::testing::wait_for(async || {
        service
            .score(loan)
            .await
            .is_some_and(|s| s.decision.as_db() == "WITHDRAWN")
    })
    .await
}

/// A referred application the borrower cancels leaves the review queue, and staff cannot score
/// or decide it any more: nothing would apply (loan drops a decision for a cancelled loan).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_referral_the_borrower_withdraws_leaves_the_queue() {
    let service = TestService::start().await;
    let (user, loan) = decided_loan(&service, 5_000_000, 600).await;
    assert!(queue_loans(&service).await.contains(&loan.to_string()));

    cancel(&service, user, loan).await;
    assert!(
        withdrawn(&service, loan).await,
        "{:?}",
        service.score(loan).await
    );
    assert!(!queue_loans(&service).await.contains(&loan.to_string()));
    let decided = decide(&service, Uuid::new_v4(), loan, "APPROVE", "INCOME_VERIFIED").await;
    assert_eq!(user_error_codes(&decided), ["LOAN_WITHDRAWN"], "{decided}");
    let scored = record(&service, Uuid::new_v4(), loan, 700, "payslips").await;
    assert_eq!(user_error_codes(&scored), ["LOAN_WITHDRAWN"], "{scored}");
    let events = service
        .decision_events(loan, 0, Duration::from_secs(3))
        .await;
    assert!(events.is_empty(), "{events:?}");
}

/// An application cancelled while credit still waits for an input is never decided: risk's
/// answer arriving afterwards changes nothing, and the borrower hears of no review.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_application_withdrawn_before_its_inputs_is_never_decided() {
    let service = TestService::start().await;
    let user = service.verified_borrower().await;
    let loan = service.submit_loan(user, 5_000_000, 6).await;
    assert!(
        tenor_platform::testing::wait_for(async || service.score(loan.loan_id).await.is_some())
            .await
    );
    cancel(&service, user, loan.loan_id).await;
    assert!(withdrawn(&service, loan.loan_id).await);

    // A borderline answer that would refer it, then a sweep.
    service.risk_evaluated(&loan, 600, 1, 1).await;
    assert!(
        tenor_platform::testing::wait_for(async || service.risk_stored(loan.loan_id).await).await
    );
    let row = service.score(loan.loan_id).await.unwrap();
    assert_eq!(row.decision.as_db(), "WITHDRAWN", "{row:?}");
    assert!(service.decisions(loan.loan_id).await.is_empty());
    let referrals = service
        .referral_events(loan.loan_id, 0, Duration::from_secs(3))
        .await;
    assert!(referrals.is_empty(), "{referrals:?}");
}
