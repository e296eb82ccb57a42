//! The user subgraph's GraphQL surface (federation v2). Thin: resolvers check who is asking,
//! translate input, and hand over to [`crate::changes`] and the profile loader.
//!
//! Authorization is enforced here from the verified token, and the staff-only fields also carry
//! `@requiresScopes` so the router refuses them before they reach us.
//!
//! One file per audience: `me` (the signed-in owner), `back_office` (staff with `user:admin`),
//! and `user` (the `User` entity, also resolved for the router through `_entities`).

mod back_office;
mod cursor;
mod enums;
mod me;
mod user;
mod user_errors;

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema, SchemaBuilder};
use tenor_platform::db::PgPool;

use crate::changes::Accounts;
use crate::events::Publisher;
use crate::loader::{self, LoaderStats};

pub use user::User;

/// The back-office scope for reading any profile and blocking accounts.
pub const USER_ADMIN: &str = "user:admin";

pub type UserSchema = Schema<Query, Mutation, EmptySubscription>;

// The roots are assembled from one part per audience. No doc comments on them: those would
// become SDL descriptions. The SDL lists fields in the order of the parts, owner's first.
#[derive(MergedObject, Default)]
pub struct Query(me::MeQuery, back_office::BackOfficeQuery, user::UserEntity);

#[derive(MergedObject, Default)]
pub struct Mutation(me::MeMutation, back_office::BackOfficeMutation);

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).enable_federation()
}

/// The schema served by the running service.
pub fn build(pool: PgPool, publisher: Publisher, stats: Arc<LoaderStats>) -> UserSchema {
    builder()
        .data(loader::profiles(pool.clone(), stats))
        .data(Accounts::new(pool, publisher))
        .finish()
}

/// The federation SDL, as `tenor-user print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    let sdl = builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive());
    tenor_platform::federation::federation_sdl(sdl)
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
        for field in [
            "blockUser(",
            "unblockUser(",
            "users(",
            "blockReason:",
            "blockedAt:",
        ] {
            let line = sdl
                .lines()
                .find(|l| l.trim_start().starts_with(field))
                .unwrap_or_else(|| panic!("{field} missing from the SDL"));
            assert!(
                line.contains("@requiresScopes(scopes: [[\"user:admin\"]])"),
                "{line}"
            );
        }
        assert!(sdl.contains("type User @key(fields: \"id\")"), "{sdl}");
    }
}
