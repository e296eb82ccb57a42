//! What staff with `loan:operate` call: the loan search and disbursement.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result};
use chrono::Utc;
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, internal_error};
use tenor_platform::refusal::{Refusal, payload};

use super::types::{DisburseLoanPayload, Loan, LoanStatusGql};
use super::{LOAN_OPERATE, parse_id};
use crate::domain::schedule::business_today;
use crate::domain::{LoanFilter, LoanRefusal, LoanStatus};
use crate::service::Loans;

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
        let user_id = match user_id {
            None => None,
            Some(id) => match parse_id(&id) {
                Some(id) => Some(id),
                None => return Ok(Some(Connection::new(false, false))),
            },
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
}

#[derive(Default)]
pub struct BackOfficeMutation;

#[Object]
impl BackOfficeMutation {
    /// Back office: pay an APPROVED loan out (payout provider) and start its schedule today.
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
