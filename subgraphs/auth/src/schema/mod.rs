//! The auth subgraph's GraphQL surface. Thin: resolvers parse input, check who is calling, call
//! the use cases and shape their outcomes into payloads (refusals → `userErrors`) or errors
//! (auth/system). Everything auth serves is called by the app: [`customer`]; the types are in
//! [`types`].

pub mod customer;
mod export;
pub mod types;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use tenor_platform::db::CountRequestStatements;
use tenor_platform::parsed_documents::ParsedDocuments;

use crate::service::AuthService;

pub use customer::Mutation;

// The app's queries, then the data export's entity; no doc comment (it would become an SDL
// description).
#[derive(MergedObject, Default)]
pub struct Query(customer::Query, export::ExportQuery);

pub type AuthSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema served by the running service; its requests' SQL statements are counted apart
/// from the background's (`tenor_db_statements_total{origin="request"}`).
pub fn build(service: Arc<AuthService>) -> AuthSchema {
    Schema::build(Query::default(), Mutation, EmptySubscription)
        .extension(CountRequestStatements)
        .extension(ParsedDocuments::default())
        .data(service)
        .enable_federation()
        .limit_depth(12)
        .finish()
}

/// The federation SDL of this subgraph (`schema/subgraphs/auth.graphql`).
pub fn sdl() -> String {
    let schema = Schema::build(Query::default(), Mutation, EmptySubscription)
        .enable_federation()
        .finish();
    tenor_platform::federation::subgraph_sdl(&schema)
}

fn service<'a>(ctx: &'a Context<'_>) -> &'a AuthService {
    ctx.data_unchecked::<Arc<AuthService>>()
}
