//! The loan as stored and its status machine.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

tenor_platform::text_enum! {
    /// Where a loan is in its life (`loans.status`).
    pub enum LoanStatus {
        Submitted = "SUBMITTED",
        Approved = "APPROVED",
        Rejected = "REJECTED",
        Cancelled = "CANCELLED",
        Active = "ACTIVE",
        Paid = "PAID",
    }
}

impl LoanStatus {
    /// Open loans block a new application (the partial unique index says the same).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitted | Self::Approved | Self::Active)
    }

    /// The transitions the lifecycle allows; anything else is refused or ignored.
    pub fn can_become(self, next: Self) -> bool {
        use LoanStatus::*;
        matches!(
            (self, next),
            (Submitted, Approved | Rejected | Cancelled)
                | (Approved, Active | Cancelled)
                | (Active, Paid)
        )
    }
}

tenor_platform::text_enum! {
    /// Who changed a loan, in `loans_review_history.source`.
    pub enum ReviewSource {
        /// Credit's automatic decision.
        Automatic = "AUTOMATIC",
        /// A credit officer's decision.
        Manual = "MANUAL",
        Borrower = "BORROWER",
        Staff = "STAFF",
    }
}

/// A loan as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    pub id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: u32,
    pub purpose: String,
    pub status: LoanStatus,
    pub total_interest: i64,
    pub total_fee: i64,
    pub monthly_installment: i64,
    pub idempotency_key: String,
    pub credit_score: Option<i32>,
    pub reason_codes: Vec<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub payout_reference: Option<String>,
    pub disbursed_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Loan {
    pub fn total_cost(&self) -> i64 {
        self.total_interest + self.total_fee
    }

    /// The reviewable state before a change, for `loans_review_history.old_value`.
    pub fn snapshot(&self) -> serde_json::Value {
        json!({
            "status": self.status.as_db(),
            "amount": self.amount,
            "tenor_months": self.tenor_months,
            "credit_score": self.credit_score,
            "reason_codes": self.reason_codes,
            "decided_at": self.decided_at,
            "payout_reference": self.payout_reference,
        })
    }
}

/// What the back office searches loans by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoanFilter {
    pub status: Option<LoanStatus>,
    pub user_id: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_transitions() {
        use LoanStatus::*;
        assert!(Submitted.can_become(Approved));
        assert!(Submitted.can_become(Cancelled));
        // Declined before the money goes out; once ACTIVE only repayment ends it.
        assert!(Approved.can_become(Cancelled));
        assert!(!Active.can_become(Cancelled));
        assert!(!Approved.can_become(Rejected));
        assert!(!Rejected.can_become(Approved));
        assert!(!Cancelled.can_become(Approved));
        assert!(Approved.can_become(Active) && Active.can_become(Paid));
        assert!(!Submitted.can_become(Active));
        for s in [Submitted, Approved, Rejected, Cancelled, Active, Paid] {
            assert_eq!(LoanStatus::from_db(s.as_db()), Some(s));
        }
    }
}
