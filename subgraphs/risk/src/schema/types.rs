//! The risk object types. [`RiskEvaluation`] never exposes the ciphertext; the decrypted raw
//! report is its own field behind its own scope, and every read of it is logged.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_contracts::risk::RiskLevel;
use tenor_platform::graphql::{CallerExt, internal_error};

use super::{RISK_RAW_READ, reader, service};
use crate::domain::EvaluationOutcome;
use crate::store::{Evaluation, NormalizedScore, RawAccess};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "RiskLevel")]
pub enum RiskLevelGql {
    Low,
    Medium,
    High,
}

impl From<RiskLevel> for RiskLevelGql {
    fn from(level: RiskLevel) -> Self {
        match level {
            RiskLevel::Low => Self::Low,
            RiskLevel::Medium => Self::Medium,
            RiskLevel::High => Self::High,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RiskEvaluationOutcome {
    /// The bureau answered; the level and score are set.
    Evaluated,
    /// The bureau gave no answer before the deadline; see failureReason.
    Failed,
}

/// The bureau's view of the borrower on Tenor's 300–850 scale, with the figures behind it.
#[derive(SimpleObject)]
pub struct RiskNormalizedScore {
    score: i32,
    /// OJK collectability, 1 (current) to 5 (loss).
    worst_collectability: i32,
    active_facilities: i32,
    /// Distinct lenders with an open facility.
    active_platforms: i32,
    /// Integer rupiah.
    outstanding_debt: i64,
    #[graphql(name = "maxDaysPastDue12m")]
    max_days_past_due_12m: i32,
}

impl From<&NormalizedScore> for RiskNormalizedScore {
    fn from(n: &NormalizedScore) -> Self {
        let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            score: n.score,
            worst_collectability: i32::from(n.summary.worst_collectability),
            active_facilities: int(n.summary.active_facilities),
            active_platforms: int(n.summary.active_platforms),
            outstanding_debt: n.summary.outstanding_debt,
            max_days_past_due_12m: int(n.summary.max_days_past_due_12m),
        }
    }
}

/// One bureau check of a loan application.
pub struct RiskEvaluation(pub Evaluation);

#[Object]
impl RiskEvaluation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Credit's score for this loan.
    async fn credit_score_id(&self) -> ID {
        ID(self.0.credit_score_id.to_string())
    }

    /// The bureau asked (`simulated-slik` unless configured otherwise).
    async fn vendor_name(&self) -> &str {
        &self.0.vendor_name
    }

    async fn outcome(&self) -> RiskEvaluationOutcome {
        match self.0.outcome {
            EvaluationOutcome::Evaluated => RiskEvaluationOutcome::Evaluated,
            EvaluationOutcome::Failed => RiskEvaluationOutcome::Failed,
        }
    }

    async fn risk_level(&self) -> Option<RiskLevelGql> {
        self.0.risk_level.map(RiskLevelGql::from)
    }

    async fn normalized_score(&self) -> Option<RiskNormalizedScore> {
        self.0.normalized.as_ref().map(RiskNormalizedScore::from)
    }

    /// The risk rules version that set the level.
    async fn rules_version(&self) -> Option<&str> {
        self.0.rules_version.as_deref()
    }

    /// Bureau calls made.
    async fn attempts(&self) -> i32 {
        i32::try_from(self.0.attempts).unwrap_or(i32::MAX)
    }

    /// `BUREAU_UNAVAILABLE` or `BUREAU_TIMEOUT` for a failed check.
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }

    /// The master key id the raw report is encrypted under.
    async fn raw_key_id(&self) -> Option<&str> {
        self.0.raw.as_ref().map(|raw| raw.key_id.as_str())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The bureau's full answer (JSON), decrypted. Every read is recorded in the access log.
    #[graphql(requires_scopes = "risk:raw:read")]
    async fn raw_bureau_report(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let principal = ctx.require_scope(RISK_RAW_READ)?;
        service(ctx)
            .read_raw_report(&reader(ctx, principal.user_id), &self.0)
            .await
            .map_err(internal_error)
    }
}

/// One read of a raw bureau report.
#[derive(SimpleObject)]
pub struct RiskRawAccessEntry {
    id: ID,
    /// Who read it (a staff member's user id).
    actor_id: ID,
    evaluation_id: ID,
    loan_id: ID,
    /// The GraphQL operation the read was part of.
    operation_name: Option<String>,
    request_id: Option<String>,
    accessed_at: DateTime<Utc>,
}

impl From<RawAccess> for RiskRawAccessEntry {
    fn from(a: RawAccess) -> Self {
        Self {
            id: ID(a.id.to_string()),
            actor_id: ID(a.actor_id.to_string()),
            evaluation_id: ID(a.evaluation_id.to_string()),
            loan_id: ID(a.loan_id.to_string()),
            operation_name: a.operation_name,
            request_id: a.request_id,
            accessed_at: a.accessed_at,
        }
    }
}
