//! Automatic decisions from credit's input events: every outcome of the rules, table-driven,
//! plus risk's answer arriving first, a failed evaluation and inputs that never come.

use std::time::Duration;

use futures::future::join_all;
use tenor_contracts::credit::{CreditDecision, CreditDecisionSource};
use tenor_credit::testing::*;
use uuid::Uuid;

#[derive(Clone, Copy, Debug)]
enum Borrower {
    /// Registered today, KYC verified, no history.
    Fresh,
    KycMissing,
    Blocked,
    /// A previous Tenor loan has an overdue installment.
    Overdue,
}

#[derive(Clone, Copy, Debug)]
enum Risk {
    /// normalized score, worst collectability, active platforms
    Evaluated(i32, u8, u32),
    Failed,
}

struct Case {
    name: &'static str,
    borrower: Borrower,
    risk: Risk,
    decision: &'static str,
    codes: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "approve",
        borrower: Borrower::Fresh,
        risk: Risk::Evaluated(780, 1, 1),
        decision: "APPROVE",
        codes: &["SCORE_ABOVE_THRESHOLD"],
    },
    Case {
        name: "reject by score",
        borrower: Borrower::Fresh,
        risk: Risk::Evaluated(420, 1, 1),
        decision: "REJECT",
        codes: &["SCORE_BELOW_THRESHOLD"],
    },
    Case {
        name: "refer in the review band",
        borrower: Borrower::Fresh,
        risk: Risk::Evaluated(600, 1, 1),
        decision: "REFER",
        codes: &["SCORE_IN_REVIEW_BAND"],
    },
    Case {
        name: "bureau delinquent",
        borrower: Borrower::Fresh,
        risk: Risk::Evaluated(780, 3, 1),
        decision: "REJECT",
        codes: &["BUREAU_DELINQUENT"],
    },
    Case {
        name: "too many platforms",
        borrower: Borrower::Fresh,
        risk: Risk::Evaluated(700, 1, 6),
        decision: "REJECT",
        codes: &["TOO_MANY_PLATFORMS"],
    },
    Case {
        name: "kyc not verified",
        borrower: Borrower::KycMissing,
        risk: Risk::Evaluated(780, 1, 1),
        decision: "REJECT",
        codes: &["KYC_NOT_VERIFIED"],
    },
    Case {
        name: "account not active",
        borrower: Borrower::Blocked,
        risk: Risk::Evaluated(780, 1, 1),
        decision: "REJECT",
        codes: &["ACCOUNT_NOT_ACTIVE"],
    },
    Case {
        name: "tenor loan overdue",
        borrower: Borrower::Overdue,
        risk: Risk::Evaluated(780, 1, 1),
        decision: "REJECT",
        codes: &["TENOR_LOAN_OVERDUE"],
    },
    Case {
        name: "risk evaluation failed",
        borrower: Borrower::Fresh,
        risk: Risk::Failed,
        decision: "REFER",
        codes: &["RISK_EVALUATION_FAILED"],
    },
];

async fn borrower(service: &TestService, kind: Borrower) -> Uuid {
    match kind {
        Borrower::Fresh => service.verified_borrower().await,
        Borrower::KycMissing => service.registered_borrower().await,
        Borrower::Blocked => {
            let user = service.verified_borrower().await;
            service.block_account(user).await;
            user
        }
        Borrower::Overdue => {
            let user = service.verified_borrower().await;
            service.overdue_loan(user).await;
            user
        }
    }
}

