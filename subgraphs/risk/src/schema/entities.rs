//! The `Loan` entity (owned by the loan subgraph), extended with its risk evaluations.

use async_graphql::{Context, ID, Object, Result};
use tenor_platform::graphql::{CallerExt, internal_error};
use uuid::Uuid;

use super::RISK_READ;
use super::loaders::Evaluations;
use super::types::RiskEvaluation;

#[derive(Default)]
pub struct Entities;

#[Object]
impl Entities {
    /// `_entities` for `Loan`: the field checks who may see it.
    #[graphql(entity)]
    async fn find_loan_by_id(&self, id: ID) -> Option<Loan> {
        id.parse().ok().map(|id| Loan { id })
    }
}

pub struct Loan {
    pub id: Uuid,
}

#[Object]
impl Loan {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The bureau checks of this application (one per loan), for staff with `risk:read`.
    #[graphql(requires_scopes = "risk:read")]
    async fn risk_evaluations(&self, ctx: &Context<'_>) -> Result<Vec<RiskEvaluation>> {
        ctx.require_scope(RISK_READ)?;
        let evaluations = ctx
            .data_unchecked::<Evaluations>()
            .load_one(self.id)
            .await
            .map_err(internal_error)?
            .unwrap_or_default();
        Ok(evaluations.into_iter().map(RiskEvaluation).collect())
    }
}
