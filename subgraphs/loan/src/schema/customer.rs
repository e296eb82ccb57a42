//! What the borrower's app calls: quotes, applying, withdrawing, paying, and reading a loan.

use async_graphql::{Context, ID, Object, Result};
use chrono::Utc;
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};
use tenor_platform::refusal::{Refusal, payload};

use super::loaders::LoansById;
use super::types::{
    ApplyLoanPayload, CancelLoanPayload, Loan, LoanQuote, PayInstallmentPayload, PaymentAllocation,
    PaymentReceipt, QuoteLoanPayload, QuotedInstallment,
};
use super::{LOAN_APPLY, LOAN_OPERATE, parse_id};
use crate::domain::LoanRefusal;
use crate::domain::schedule::business_today;
use crate::service::{Loans, Payment, Quote};

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Price a loan without applying: the schedule as if disbursed today.
    async fn quote_loan(
        &self,
        ctx: &Context<'_>,
        amount: i64,
        tenor_months: i32,
    ) -> Result<QuoteLoanPayload> {
        let loans = ctx.data::<Loans>()?;
        let outcome = loans.quote(amount, tenor_months, business_today(Utc::now()));
        let (quote, user_errors) = payload(outcome)?;
        Ok(QuoteLoanPayload {
            quote: quote.map(|quote| loan_quote(amount, &quote)),
            user_errors,
        })
    }

    /// One loan: its borrower, or staff with `loan:operate`.
    #[graphql(directive = authenticated::apply())]
    async fn loan(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Loan>> {
        visible_loan(ctx, &id).await
    }
}

#[derive(Default)]
pub struct ApplicationMutation;

#[Object]
impl ApplicationMutation {
    /// Apply for a loan. Rules (amount, tenor, KYC verified, account active, no open loan)
    /// refuse with userErrors and change nothing. Replaying `idempotencyKey` returns the same
    /// loan.
    #[graphql(requires_scopes = "loan:apply")]
    async fn apply_loan(
        &self,
        ctx: &Context<'_>,
        amount: i64,
        tenor_months: i32,
        purpose: String,
        idempotency_key: String,
    ) -> Result<ApplyLoanPayload> {
        let principal = ctx.require_scope(LOAN_APPLY)?;
        let loans = ctx.data::<Loans>()?;
        let outcome = loans
            .apply(
                principal.user_id,
                amount,
                tenor_months,
                &purpose,
                &idempotency_key,
            )
            .await;
        let (loan, user_errors) = payload(outcome)?;
        Ok(ApplyLoanPayload {
            loan: loan.map(Loan),
            user_errors,
        })
    }

    /// Withdraw an application still waiting for a decision, or decline an approved loan before
    /// it is paid out. Refused with `LOAN_NOT_CANCELLABLE` once the payout is under way.
    #[graphql(directive = authenticated::apply())]
    async fn cancel_loan(&self, ctx: &Context<'_>, id: ID) -> Result<CancelLoanPayload> {
        let principal = ctx.principal()?;
        let loans = ctx.data::<Loans>()?;
        let Some(id) = parse_id(&id) else {
            return Ok(CancelLoanPayload {
                loan: None,
                user_errors: vec![LoanRefusal::NotFound { field: "id" }.to_user_error()],
            });
        };
        let (loan, user_errors) = payload(loans.cancel(principal.user_id, id).await)?;
        Ok(CancelLoanPayload {
            loan: loan.map(Loan),
            user_errors,
        })
    }
}

#[derive(Default)]
pub struct RepaymentMutation;

#[Object]
impl RepaymentMutation {
    /// Pay towards an ACTIVE loan; allocated to the oldest due installment first. Paying more
    /// than is outstanding is refused; replaying `idempotencyKey` has one effect.
    #[graphql(directive = authenticated::apply())]
    async fn pay_installment(
        &self,
        ctx: &Context<'_>,
        loan_id: ID,
        amount: i64,
        idempotency_key: String,
    ) -> Result<PayInstallmentPayload> {
        let principal = ctx.principal()?;
        let loans = ctx.data::<Loans>()?;
        let Some(loan_id) = parse_id(&loan_id) else {
            return Ok(PayInstallmentPayload {
                loan: None,
                payment: None,
                user_errors: vec![LoanRefusal::NotFound { field: "loanId" }.to_user_error()],
            });
        };
        let outcome = loans
            .pay(
                principal.user_id,
                loan_id,
                amount,
                &idempotency_key,
                business_today(Utc::now()),
            )
            .await;
        let (payment, user_errors) = payload(outcome)?;
        let (loan, payment) = match payment {
            Some(payment) => {
                let (loan, receipt) = receipt(payment);
                (Some(loan), Some(receipt))
            }
            None => (None, None),
        };
        Ok(PayInstallmentPayload {
            loan,
            payment,
            user_errors,
        })
    }
}

/// Load a loan the caller may see: the owner, or staff with `loan:operate`. Someone else's loan
/// answers exactly like an id that does not exist (null, no error): the answer must not reveal
/// that the loan exists. Through the batching loader: the router's `_entities` call for N loans
/// is one query.
pub(super) async fn visible_loan(ctx: &Context<'_>, id: &ID) -> Result<Option<Loan>> {
    let principal = ctx.principal()?;
    let Some(id) = parse_id(id) else {
        return Ok(None);
    };
    let loan = ctx
        .data::<LoansById>()?
        .load_one(id)
        .await
        .map_err(internal_error)?;
    Ok(loan
        .filter(|loan| {
            principal
                .require_owner_or(loan.user_id, LOAN_OPERATE)
                .is_ok()
        })
        .map(Loan))
}

fn loan_quote(amount: i64, quote: &Quote) -> LoanQuote {
    let s = &quote.schedule;
    LoanQuote {
        amount,
        tenor_months: s.installments.len() as u32,
        total_interest: s.total_interest(),
        total_fee: s.total_fee(),
        total_cost: s.total_cost(),
        total_repayment: s.total_repayment(),
        monthly_installment: s.installments[0].total(),
        installments: s
            .installments
            .iter()
            .zip(&quote.due_dates)
            .map(|(i, due)| QuotedInstallment {
                number: i.number,
                due_date: *due,
                principal: i.principal,
                interest: i.interest,
                fee: i.fee,
                amount: i.total(),
            })
            .collect(),
    }
}

fn receipt(payment: Payment) -> (Loan, PaymentReceipt) {
    let receipt = PaymentReceipt {
        provider_reference: payment.provider_reference,
        replayed: payment.replayed,
        allocations: payment
            .allocations
            .iter()
            .map(|a| PaymentAllocation {
                installment_number: a.number,
                fee: a.fee,
                interest: a.interest,
                principal: a.principal,
            })
            .collect(),
    };
    (Loan(payment.loan), receipt)
}
