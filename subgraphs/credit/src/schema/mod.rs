//! The credit subgraph's GraphQL surface (federation v2). Thin: resolvers check who is asking,
//! parse input, call the [`crate::service`] and shape the payload.
//!
//! It extends the loan subgraph's `Loan` entity with `creditAssessment`, and serves the review
//! queue and staff mutations ([`back_office`], `credit:decide`) and the borrower's request for a
//! human review ([`customer`]). Scopes are declared for the router and enforced again here.

mod back_office;
mod customer;
mod entities;
mod export;
pub mod loaders;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, ID, MergedObject, Schema, SchemaBuilder};
use tenor_platform::db::CountRequestStatements;
use tenor_platform::parsed_documents::ParsedDocuments;
use uuid::Uuid;

use crate::service::Credit;

/// Staff scope: the review queue, manual scores and decisions.
pub const CREDIT_DECIDE: &str = "credit:decide";
/// Staff scope: read assessments and risk results.
pub const RISK_READ: &str = "risk:read";

#[derive(MergedObject, Default)]
pub struct Query(
    back_office::BackOfficeQuery,
    entities::Entities,
    export::ExportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(back_office::BackOfficeMutation, customer::CustomerMutation);

pub type CreditSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).enable_federation()
}

/// The schema served by the running service; its requests' SQL statements are counted apart
/// from the background's (`tenor_db_statements_total{origin="request"}`).
pub fn build(credit: Credit, stats: Arc<loaders::LoaderStats>) -> CreditSchema {
    builder()
        .extension(CountRequestStatements)
        .extension(ParsedDocuments::default())
        .data(loaders::assessments(credit.clone(), stats))
        .data(credit)
        .finish()
}

/// The federation SDL, as `tenor-credit print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    tenor_platform::federation::subgraph_sdl(&builder().finish())
}

fn parse_id(id: &ID) -> Option<Uuid> {
    id.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_fields_declare_their_scopes() {
        let sdl = sdl();
        tenor_platform::testing::assert_field_scopes(
            &sdl,
            &[
                ("creditReviewQueue(", "credit:decide"),
                ("recordManualScore(", "credit:decide"),
                ("decideLoan(", "credit:decide"),
            ],
        );
        assert!(
            sdl.contains(
                "creditAssessment: CreditAssessment @requiresScopes(scopes: [[\"credit:decide\"], [\"risk:read\"]])"
            ),
            "{sdl}"
        );
        assert!(sdl.contains("requestHumanReview(input: RequestHumanReviewInput!): RequestHumanReviewPayload! @authenticated"), "{sdl}");
        assert!(sdl.contains("type Loan @key(fields: \"id\")"), "{sdl}");
    }
}
