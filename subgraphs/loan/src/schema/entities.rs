//! What the router resolves through `_entities`: `Loan` and `User` references.

use async_graphql::{Context, ID, Object, Result};

use super::customer::visible_loan;
use super::parse_id;
use super::types::{Loan, User};

#[derive(Default)]
pub struct Entities;

#[Object]
impl Entities {
    /// `_entities` for `Loan`: the borrower or staff; anyone else gets null, as for an unknown
    /// id (only a missing token is an error).
    #[graphql(entity)]
    async fn find_loan_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Loan>> {
        match visible_loan(ctx, &id).await {
            Ok(loan) => Ok(loan),
            Err(error) => {
                ctx.add_error(error.into_server_error(ctx.item.pos));
                Ok(None)
            }
        }
    }

    /// `_entities` for `User`: the fields are authorised one by one.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        parse_id(&id).map(|id| User { id })
    }
}
