//! Money moved through a provider: the principal paid out at disbursement, a repayment
//! collected from the borrower. Each is recorded as an intent before the provider is called, so
//! the call happens outside any transaction and a crash can be finished later
//! (the flow is in `service/money_movement.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

tenor_platform::text_enum! {
    /// Which way the money goes (`loan_money_movements.kind`).
    pub enum MovementKind {
        /// The principal, to the borrower.
        Payout = "PAYOUT",
        /// A repayment, from the borrower.
        Collection = "COLLECTION",
    }
}

tenor_platform::text_enum! {
    /// Where an intent is (`loan_money_movements.status`).
    pub enum MovementStatus {
        /// Recorded; the provider may or may not have been called yet.
        Requested = "REQUESTED",
        /// The provider moved the money and the loan reflects it.
        Succeeded = "SUCCEEDED",
        /// The provider declined; nothing moved.
        Failed = "FAILED",
    }
}

/// One intent to move money, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyMovement {
    pub id: Uuid,
    pub loan_id: Uuid,
    pub kind: MovementKind,
    pub status: MovementStatus,
    pub amount: i64,
    /// What the provider is told: calling again with it is the same payout or charge.
    pub provider_key: String,
    /// The borrower's idempotency key of a payment; none for a payout.
    pub request_key: Option<String>,
    /// The staff member who disbursed, or the borrower who paid.
    pub requested_by: Uuid,
    /// The business date of the request: the disbursement date, or the date a payment counts on.
    pub business_date: NaiveDate,
    pub provider_reference: Option<String>,
    pub failure: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl MoneyMovement {
    /// A new intent; its id doubles as the provider's idempotency key (unique across loans and
    /// kinds, and never reused after a decline, so a retried disbursement is a new attempt).
    pub fn request(
        loan_id: Uuid,
        kind: MovementKind,
        amount: i64,
        request_key: Option<&str>,
        requested_by: Uuid,
        business_date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Self {
        let id = Uuid::now_v7();
        Self {
            id,
            loan_id,
            kind,
            status: MovementStatus::Requested,
            amount,
            provider_key: format!("{}-{}", kind.as_db().to_ascii_lowercase(), id.simple()),
            request_key: request_key.map(str::to_owned),
            requested_by,
            business_date,
            provider_reference: None,
            failure: None,
            updated_at: now,
        }
    }
}
