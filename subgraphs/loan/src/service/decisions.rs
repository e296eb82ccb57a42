//! Credit's decision on a SUBMITTED loan, applied inside the consumer's inbox transaction
//! (the loan service never decides itself, docs/conventions.md § Contexts).

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use serde_json::json;
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_contracts::loan::{LoanApprovedV1, LoanRejectedV1};
use tenor_platform::refusal::ServiceError;

use crate::domain::schedule::{due_dates, schedule};
use crate::domain::{LoanStatus, ReviewSource};
use crate::events::Publisher;
use crate::store::reviews::{Review, insert_review};
use crate::store::{installments, loans};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionOutcome {
    Applied(LoanStatus),
    /// A duplicate or late decision for a loan that is no longer waiting for one.
    Ignored(&'static str),
    UnknownLoan,
}

/// Apply credit's decision to a SUBMITTED loan, inside the caller's (inbox) transaction:
/// status, review history, the schedule on approval, and the events. A decision for a loan that
/// already has one (a duplicate with a new event id, a late contradicting decision, a cancelled
/// application) changes nothing.
#[tracing::instrument(skip_all, fields(loan_id = %decision.loan_id, decision_id = %decision.decision_id))]
pub async fn apply_decision(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    decision: &CreditDecisionMadeV1,
) -> Result<DecisionOutcome, ServiceError> {
    let Some(loan) = loans::lock(conn, decision.loan_id).await? else {
        return Ok(DecisionOutcome::UnknownLoan);
    };
    if loan.user_id != decision.user_id {
        return Ok(DecisionOutcome::UnknownLoan);
    }
    let next = match decision.decision {
        CreditDecision::Approved => LoanStatus::Approved,
        CreditDecision::Rejected => LoanStatus::Rejected,
    };
    if !loan.status.can_become(next) || loan.status != LoanStatus::Submitted {
        return Ok(DecisionOutcome::Ignored(
            "loan is no longer waiting for a decision",
        ));
    }
    let now = Utc::now();
    let decided = loans::record_decision(
        conn,
        loan.id,
        loans::Decision {
            status: next,
            score: decision.score,
            reason_codes: &decision.reason_codes,
            reason: decision.reason.as_deref(),
            decided_at: decision.decided_at,
        },
        now,
    )
    .await?;
    let source = match decision.source {
        CreditDecisionSource::Automatic => ReviewSource::Automatic,
        CreditDecisionSource::Manual => ReviewSource::Manual,
    };
    insert_review(
        conn,
        Review {
            loan_id: loan.id,
            old_value: loan.snapshot(),
            new_value: json!({
                "status": decided.status.as_db(),
                "score": decision.score,
                "reason_codes": decision.reason_codes,
                "reason": decision.reason,
                "decided_at": decision.decided_at,
            }),
            score: Some(decision.score),
            source,
            decision_id: Some(decision.decision_id),
            reviewer: decision.decided_by,
        },
    )
    .await?;
    if next == LoanStatus::Approved {
        // The agreement's own terms, not today's product: the schedule the borrower was quoted.
        let terms = loans::terms(conn, loan.id).await?;
        let schedule = schedule(&terms, loan.amount, loan.tenor_months);
        let provisional = due_dates(decision.decided_at.date_naive(), loan.tenor_months);
        installments::insert_schedule(conn, loan.id, &schedule, &provisional).await?;
        let approved = LoanApprovedV1 {
            loan_id: loan.id,
            user_id: loan.user_id,
            amount: loan.amount,
            tenor_months: loan.tenor_months,
            score: decision.score,
            reason_codes: decision.reason_codes.clone(),
            approved_at: now,
        };
        publisher.publish(conn, loan.id, &approved).await?;
    } else {
        let rejected = LoanRejectedV1 {
            loan_id: loan.id,
            user_id: loan.user_id,
            score: decision.score,
            reason_codes: decision.reason_codes.clone(),
            reason: decision.reason.clone(),
            rejected_at: now,
        };
        publisher.publish(conn, loan.id, &rejected).await?;
    }
    publisher
        .status_changed(
            conn,
            &decided,
            Some(loan.status),
            decision.reason.clone(),
            now,
        )
        .await?;
    Ok(DecisionOutcome::Applied(next))
}
