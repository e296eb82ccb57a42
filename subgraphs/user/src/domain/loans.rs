//! What the user context knows of the account's loans: only each loan's status, projected from
//! loan's `loan.status.changed` events, so that an account is not deleted while a loan is open.

use tenor_contracts::loan::LoanStatus;

tenor_platform::text_enum! {
    /// A loan's status as loan last announced it (`user_loan.status`).
    pub enum LoanState {
        Submitted = "SUBMITTED",
        Approved = "APPROVED",
        Rejected = "REJECTED",
        Cancelled = "CANCELLED",
        Active = "ACTIVE",
        Paid = "PAID",
    }
}

impl LoanState {
    /// Still being decided, waiting to be paid out, or owed: the lender needs the borrower's
    /// account and contact data until it ends.
    pub const OPEN: [LoanState; 3] = [Self::Submitted, Self::Approved, Self::Active];
}

impl From<LoanStatus> for LoanState {
    fn from(status: LoanStatus) -> Self {
        match status {
            LoanStatus::Submitted => Self::Submitted,
            LoanStatus::Approved => Self::Approved,
            LoanStatus::Rejected => Self::Rejected,
            LoanStatus::Cancelled => Self::Cancelled,
            LoanStatus::Active => Self::Active,
            LoanStatus::Paid => Self::Paid,
        }
    }
}
