//! What staff with `loan:operate` call: the loan search, disbursement, and the money movements
//! still waiting on their provider.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};
use tenor_platform::refusal::{Refusal, payload};

use super::types::{DisburseLoanPayload, Loan, LoanStatusGql};
use super::{LOAN_OPERATE, parse_id};
use crate::domain::money_movement::MovementKind;
use crate::domain::schedule::business_today;
use crate::domain::{LoanFilter, LoanRefusal, LoanStatus};
use crate::service::Loans;
use crate::store::movements::AwaitingProvider;

#[derive(Default)]
pub struct BackOfficeQuery;

#[Object]
impl BackOfficeQuery {
    /// Back office: loans newest first, optionally by status and borrower.
    #[graphql(requires_scopes = "loan:operate")]
    async fn loans(
        &self,
        ctx: &Context<'_>,
        status: Option<LoanStatusGql>,
        user_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<Cursor, Loan>>> {
        // Nullable: a caller without the scope loses this field only, not the whole response.
        ctx.require_scope(LOAN_OPERATE)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        // Staff typed or pasted it: a value that is not an id is their mistake to see, as in
        // the other contexts' back-office queries (not an empty list that reads "no loans").
        let user_id = match user_id.map(|id| parse_id(&id)) {
            None => None,
            Some(Some(id)) => Some(id),
            Some(None) => return Err(coded_error("BAD_USER_INPUT", "userId is not an id")),
        };
        let filter = LoanFilter {
            status: status.map(LoanStatus::from),
            user_id,
        };
        let loans = ctx.data::<Loans>()?;
        let mut rows = loans.search(filter, page).await.map_err(internal_error)?;
        let has_next = rows.len() > page.first;
        rows.truncate(page.first);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|loan| {
            let cursor = Cursor {
                at: loan.created_at,
                id: loan.id,
            };
            Edge::new(cursor, Loan(loan))
        }));
        Ok(Some(connection))
    }

    /// Back office: payouts and repayments still waiting on their provider, oldest first (at
    /// most `first`, 20 by default, 100 at most). A provider that did not answer is asked again
    /// with the same key until it does — the money may have moved — so one that waits long is
    /// for a person to take up with the provider, quoting its `providerKey`.
    #[graphql(requires_scopes = "loan:operate")]
    async fn money_movements_awaiting_provider(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<Option<Vec<MoneyMovementAwaitingProvider>>> {
        ctx.require_scope(LOAN_OPERATE)?;
        let page = PageRequest::parse(first, None)?;
        let loans = ctx.data::<Loans>()?;
        let waiting = loans
            .awaiting_provider(page.first as i64)
            .await
            .map_err(internal_error)?;
        Ok(Some(waiting.into_iter().map(Into::into).collect()))
    }
}

/// A payout or repayment the provider has not answered yet.
#[derive(SimpleObject)]
pub struct MoneyMovementAwaitingProvider {
    pub id: ID,
    pub loan_id: ID,
    pub kind: MoneyMovementKind,
    /// Whole rupiah.
    pub amount: i64,
    /// What the provider was given: the same key is the same payout or charge.
    pub provider_key: String,
    /// Calls made so far (the request's own and the resumer's).
    pub attempts: i32,
    pub requested_at: DateTime<Utc>,
    pub last_tried_at: DateTime<Utc>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MoneyMovementKind {
    /// The principal, to the borrower.
    Payout,
    /// A repayment, from the borrower.
    Collection,
}

impl From<AwaitingProvider> for MoneyMovementAwaitingProvider {
    fn from(row: AwaitingProvider) -> Self {
        Self {
            id: ID(row.id.to_string()),
            loan_id: ID(row.loan_id.to_string()),
            kind: match row.kind {
                MovementKind::Payout => MoneyMovementKind::Payout,
                MovementKind::Collection => MoneyMovementKind::Collection,
            },
            amount: row.amount,
            provider_key: row.provider_key,
            attempts: row.attempts,
            requested_at: row.created_at,
            last_tried_at: row.updated_at,
        }
    }
}

#[derive(Default)]
pub struct BackOfficeMutation;

#[Object]
impl BackOfficeMutation {
    /// Back office: pay an APPROVED loan out (payout provider) and start its schedule today.
    /// Asking again while the payout is in flight finishes that payout; once the money went
    /// out, `LOAN_ALREADY_DISBURSED` (one payout per loan, however many clicks). No payout
    /// starts while the borrower's account is blocked, deleted or inactive (`USER_NOT_ACTIVE`).
    #[graphql(requires_scopes = "loan:operate")]
    async fn disburse_loan(&self, ctx: &Context<'_>, id: ID) -> Result<DisburseLoanPayload> {
        let principal = ctx.require_scope(LOAN_OPERATE)?;
        let loans = ctx.data::<Loans>()?;
        let Some(id) = parse_id(&id) else {
            return Ok(DisburseLoanPayload {
                loan: None,
                user_errors: vec![LoanRefusal::NotFound { field: "id" }.to_user_error()],
            });
        };
        let outcome = loans
            .disburse(principal.user_id, id, business_today(Utc::now()))
            .await;
        let (loan, user_errors) = payload(outcome)?;
        Ok(DisburseLoanPayload {
            loan: loan.map(Loan),
            user_errors,
        })
    }
}
