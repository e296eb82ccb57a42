//! The risk subgraph's GraphQL surface (federation v2). Thin: resolvers check the scope from
//! the verified token, call [`crate::service::RiskService`] and shape the result.
//!
//! [`entities`]: the `Loan` entity (owned by loan) extended with `riskEvaluations`;
//! [`back_office`]: the raw-report access log; [`types`]: the object types; [`loaders`]: the
//! `Loan.riskEvaluations` batch loader. Field-level rules are declared with `@requiresScopes`
//! (the router enforces them) and enforced again here, so a request sent straight to this
//! subgraph gets nothing more.

mod back_office;
mod entities;
mod export;
mod loaders;
mod types;

use std::sync::Arc;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, MergedObject, Schema, SchemaBuilder,
};
use tenor_platform::federation::subgraph_sdl;
use tenor_platform::graphql::CallerExt;
use tenor_platform::loaders::LoaderStats;
use tenor_platform::parsed_documents::ParsedDocuments;
use uuid::Uuid;

use crate::service::{Reader, RiskService};
use loaders::EvaluationsByLoan;

/// Staff: evaluations (level, score, bureau summary).
pub const RISK_READ: &str = "risk:read";
/// Staff: the decrypted raw bureau report and who read it.
pub const RISK_RAW_READ: &str = "risk:raw:read";

// No doc comments on the root: it would become a description in the served SDL.
#[derive(MergedObject, Default)]
pub struct Query(
    entities::Entities,
    back_office::BackOfficeQuery,
    export::ExportQuery,
);

pub type RiskSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription).enable_federation()
}

/// The schema served by the running service.
pub fn build(service: RiskService, stats: Arc<LoaderStats>) -> RiskSchema {
    builder()
        .extension(ParsedDocuments::default())
        .data(EvaluationsByLoan::data_loader(service.clone(), stats))
        .data(service)
        .finish()
}

/// The federation SDL, as `tenor-risk print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    subgraph_sdl(&builder().finish())
}

fn service<'a>(ctx: &Context<'a>) -> &'a RiskService {
    ctx.data_unchecked::<RiskService>()
}

/// The caller as a reader of raw reports: who, in which named operation, from where.
fn reader(ctx: &Context<'_>, actor: Uuid) -> Reader {
    Reader {
        actor,
        operation_name: ctx.client_operation_name(),
        client: ctx.client_info(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_fields_declare_their_scope() {
        let sdl = sdl();
        tenor_platform::testing::assert_field_scopes(
            &sdl,
            &[
                ("riskEvaluations:", RISK_READ),
                ("rawBureauReport:", RISK_RAW_READ),
                ("riskAccessLog(", RISK_RAW_READ),
            ],
        );
        assert!(sdl.contains("type Loan @key(fields: \"id\")"), "{sdl}");
        assert!(!sdl.contains("ciphertext"), "{sdl}");
    }
}
