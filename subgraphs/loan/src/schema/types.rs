//! The GraphQL object types, enums and payloads of the loan subgraph. `User.loans` and `Loan`'s
//! schedule fields load through the [`super::loaders`] DataLoaders.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, UserError, auth_error, internal_error};
use uuid::Uuid;

use super::LOAN_OPERATE;
use super::loaders::{BorrowerLoans, Schedules};
use crate::domain::repayment::outstanding;
use crate::domain::{InstallmentState, Loan as LoanRecord};
use crate::events::live::StatusChange;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "LoanStatus", remote = "crate::domain::LoanStatus")]
pub enum LoanStatusGql {
    /// Waiting for credit's decision.
    Submitted,
    /// Approved; waiting for disbursement.
    Approved,
    Rejected,
    /// Withdrawn by the borrower before a decision.
    Cancelled,
    /// Disbursed; installments running.
    Active,
    /// Every installment paid.
    Paid,
}

/// A loan application and, once approved, its schedule. Amounts are whole rupiah (IDR).
pub struct Loan(pub LoanRecord);

#[Object]
impl Loan {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The borrower.
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }

    /// The borrower as an entity: profile fields (name, contact) come from the user subgraph,
    /// KYC from the kyc subgraph, each under its own access rules. Null (with a `FORBIDDEN`
    /// error) where the caller may see the loan but not its borrower's profile.
    // Nullable although every loan has a borrower: the router nulls the entity where the user
    // subgraph refuses it (loan operations staff without `user:admin`), and a non-null field
    // would null the whole loan with it — and every loan of a list beside it.
    async fn user(&self) -> Option<User> {
        Some(User { id: self.0.user_id })
    }

    async fn amount(&self) -> i64 {
        self.0.amount
    }

    async fn tenor_months(&self) -> u32 {
        self.0.tenor_months
    }

    async fn purpose(&self) -> &str {
        &self.0.purpose
    }

    async fn status(&self) -> LoanStatusGql {
        self.0.status.into()
    }

    async fn total_interest(&self) -> i64 {
        self.0.total_interest
    }

    async fn total_fee(&self) -> i64 {
        self.0.total_fee
    }

    /// Interest plus fees: everything beyond the principal.
    async fn total_cost(&self) -> i64 {
        self.0.total_cost()
    }

    async fn total_repayment(&self) -> i64 {
        self.0.amount + self.0.total_cost()
    }

    /// Every installment but the last (which absorbs rounding).
    async fn monthly_installment(&self) -> i64 {
        self.0.monthly_installment
    }

    /// Machine-readable reasons of the credit decision.
    async fn reason_codes(&self) -> &[String] {
        &self.0.reason_codes
    }

    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    async fn disbursed_on(&self) -> Option<NaiveDate> {
        self.0.disbursed_on
    }

    /// The schedule (empty until approved). Due dates are provisional until disbursement.
    async fn installments(&self, ctx: &Context<'_>) -> Result<Vec<Installment>> {
        let schedule = schedule_of(ctx, self.0.id).await?;
        Ok(schedule.into_iter().map(Installment).collect())
    }

    /// What is still owed.
    async fn outstanding(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(outstanding(&schedule_of(ctx, self.0.id).await?))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct Installment(InstallmentState);

#[Object]
impl Installment {
    async fn number(&self) -> u32 {
        self.0.number
    }
    async fn due_date(&self) -> NaiveDate {
        self.0.due_date
    }
    async fn principal_due(&self) -> i64 {
        self.0.principal_due
    }
    async fn interest_due(&self) -> i64 {
        self.0.interest_due
    }
    async fn fee_due(&self) -> i64 {
        self.0.fee_due
    }
    async fn amount_due(&self) -> i64 {
        self.0.amount_due()
    }
    async fn amount_paid(&self) -> i64 {
        self.0.amount_due() - self.0.outstanding()
    }
    async fn outstanding(&self) -> i64 {
        self.0.outstanding()
    }
    /// The date it became fully paid.
    async fn paid_date(&self) -> Option<NaiveDate> {
        self.0.paid_date
    }
    async fn overdue(&self) -> bool {
        self.0.overdue
    }
}

#[derive(SimpleObject)]
pub struct QuotedInstallment {
    pub number: u32,
    /// As if disbursed today.
    pub due_date: NaiveDate,
    pub principal: i64,
    pub interest: i64,
    pub fee: i64,
    pub amount: i64,
}

#[derive(SimpleObject)]
pub struct LoanQuote {
    pub amount: i64,
    pub tenor_months: u32,
    pub total_interest: i64,
    pub total_fee: i64,
    pub total_cost: i64,
    pub total_repayment: i64,
    pub monthly_installment: i64,
    pub installments: Vec<QuotedInstallment>,
}

#[derive(SimpleObject)]
pub struct QuoteLoanPayload {
    pub quote: Option<LoanQuote>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct ApplyLoanPayload {
    pub loan: Option<Loan>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct CancelLoanPayload {
    pub loan: Option<Loan>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct DisburseLoanPayload {
    pub loan: Option<Loan>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct PaymentAllocation {
    pub installment_number: u32,
    pub fee: i64,
    pub interest: i64,
    pub principal: i64,
}

#[derive(SimpleObject)]
pub struct PaymentReceipt {
    pub provider_reference: String,
    /// True when this repeated an earlier payment with the same key (nothing new happened).
    pub replayed: bool,
    pub allocations: Vec<PaymentAllocation>,
}

#[derive(SimpleObject)]
pub struct PayInstallmentPayload {
    pub loan: Option<Loan>,
    pub payment: Option<PaymentReceipt>,
    pub user_errors: Vec<UserError>,
}

/// A person with an account, owned by the user subgraph; loan adds their loans.
pub struct User {
    pub(super) id: Uuid,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Newest first. The owner, or staff with `loan:operate`.
    #[graphql(directive = authenticated::apply())]
    async fn loans(&self, ctx: &Context<'_>) -> Result<Vec<Loan>> {
        let principal = ctx.principal()?;
        principal
            .require_owner_or(self.id, LOAN_OPERATE)
            .map_err(auth_error)?;
        let rows = ctx
            .data::<BorrowerLoans>()?
            .load_one(self.id)
            .await
            .map_err(internal_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(Loan).collect())
    }
}

/// One status change pushed to a subscriber, with the loan as it is now.
#[derive(SimpleObject)]
pub struct LoanStatusChange {
    pub loan: Loan,
    pub status: LoanStatusGql,
    pub previous_status: Option<LoanStatusGql>,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
    /// True for the first messages after subscribing: the loan's status as it is now (with
    /// `previousStatus` null and `changedAt` when the loan last changed), so an app that
    /// reconnects after a dropped connection never misses the last change. False for a change
    /// as it happens.
    pub snapshot: bool,
}

impl LoanStatusChange {
    /// The hub's change with the loan read now.
    pub fn new(change: StatusChange, loan: LoanRecord) -> Self {
        Self {
            loan: Loan(loan),
            status: change.status.into(),
            previous_status: change.previous_status.map(Into::into),
            reason: change.reason,
            changed_at: change.changed_at,
            snapshot: false,
        }
    }

    /// The loan's current status, sent when a subscription starts.
    pub fn current(loan: LoanRecord) -> Self {
        Self {
            status: loan.status.into(),
            previous_status: None,
            reason: loan.decision_reason.clone(),
            changed_at: loan.updated_at,
            snapshot: true,
            loan: Loan(loan),
        }
    }
}

/// A loan's schedule through the batching loader; none before approval.
async fn schedule_of(ctx: &Context<'_>, loan_id: Uuid) -> Result<Vec<InstallmentState>> {
    let schedule = ctx
        .data::<Schedules>()?
        .load_one(loan_id)
        .await
        .map_err(internal_error)?;
    Ok(schedule.unwrap_or_default())
}
