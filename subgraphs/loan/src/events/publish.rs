//! The events the loan context publishes, written to the outbox inside the caller's
//! transaction (so a change and its events commit together or not at all).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tenor_contracts::loan::{LoanStatus as WireStatus, LoanStatusChangedV1};
use tenor_contracts::sources;
use tenor_events::{DomainEvent, PublishError};
use uuid::Uuid;

use crate::domain::{Loan, LoanStatus};

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
