//! What staff call: who read raw bureau reports (`risk:raw:read`).

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};

use super::types::RiskRawAccessEntry;
use super::{RISK_RAW_READ, service};
use crate::store::access_log::AccessFilter;

#[derive(Default)]
pub struct BackOfficeQuery;

#[Object]
impl BackOfficeQuery {
    /// Back office: who read the raw bureau report of one evaluation, or of every evaluation
    /// of one loan (give exactly one of the two), newest first. `first` is 1–100 (default 20).
    #[graphql(requires_scopes = "risk:raw:read")]
    async fn risk_access_log(
        &self,
        ctx: &Context<'_>,
        evaluation_id: Option<ID>,
        loan_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<Cursor, RiskRawAccessEntry>>> {
        ctx.require_scope(RISK_RAW_READ)?;
        let parse = |id: &ID, name: &str| {
            id.parse()
                .map_err(|_| coded_error("BAD_USER_INPUT", format!("{name} is not an id")))
        };
        let filter = match (&evaluation_id, &loan_id) {
            (Some(id), None) => AccessFilter::Evaluation(parse(id, "evaluationId")?),
            (None, Some(id)) => AccessFilter::Loan(parse(id, "loanId")?),
            _ => {
                return Err(coded_error(
                    "BAD_USER_INPUT",
                    "give exactly one of evaluationId and loanId",
                ));
            }
        };
        let page = PageRequest::parse(first, after.as_deref())?;
        let mut rows = service(ctx)
            .raw_access_log(filter, page)
            .await
            .map_err(internal_error)?;
        let has_next = rows.len() > page.first;
        rows.truncate(page.first);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|row| {
            let cursor = Cursor {
                at: row.accessed_at,
                id: row.id,
            };
            Edge::new(cursor, RiskRawAccessEntry::from(row))
        }));
        Ok(Some(connection))
    }
}
