//! Persistence only (diesel-async on PostgreSQL), one file per aggregate or table group. Writes
//! that change a loan run after [`loans::lock`] (`FOR UPDATE`) in the caller's transaction, so
//! concurrent changes to one loan apply one after the other.

pub mod eligibility;
pub mod installments;
pub mod loans;
pub mod movements;
pub mod repayments;
pub mod reviews;
pub mod schema;

/// The partial unique index that keeps one open loan per borrower.
pub const ONE_OPEN_LOAN_INDEX: &str = "loans_one_open_per_user";

/// The partial unique index that keeps one live payout per loan.
pub const ONE_PAYOUT_INDEX: &str = "loan_money_movements_one_payout";
