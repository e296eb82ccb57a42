//! Events about loans, published by loan on `loan.events` (key = loan id, so one loan's events
//! stay ordered). Risk and credit start from `loan.submitted`; notification tells the borrower;
//! every loan process fans `loan.status.changed` out to live subscribers. Amounts are integer
//! rupiah (IDR).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tenor_events::DomainEvent;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LoanStatus {
    Submitted,
    Approved,
    Rejected,
    /// Withdrawn by the borrower before a decision.
    Cancelled,
    Active,
    Paid,
}

/// A borrower applied; credit and risk evaluate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanSubmittedV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: u32,
    pub purpose: String,
    /// Total interest + fees of the quoted schedule.
    pub total_cost: i64,
    pub monthly_installment: i64,
    pub submitted_at: DateTime<Utc>,
}

impl DomainEvent for LoanSubmittedV1 {
    const TYPE: &'static str = "loan.submitted.v1";
}

/// Every status transition, for live subscribers and read models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanStatusChangedV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub status: LoanStatus,
    /// `None` for the first status (SUBMITTED).
    pub previous_status: Option<LoanStatus>,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
}

impl LoanStatusChangedV1 {
    /// The borrower withdrew a SUBMITTED application (`cancelLoan`), with loan's wording. Credit
    /// and risk stop working on it when they read this.
    pub fn cancelled_by_borrower(loan_id: Uuid, user_id: Uuid, changed_at: DateTime<Utc>) -> Self {
        Self {
            loan_id,
            user_id,
            status: LoanStatus::Cancelled,
            previous_status: Some(LoanStatus::Submitted),
            reason: Some(CANCELLED_BY_BORROWER.to_owned()),
            changed_at,
        }
    }
}

/// The `reason` of a borrower's cancellation.
pub const CANCELLED_BY_BORROWER: &str = "cancelled by borrower";

/// The `reason` of a loan withdrawn because its borrower deleted the account before it was paid
/// out (an application made in the moments before the deletion).
pub const CANCELLED_ACCOUNT_DELETED: &str = "account deleted";

impl DomainEvent for LoanStatusChangedV1 {
    const TYPE: &'static str = "loan.status.changed.v1";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanApprovedV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: u32,
    pub score: i32,
    pub reason_codes: Vec<String>,
    pub approved_at: DateTime<Utc>,
}

impl DomainEvent for LoanApprovedV1 {
    const TYPE: &'static str = "loan.approved.v1";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanRejectedV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub score: i32,
    pub reason_codes: Vec<String>,
    pub reason: Option<String>,
    pub rejected_at: DateTime<Utc>,
}

impl DomainEvent for LoanRejectedV1 {
    const TYPE: &'static str = "loan.rejected.v1";
}

/// The money was paid out; the schedule's due dates run from `disbursed_on`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanActivatedV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub payout_reference: String,
    pub disbursed_on: NaiveDate,
    pub first_due_date: NaiveDate,
    pub activated_at: DateTime<Utc>,
}

impl DomainEvent for LoanActivatedV1 {
    const TYPE: &'static str = "loan.activated.v1";
}

/// Every installment is paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanPaidV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub total_paid: i64,
    pub paid_at: DateTime<Utc>,
}

impl DomainEvent for LoanPaidV1 {
    const TYPE: &'static str = "loan.paid.v1";
}

/// An installment falls due soon (reminder), published by the daily job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanInstallmentDueV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub installment_number: u32,
    pub due_date: NaiveDate,
    /// What is still owed on it.
    pub amount_due: i64,
}

impl DomainEvent for LoanInstallmentDueV1 {
    const TYPE: &'static str = "loan.installment.due.v1";
}

/// An installment passed its due date unpaid, published by the daily job once per installment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanInstallmentOverdueV1 {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub installment_number: u32,
    pub due_date: NaiveDate,
    pub amount_due: i64,
    pub days_past_due: u32,
}

impl DomainEvent for LoanInstallmentOverdueV1 {
    const TYPE: &'static str = "loan.installment.overdue.v1";
}

#[cfg(test)]
mod tests {
    use tenor_events::Envelope;

    use super::*;

    /// Subscribers in every loan process and notification read this: pin the wire names.
    #[test]
    fn status_changed_wire_form_is_stable() {
        let event = LoanStatusChangedV1 {
            loan_id: Uuid::nil(),
            user_id: Uuid::max(),
            status: LoanStatus::Approved,
            previous_status: Some(LoanStatus::Submitted),
            reason: None,
            changed_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "loan_id": "00000000-0000-0000-0000-000000000000",
                "user_id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "status": "APPROVED",
                "previous_status": "SUBMITTED",
                "reason": null,
                "changed_at": "2027-01-15T08:00:00Z",
            })
        );
        let envelope = Envelope::new("/tenor/loan", "x", &event, None).unwrap();
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.decode::<LoanStatusChangedV1>().unwrap(), event);
    }

    #[test]
    fn submitted_and_overdue_round_trip() {
        let submitted = LoanSubmittedV1 {
            loan_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            amount: 5_000_000,
            tenor_months: 6,
            purpose: "modal usaha".into(),
            total_cost: 1_250_000,
            monthly_installment: 1_041_666,
            submitted_at: Utc::now(),
        };
        let envelope = Envelope::new("/tenor/loan", "x", &submitted, None).unwrap();
        assert_eq!(envelope.event_type(), "loan.submitted.v1");
        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.decode::<LoanSubmittedV1>().unwrap(), submitted);
        let overdue = LoanInstallmentOverdueV1 {
            loan_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            installment_number: 2,
            due_date: NaiveDate::from_ymd_opt(2027, 2, 28).unwrap(),
            amount_due: 100,
            days_past_due: 1,
        };
        let json = serde_json::to_value(&overdue).unwrap();
        assert_eq!(json["due_date"], "2027-02-28");
        assert_eq!(
            serde_json::from_value::<LoanInstallmentOverdueV1>(json).unwrap(),
            overdue
        );
    }
}
