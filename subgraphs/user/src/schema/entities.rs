//! What the router calls: `_entities` for `User`, so other subgraphs' types can reference a user
//! by id and the router fetches the fields this subgraph owns.

use async_graphql::{Context, ID, Object, Result};
use tenor_platform::graphql::{CallerExt, auth_error};

use super::USER_ADMIN;
use super::loaders::load_user;
use super::types::{User, parse_id};

/// The part of `Query` that resolves `User` references for the router.
#[derive(Default)]
pub(super) struct UserEntity;

#[Object]
impl UserEntity {
    /// `_entities` for `User`: the owner, or staff with `user:admin`. Anyone else gets null for
    /// that user plus a FORBIDDEN error, without failing the other users of the same batch.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let principal = ctx.principal()?;
        let Some(id) = parse_id(&id) else {
            return Ok(None);
        };
        if let Err(error) = principal.require_owner_or(id, USER_ADMIN) {
            ctx.add_error(auth_error(error).into_server_error(ctx.item.pos));
            return Ok(None);
        }
        load_user(ctx, id).await
    }
}
