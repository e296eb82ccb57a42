//! Loan's part of the owner's data export (docs/conventions.md § Data-subject requests):
//! `myLendingData` — every loan with its decision, every installment and every repayment. One of the root fields the app's `MyDataExport` operation asks for in one
//! request, next to the user subgraph's `myDataExport`. The field takes no id: it reads the
//! caller's own, from the verified token, so nobody can ask for another person's data.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};

use super::types::Loan;
use crate::service::Loans;
use crate::service::export::LoanExport;

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Loans of the signed-in owner (data export), their schedules and repayments. Null for a
    /// deleted account.
    #[graphql(directive = authenticated::apply())]
    async fn my_lending_data(&self, ctx: &Context<'_>) -> Result<Option<LendingExport>> {
        let user_id = ctx.principal()?.user_id;
        let export = ctx
            .data::<Loans>()?
            .export_of(user_id)
            .await
            .map_err(internal_error)?;
        Ok(export.map(LendingExport::from))
    }
}

#[derive(SimpleObject)]
pub struct LendingExport {
    /// Every application, newest first.
    loans: Vec<Loan>,
    /// Every installment of every schedule, by loan and number (one flat list: the router
    /// prices a list inside a list as 50 × 50 items).
    installments: Vec<ExportedInstallment>,
    /// Every repayment collected, newest first.
    repayments: Vec<ExportedRepayment>,
}

#[derive(SimpleObject)]
pub struct ExportedInstallment {
    loan_id: ID,
    number: u32,
    due_date: NaiveDate,
    principal_due: i64,
    interest_due: i64,
    fee_due: i64,
    amount_due: i64,
    amount_paid: i64,
    paid_date: Option<NaiveDate>,
    overdue: bool,
}

#[derive(SimpleObject)]
pub struct ExportedRepayment {
    loan_id: ID,
    /// Whole rupiah.
    amount: i64,
    /// The payment provider's reference.
    provider_reference: String,
    received_at: DateTime<Utc>,
}

impl From<LoanExport> for LendingExport {
    fn from(e: LoanExport) -> Self {
        let installments: Vec<ExportedInstallment> = e
            .loans
            .iter()
            .flat_map(|loan| {
                e.installments
                    .get(&loan.id)
                    .into_iter()
                    .flatten()
                    .map(move |i| ExportedInstallment {
                        loan_id: ID(loan.id.to_string()),
                        number: i.number,
                        due_date: i.due_date,
                        principal_due: i.principal_due,
                        interest_due: i.interest_due,
                        fee_due: i.fee_due,
                        amount_due: i.amount_due(),
                        amount_paid: i.amount_due() - i.outstanding(),
                        paid_date: i.paid_date,
                        overdue: i.overdue,
                    })
            })
            .collect();
        Self {
            loans: e.loans.into_iter().map(Loan).collect(),
            installments,
            repayments: e
                .repayments
                .into_iter()
                .map(|r| ExportedRepayment {
                    loan_id: ID(r.loan_id.to_string()),
                    amount: r.amount,
                    provider_reference: r.provider_reference,
                    received_at: r.received_at,
                })
                .collect(),
        }
    }
}