async fn run_case(service: &TestService, case: &Case) {
    let user = borrower(service, case.borrower).await;
    let loan = service.submit_loan(user, 5_000_000, 6).await;
    match case.risk {
        Risk::Evaluated(score, collectability, platforms) => {
            service
                .risk_evaluated(&loan, score, collectability, platforms)
                .await;
        }
        Risk::Failed => {
            service.risk_failed(&loan).await;
        }
    }
    let row = service.decided(loan.loan_id).await;
    let name = case.name;
    assert_eq!(row.decision.as_db(), case.decision, "{name}: {row:?}");
    assert_eq!(row.reason_codes, case.codes, "{name}");
    assert_eq!(row.rules_version, "2026-12-01", "{name}");
    assert_eq!(row.decision_source.map(|s| s.as_db()), Some("AUTOMATIC"));
    let automatic = service.decisions(loan.loan_id).await;
    assert_eq!(automatic.len(), 1, "{name}: one decision row");
    assert_eq!(
        automatic[0].inputs["amount"], 5_000_000,
        "{name}: inputs stored"
    );

    let expected = match case.decision {
        "APPROVE" => Some(CreditDecision::Approved),
        "REJECT" => Some(CreditDecision::Rejected),
        _ => None,
    };
    // Read until one more than expected could have arrived: exactly the expected number did.
    let wanted = usize::from(expected.is_some());
    let events = service
        .decision_events(loan.loan_id, wanted, Duration::from_secs(6))
        .await;
    assert_eq!(events.len(), wanted, "{name}: {events:?}");
    if let Some(decision) = expected {
        let event = &events[0];
        assert_eq!(event.decision, decision, "{name}");
        assert_eq!(event.source, CreditDecisionSource::Automatic);
        assert_eq!(Some(event.decision_id), row.decision_id);
        assert_eq!(event.decision_id.get_version_num(), 7);
        assert_eq!(event.user_id, user);
        assert_eq!(event.reason_codes, case.codes);
        let reason = event.reason.as_deref().unwrap_or_default();
        assert!(
            !reason.is_empty() && !reason.contains(&user.to_string()),
            "{reason}"
        );
        assert_eq!(event.decided_by, None);
        assert_eq!(event.reviews_decision, None);
    } else {
        assert_eq!(row.queue_reason.as_deref(), Some(case.codes[0]), "{name}");
        // No decision, but the borrower is to hear it is being reviewed: one referral.
        let referrals = service
            .referral_events(loan.loan_id, 1, Duration::from_secs(2))
            .await;
        assert_eq!(referrals.len(), 1, "{name}: {referrals:?}");
        let referral = &referrals[0];
        assert_eq!(referral.user_id, user, "{name}");
        assert_eq!(referral.amount, 5_000_000, "{name}");
        assert_eq!(referral.tenor_months, 6, "{name}");
        assert_eq!(referral.reason_codes, case.codes, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_rule_decides_as_the_table_says() {
    let service = TestService::start().await;
    join_all(CASES.iter().map(|case| run_case(&service, case))).await;
    service.assert_replays_match().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fresh_borrower_gets_the_calibrated_scores() {
    let service = TestService::start().await;
    let user = service.verified_borrower().await;
    let loan = service.submit_loan(user, 5_000_000, 6).await;
    service.risk_evaluated(&loan, 780, 1, 1).await;
    let row = service.decided(loan.loan_id).await;
    let internal = row.internal_score.unwrap();
    let external = row.external_score.unwrap();
    assert!((640..=680).contains(&internal), "internal {internal}");
    assert!((640..=740).contains(&external), "external {external}");
    assert_eq!(row.risk_level.as_deref(), Some("LOW"));
    assert!(row.risk_reason.as_deref().unwrap().contains("780"));
    assert!(row.combined_score.unwrap() >= 680);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn risk_arriving_before_the_loan_still_decides() {
    let service = TestService::start().await;
    let user = service.verified_borrower().await;
    let loan = loan_submitted(user, 5_000_000, 6);
    service.risk_evaluated(&loan, 780, 1, 1).await;
    assert!(wait_for(async || service.risk_stored(loan.loan_id).await).await);
    assert!(service.score(loan.loan_id).await.is_none());
    service
        .publish(&service.topics.loan, loan.loan_id, &loan)
        .await;
    let row = service.decided(loan.loan_id).await;
    assert_eq!(row.decision.as_db(), "APPROVE", "{row:?}");
    assert_eq!(row.risk_level.as_deref(), Some("LOW"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inputs_missing_past_the_timeout_go_to_the_queue() {
    let service = TestService::start_with(&[("CREDIT_INPUT_TIMEOUT", "3s")]).await;
    // The score company is down: retried with backoff, never answers.
    service.provider.set_down(true);
    let user = service.verified_borrower().await;
    let no_risk = service.submit_loan(user, 5_000_000, 6).await;
    let other = service.verified_borrower().await;
    let no_external = service.submit_loan(other, 5_000_000, 6).await;
    service.risk_evaluated(&no_external, 780, 1, 1).await;
    for loan in [&no_risk, &no_external] {
        let row = service.decided(loan.loan_id).await;
        assert_eq!(row.decision.as_db(), "REFER", "{row:?}");
        assert_eq!(row.reason_codes, ["MISSING_INPUT"]);
        assert_eq!(row.queue_reason.as_deref(), Some("MISSING_INPUT"));
        assert_eq!(row.external_score, None);
        assert!(row.external_attempts >= 2, "retried: {row:?}");
        let inputs = &service.decisions(loan.loan_id).await[0].inputs;
        assert_eq!(inputs["input_timed_out"], true);
    }
    assert!(service.provider.calls() >= 4);
    // Referred: no decision announced, one referral each.
    let events = service
        .decision_events(no_external.loan_id, 0, Duration::from_secs(3))
        .await;
    assert!(events.is_empty(), "{events:?}");
    for loan in [&no_risk, &no_external] {
        let referrals = service
            .referral_events(loan.loan_id, 1, Duration::from_secs(2))
            .await;
        assert_eq!(referrals.len(), 1, "{referrals:?}");
        assert_eq!(referrals[0].reason_codes, ["MISSING_INPUT"]);
    }
    service.assert_replays_match().await;
}

/// Risk's consumer and loan's can run in two processes at once: the risk answer is committed
/// while the score is being created, and neither transaction sees the other's row. The sweeper
/// finds the answer and decides without waiting for the input timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_risk_answer_committed_concurrently_is_picked_up() {
    use tenor_credit::store::risk_results::{self, RiskResult};

    let service = TestService::start().await;
    let user = service.verified_borrower().await;
    let loan = service.submit_loan(user, 5_000_000, 6).await;
    let waiting = wait_for(async || {
        service
            .score(loan.loan_id)
            .await
            .is_some_and(|s| s.external_score.is_some())
    })
    .await;
    assert!(waiting);
    assert_eq!(
        service.score(loan.loan_id).await.unwrap().decision.as_db(),
        "PENDING"
    );
    // What the other process committed, behind this one's back.
    let risk = risk_evaluated(&loan, 780, 1, 1);
    let mut conn = service.db.pool().get().await.unwrap();
    let stored = risk_results::insert(
        &mut conn,
        &RiskResult {
            loan_id: loan.loan_id,
            credit_score_id: risk.credit_score_id,
            evaluation_id: risk.evaluation_id,
            outcome: "EVALUATED".into(),
            risk_level: Some("LOW".into()),
            normalized_score: Some(780),
            bureau: Some(serde_json::to_value(&risk.bureau).unwrap()),
            reason_code: None,
            vendor_name: risk.vendor_name.clone(),
            rules_version: Some(risk.rules_version.clone()),
            occurred_at: risk.evaluated_at,
            received_at: chrono::Utc::now(),
        },
    )
    .await
    .unwrap();
    assert!(stored);
    let row = service.decided(loan.loan_id).await;
    assert_eq!(row.decision.as_db(), "APPROVE", "{row:?}");
    assert_eq!(row.risk_level.as_deref(), Some("LOW"));
    assert_eq!(
        service.decisions(loan.loan_id).await[0].inputs["input_timed_out"],
        false
    );
}
