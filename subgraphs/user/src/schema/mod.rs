//! The user subgraph's GraphQL surface (federation v2). Thin: resolvers check who is asking,
//! translate input, and hand over to [`crate::service`] and the profile loader.
//!
//! Authorization is enforced here from the verified token, and the staff-only fields also carry
//! `@requiresScopes` so the router refuses them before they reach us.
//!
//! One file per audience: `customer` (the signed-in owner, from the app), `back_office` (staff
//! with `user:admin`) and `entities` (the router resolving `User` references); `types` holds the
//! `User` entity, enums, inputs and payloads; `loaders` the batching profile loader.

mod back_office;
mod customer;
mod entities;
mod export;
pub mod loaders;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};
use tenor_platform::db::CountRequestStatements;
use tenor_platform::parsed_documents::ParsedDocuments;

use crate::service::UserService;
use loaders::LoaderStats;

pub use export::ACCOUNT_DELETED;
pub use types::User;

/// The back-office scope for reading any profile and blocking accounts.
pub const USER_ADMIN: &str = "user:admin";

pub type UserSchema = Schema<Query, Mutation, EmptySubscription>;

// The roots are assembled from one part per audience. No doc comments on them: those would
// become SDL descriptions. The SDL lists fields in the order of the parts, owner's first.
#[derive(MergedObject, Default)]
pub struct Query(
    customer::CustomerQuery,
    back_office::BackOfficeQuery,
    entities::UserEntity,
    export::ExportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(customer::CustomerMutation, back_office::BackOfficeMutation);

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).enable_federation()
}

/// The schema served by the running service; `stats` counts the loader's batches (tests), and
/// its requests' SQL statements are counted apart from the background's
/// (`tenor_db_statements_total{origin="request"}`).
pub fn build(service: UserService, stats: Arc<LoaderStats>) -> UserSchema {
    builder()
        .extension(CountRequestStatements)
        .extension(ParsedDocuments::default())
        .data(loaders::profiles(service.clone(), stats))
        .data(service)
        .finish()
}

/// The federation SDL, as `tenor-user print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    tenor_platform::federation::subgraph_sdl(&builder().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed SDL is what the router composes: it must be the current one.
    #[test]
    fn committed_sdl_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schema/subgraphs/user.graphql"
        );
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == sdl(),
            "{path} is stale: run `cargo run -p tenor-user -- print-schema > schema/subgraphs/user.graphql`"
        );
    }

    #[test]
    fn staff_fields_declare_their_scope() {
        let sdl = sdl();
        tenor_platform::testing::assert_field_scopes(
            &sdl,
            &[
                ("blockUser(", "user:admin"),
                ("unblockUser(", "user:admin"),
                ("users(", "user:admin"),
                ("blockReason:", "user:admin"),
                ("blockedAt:", "user:admin"),
            ],
        );
        assert!(sdl.contains("type User @key(fields: \"id\")"), "{sdl}");
    }
}
