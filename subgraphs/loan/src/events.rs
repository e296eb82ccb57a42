//! What the loan context publishes and consumes.
//!
//! Publishes on `loan.events` through the outbox, in the transaction of the change:
//! `loan.submitted`, `loan.approved`, `loan.rejected`, `loan.activated`, `loan.paid`,
//! `loan.status.changed` (every transition), `loan.installment.due`/`.overdue` (daily job).
//!
//! Consumes, in one consumer group through the inbox: `credit.decision.made` (applies the
//! decision, see [`crate::loans::apply_decision`]), `kyc.*` (eligibility projection) and
//! `user.status.changed` (only ACTIVE accounts may apply).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tenor_contracts::credit::CreditDecisionMadeV1;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_contracts::kyc::{KycExpiredV1, KycRejectedV1, KycSubmittedV1, KycVerifiedV1};
use tenor_contracts::loan::{LoanStatus as WireStatus, LoanStatusChangedV1};
use tenor_contracts::sources;
use tenor_events::{DomainEvent, Envelope, HandlerError, TransactionalHandler};
use uuid::Uuid;

use crate::domain::{Loan, LoanStatus};
use crate::loans::{self, DecisionOutcome};
use crate::store;

/// The consumer group, also the handler's name in the inbox.
pub const CONSUMER_GROUP: &str = "tenor-loan";

pub use tenor_events::PublishError;

/// Where this context's events go: the outbox, under `/tenor/loan`, on a topic from
/// configuration (tests use their own).
#[derive(Debug, Clone)]
pub struct Publisher {
    outbox: tenor_events::Publisher,
}

impl Publisher {
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            outbox: tenor_events::Publisher::new(sources::LOAN, topic),
        }
    }

    /// Write `event` about `loan_id` to the outbox (Kafka key = loan id).
    pub async fn publish<E: DomainEvent>(
        &self,
        conn: &mut AsyncPgConnection,
        loan_id: Uuid,
        event: &E,
    ) -> Result<(), PublishError> {
        self.outbox.publish(conn, loan_id, event).await
    }

    /// `loan.status.changed.v1` for a transition of `loan` from `previous`.
    pub async fn status_changed(
        &self,
        conn: &mut AsyncPgConnection,
        loan: &Loan,
        previous: Option<LoanStatus>,
        reason: Option<String>,
        changed_at: DateTime<Utc>,
    ) -> Result<(), PublishError> {
        let event = LoanStatusChangedV1 {
            loan_id: loan.id,
            user_id: loan.user_id,
            status: wire_status(loan.status),
            previous_status: previous.map(wire_status),
            reason,
            changed_at,
        };
        self.publish(conn, loan.id, &event).await
    }
}

pub fn wire_status(status: LoanStatus) -> WireStatus {
    match status {
        LoanStatus::Submitted => WireStatus::Submitted,
        LoanStatus::Approved => WireStatus::Approved,
        LoanStatus::Rejected => WireStatus::Rejected,
        LoanStatus::Cancelled => WireStatus::Cancelled,
        LoanStatus::Active => WireStatus::Active,
        LoanStatus::Paid => WireStatus::Paid,
    }
}

pub fn domain_status(status: WireStatus) -> LoanStatus {
    match status {
        WireStatus::Submitted => LoanStatus::Submitted,
        WireStatus::Approved => LoanStatus::Approved,
        WireStatus::Rejected => LoanStatus::Rejected,
        WireStatus::Cancelled => LoanStatus::Cancelled,
        WireStatus::Active => LoanStatus::Active,
        WireStatus::Paid => LoanStatus::Paid,
    }
}

/// Everything the loan service consumes, in the inbox transaction.
pub struct IncomingEvents {
    publisher: Publisher,
}

impl IncomingEvents {
    pub fn new(publisher: Publisher) -> Self {
        Self { publisher }
    }
}

#[async_trait]
impl TransactionalHandler for IncomingEvents {
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if event.is::<CreditDecisionMadeV1>() {
            let decision: CreditDecisionMadeV1 = event.decode().map_err(HandlerError::permanent)?;
            let outcome = loans::apply_decision(conn, &self.publisher, &decision)
                .await
                .map_err(HandlerError::retryable)?;
            match outcome {
                DecisionOutcome::Applied(status) => {
                    tracing::info!(loan_id = %decision.loan_id, status = status.as_db(), "decision applied");
                }
                DecisionOutcome::Ignored(why) => {
                    tracing::warn!(loan_id = %decision.loan_id, why, "decision ignored");
                }
                DecisionOutcome::UnknownLoan => {
                    return Err(HandlerError::permanent(anyhow::anyhow!(
                        "decision for unknown loan {} (or another borrower's)",
                        decision.loan_id
                    )));
                }
            }
            return Ok(());
        }
        project_eligibility(conn, event).await
    }
}

/// KYC and account-status projections. Each keeps the state of the newest event seen, so a
/// redelivered or late event never reverts a newer state.
async fn project_eligibility(
    conn: &mut AsyncPgConnection,
    event: &Envelope,
) -> Result<(), HandlerError> {
    let decode_error = HandlerError::permanent;
    let result = if event.is::<KycVerifiedV1>() {
        let e: KycVerifiedV1 = event.decode().map_err(decode_error)?;
        store::project_kyc(
            conn,
            e.user_id,
            "VERIFIED",
            Some(e.expires_at),
            e.verified_at,
        )
        .await
    } else if event.is::<KycRejectedV1>() {
        let e: KycRejectedV1 = event.decode().map_err(decode_error)?;
        store::project_kyc(conn, e.user_id, "REJECTED", None, e.rejected_at).await
    } else if event.is::<KycExpiredV1>() {
        let e: KycExpiredV1 = event.decode().map_err(decode_error)?;
        store::project_kyc(conn, e.user_id, "EXPIRED", None, e.expired_at).await
    } else if event.is::<KycSubmittedV1>() {
        // A resubmission after a verification does not withdraw it: only record a submission
        // for someone we know nothing newer about.
        let e: KycSubmittedV1 = event.decode().map_err(decode_error)?;
        match store::kyc_eligibility(conn, e.user_id).await {
            Ok(Some(current)) if current.status == "VERIFIED" => Ok(()),
            Ok(_) => store::project_kyc(conn, e.user_id, "SUBMITTED", None, e.submitted_at).await,
            Err(error) => Err(error),
        }
    } else if event.is::<UserStatusChangedV1>() {
        let e: UserStatusChangedV1 = event.decode().map_err(decode_error)?;
        let status = match e.status {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Inactive => "INACTIVE",
            AccountStatus::Blocked => "BLOCKED",
            AccountStatus::Deleted => "DELETED",
        };
        store::project_user_status(conn, e.user_id, status, e.changed_at).await
    } else {
        // Other events on these topics are none of our business.
        Ok(())
    };
    result.map_err(HandlerError::retryable)
}
