//! The loan rules, pure: no pool, no Kafka, no async. Each file is one concept; the service
//! orders them around the store.
//!
//! [`loan`] (the status machine and the loan as stored) · [`application`] (what an application
//! must satisfy) · [`eligibility`] (who may apply, from the kyc/user projections) ·
//! [`product`] and [`schedule`] (price, limits and installments, docs/conventions.md § Loan maths)
//! · [`repayment`] (allocating a payment) · [`money_movement`] (payouts and collections through a
//! provider) · [`refusal`] (every way the rules say no).

pub mod application;
pub mod eligibility;
pub mod loan;
pub mod money_movement;
pub mod product;
pub mod refusal;
pub mod repayment;
pub mod schedule;

pub use loan::{Loan, LoanFilter, LoanStatus, ReviewSource};
pub use refusal::LoanRefusal;
pub use repayment::{Allocation, InstallmentState};
