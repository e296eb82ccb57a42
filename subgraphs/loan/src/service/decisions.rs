//! Credit's decision on a SUBMITTED loan, applied inside the consumer's inbox transaction
//! (the loan service never decides itself, docs/conventions.md § Contexts).

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use serde_json::json;
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_contracts::loan::{LoanApprovedV1, LoanRejectedV1};
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use crate::domain::Loan;
use crate::domain::schedule::{due_dates, schedule};
use crate::domain::{LoanStatus, ReviewSource};
use crate::events::Publisher;
use crate::store::reviews::{Review, insert_review, reviews};
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
/// application) changes nothing — except a staff decision on the borrower's request for human
/// review of an automatic rejection ([`reviewable`]): it may approve the rejected loan, or
/// confirm the rejection (recorded and pushed again with the reviewer's reason).
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
    let applicable = match decision.reviews_decision {
        None if loan.status == LoanStatus::Submitted && loan.status.can_become(next) => Ok(()),
        None => Err("loan is no longer waiting for a decision"),
        Some(reviewed) => reviewable(conn, &loan, decision, reviewed, next).await?,
    };
    if let Err(why) = applicable {
        return Ok(DecisionOutcome::Ignored(why));
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

/// Whether a staff decision made on the borrower's request for human review (UU PDP: the right
/// to object to a solely automated decision) may change this loan: only a REJECTED loan, only a
/// MANUAL decision, only one that names the loan's own automatic rejection, once; and an
/// approval only while the borrower has no other open loan (one open loan per borrower). This
/// is the single path by which a decided loan is decided again.
async fn reviewable(
    conn: &mut AsyncPgConnection,
    loan: &Loan,
    decision: &CreditDecisionMadeV1,
    reviewed: Uuid,
    next: LoanStatus,
) -> Result<Result<(), &'static str>, ServiceError> {
    if loan.status != LoanStatus::Rejected || decision.source != CreditDecisionSource::Manual {
        return Ok(Err(
            "a review decision applies only to a rejected loan, by staff",
        ));
    }
    let history = reviews(conn, loan.id).await?;
    let automatic_rejection = history
        .iter()
        .filter(|(source, _, _, value)| {
            source == ReviewSource::Automatic.as_db() && value["status"] == "REJECTED"
        })
        .filter_map(|(_, _, id, _)| *id)
        .next_back();
    if automatic_rejection != Some(reviewed) {
        return Ok(Err(
            "the review names a decision that is not this loan's automatic rejection",
        ));
    }
    let already_reviewed = history
        .iter()
        .any(|(source, _, id, _)| source == ReviewSource::Manual.as_db() && id.is_some());
    if already_reviewed {
        return Ok(Err("this rejection was already reviewed"));
    }
    if next == LoanStatus::Approved
        && loans::of_user(conn, loan.user_id)
            .await?
            .iter()
            .any(|other| other.id != loan.id && other.status.is_open())
    {
        return Ok(Err(
            "the borrower has another open loan; the review cannot approve this one",
        ));
    }
    Ok(Ok(()))
}
