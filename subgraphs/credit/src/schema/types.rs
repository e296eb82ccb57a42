//! The credit subgraph's GraphQL types: the `Loan` entity it extends, the assessment, the queue,
//! inputs and payloads. Thin wrappers over the service's values.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::auth::AuthError;
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, UserError, auth_error, internal_error};
use uuid::Uuid;

use super::loaders::Assessments;
use super::{CREDIT_DECIDE, RISK_READ};
use crate::domain::status::{DecisionSource, DecisionState, ReviewStatus, ScoreSource};
use crate::service::Assessment;

/// A loan (owned by the loan subgraph), extended with credit's assessment.
pub struct Loan {
    pub id: Uuid,
}

#[Object]
impl Loan {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Credit's assessment of the application: scores, risk, decision. Staff with
    /// `credit:decide` or `risk:read`; null until credit has received the application.
    #[graphql(requires_scopes = "credit:decide", requires_scopes = "risk:read")]
    async fn credit_assessment(&self, ctx: &Context<'_>) -> Result<Option<CreditAssessment>> {
        let principal = ctx.principal()?;
        if !(principal.has_scope(CREDIT_DECIDE) || principal.has_scope(RISK_READ)) {
            return Err(auth_error(AuthError::Forbidden(CREDIT_DECIDE.to_owned())));
        }
        let assessment = ctx
            .data_unchecked::<Assessments>()
            .load_one(self.id)
            .await
            .map_err(internal_error)?;
        Ok(assessment.map(CreditAssessment))
    }

    /// Where your application stands with credit: being assessed, with a person (referred by
    /// the rules, or your request for a human review), decided, or withdrawn by you. Only the
    /// borrower sees it (null for anyone else, and until credit has received the application);
    /// the reasons stay with staff.
    #[graphql(directive = authenticated::apply())]
    async fn credit_review_stage(&self, ctx: &Context<'_>) -> Result<Option<CreditReviewStage>> {
        let principal = ctx.principal()?;
        let assessment = ctx
            .data_unchecked::<Assessments>()
            .load_one(self.id)
            .await
            .map_err(internal_error)?;
        Ok(assessment
            .filter(|a| a.score.user_id == principal.user_id)
            .map(|a| CreditReviewStage::of(a.score.decision, a.score.review_status)))
    }
}

/// Where an application stands with credit, as its borrower may see it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CreditReviewStage {
    /// The automatic checks are running (bureau, scores).
    Assessing,
    /// A person is reviewing it: the rules referred it, or the borrower asked for a human
    /// review of an automatic rejection.
    WithAPerson,
    /// Decided; the loan's status says how.
    Decided,
    /// The borrower cancelled the application before a decision.
    Withdrawn,
}

impl CreditReviewStage {
    fn of(decision: DecisionState, review: ReviewStatus) -> Self {
        match (decision, review) {
            (DecisionState::Withdrawn, _) => Self::Withdrawn,
            (_, ReviewStatus::Requested) | (DecisionState::Refer, _) => Self::WithAPerson,
            (DecisionState::Pending, _) => Self::Assessing,
            (DecisionState::Approve | DecisionState::Reject, _) => Self::Decided,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CreditDecisionState {
    /// Waiting for an input.
    Pending,
    Approve,
    Reject,
    /// In the review queue for a person to decide.
    Refer,
    /// The borrower cancelled the application before it was decided.
    Withdrawn,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CreditDecisionOrigin {
    Automatic,
    Manual,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CreditScoreSource {
    Internal,
    /// The external credit score company (simulated unless configured otherwise).
    External,
    /// Recorded by a staff member.
    Manual,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum HumanReviewStatus {
    None,
    /// The borrower asked for a person to review the automatic rejection.
    Requested,
    Decided,
    /// The borrower deleted the account before a person decided.
    Withdrawn,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CreditRiskLevel {
    Low,
    Medium,
    High,
}

/// One score input of an assessment, obtained or still missing.
#[derive(SimpleObject)]
pub struct CreditScoreInput {
    pub source: CreditScoreSource,
    /// 300–850; null while missing.
    pub score: Option<i32>,
    /// The decision waits for it (or refers without it).
    pub mandatory: bool,
    pub reason: Option<String>,
    /// The staff member who recorded a manual score.
    pub recorded_by: Option<ID>,
    pub obtained_at: Option<DateTime<Utc>>,
}

/// Credit's assessment of one loan application.
pub struct CreditAssessment(pub Assessment);

#[Object]
impl CreditAssessment {
    async fn id(&self) -> ID {
        ID(self.0.score.id.to_string())
    }
    async fn loan_id(&self) -> ID {
        ID(self.0.score.loan_id.to_string())
    }
    async fn user_id(&self) -> ID {
        ID(self.0.score.user_id.to_string())
    }
    async fn amount(&self) -> i64 {
        self.0.score.amount
    }
    async fn tenor_months(&self) -> i32 {
        self.0.score.tenor_months
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.score.submitted_at
    }
    /// Internal, external and manual scores with whether each is mandatory.
    async fn scores(&self) -> Vec<CreditScoreInput> {
        let s = &self.0.score;
        [
            (
                ScoreSource::Internal,
                s.internal_score,
                s.internal_mandatory,
            ),
            (
                ScoreSource::External,
                s.external_score,
                s.external_mandatory,
            ),
            (ScoreSource::Manual, s.manual_score, s.manual_mandatory),
        ]
        .into_iter()
        .map(|(source, score, mandatory)| {
            let entry = self.0.entries.iter().find(|e| e.source == source);
            CreditScoreInput {
                source: source.into(),
                score,
                mandatory,
                reason: entry.map(|e| e.reason.clone()),
                recorded_by: entry
                    .and_then(|e| e.recorded_by)
                    .map(|id| ID(id.to_string())),
                obtained_at: entry.map(|e| e.created_at),
            }
        })
        .collect()
    }
    /// The weighted score the decision used.
    async fn combined_score(&self) -> Option<i32> {
        self.0.score.combined_score
    }
    async fn risk_level(&self) -> Option<CreditRiskLevel> {
        match self.0.score.risk_level.as_deref() {
            Some("LOW") => Some(CreditRiskLevel::Low),
            Some("MEDIUM") => Some(CreditRiskLevel::Medium),
            Some("HIGH") => Some(CreditRiskLevel::High),
            _ => None,
        }
    }
    async fn risk_reason(&self) -> Option<&str> {
        self.0.score.risk_reason.as_deref()
    }
    async fn decision(&self) -> CreditDecisionState {
        self.0.score.decision.into()
    }
    async fn decision_source(&self) -> Option<CreditDecisionOrigin> {
        self.0.score.decision_source.map(Into::into)
    }
    async fn decision_id(&self) -> Option<ID> {
        self.0.score.decision_id.map(|id| ID(id.to_string()))
    }
    async fn reason_codes(&self) -> &[String] {
        &self.0.score.reason_codes
    }
    /// Safe to show the borrower.
    async fn reason(&self) -> Option<&str> {
        self.0.score.reason.as_deref()
    }
    /// The rules version the loan is decided by.
    async fn rules_version(&self) -> &str {
        &self.0.score.rules_version
    }
    async fn decided_by(&self) -> Option<ID> {
        self.0.score.decided_by.map(|id| ID(id.to_string()))
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.score.decided_at
    }
    /// Why the loan is in the review queue (null when it is not).
    async fn queue_reason(&self) -> Option<&str> {
        self.0.score.queue_reason.as_deref()
    }
    async fn queued_at(&self) -> Option<DateTime<Utc>> {
        self.0.score.queued_at
    }
    async fn human_review_status(&self) -> HumanReviewStatus {
        self.0.score.review_status.into()
    }
    async fn human_review_requested_at(&self) -> Option<DateTime<Utc>> {
        self.0.score.review_requested_at
    }
}

/// The borrower's request for a human review, as they may see it.
#[derive(SimpleObject)]
pub struct HumanReview {
    pub loan_id: ID,
    pub status: HumanReviewStatus,
    pub requested_at: Option<DateTime<Utc>>,
}

impl From<&Assessment> for HumanReview {
    fn from(a: &Assessment) -> Self {
        Self {
            loan_id: ID(a.score.loan_id.to_string()),
            status: a.score.review_status.into(),
            requested_at: a.score.review_requested_at,
        }
    }
}

#[derive(InputObject)]
pub struct RecordManualScoreInput {
    pub loan_id: ID,
    /// 300–850.
    pub score: i32,
    pub reason: String,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StaffCreditDecision {
    Approve,
    Reject,
}

#[derive(InputObject)]
pub struct DecideLoanInput {
    pub loan_id: ID,
    pub decision: StaffCreditDecision,
    /// e.g. `INCOME_VERIFIED`: capital letters, digits and underscores.
    pub reason_code: String,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RequestHumanReviewInput {
    pub loan_id: ID,
    pub note: Option<String>,
}

#[derive(SimpleObject)]
pub struct RecordManualScorePayload {
    pub assessment: Option<CreditAssessment>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct DecideLoanPayload {
    pub assessment: Option<CreditAssessment>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct RequestHumanReviewPayload {
    pub review: Option<HumanReview>,
    pub user_errors: Vec<UserError>,
}

impl From<DecisionState> for CreditDecisionState {
    fn from(state: DecisionState) -> Self {
        match state {
            DecisionState::Pending => Self::Pending,
            DecisionState::Approve => Self::Approve,
            DecisionState::Reject => Self::Reject,
            DecisionState::Refer => Self::Refer,
            DecisionState::Withdrawn => Self::Withdrawn,
        }
    }
}

impl From<DecisionSource> for CreditDecisionOrigin {
    fn from(source: DecisionSource) -> Self {
        match source {
            DecisionSource::Automatic => Self::Automatic,
            DecisionSource::Manual => Self::Manual,
        }
    }
}

impl From<ScoreSource> for CreditScoreSource {
    fn from(source: ScoreSource) -> Self {
        match source {
            ScoreSource::Internal => Self::Internal,
            ScoreSource::External => Self::External,
            ScoreSource::Manual => Self::Manual,
        }
    }
}

impl From<ReviewStatus> for HumanReviewStatus {
    fn from(status: ReviewStatus) -> Self {
        match status {
            ReviewStatus::None => Self::None,
            ReviewStatus::Requested => Self::Requested,
            ReviewStatus::Decided => Self::Decided,
            ReviewStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A borrower reads "with a person" while the queue holds the loan for any reason, and
    /// "decided" only once nobody is looking at it any more.
    #[test]
    fn the_stage_a_borrower_reads() {
        use CreditReviewStage::*;
        let cases = [
            (DecisionState::Pending, ReviewStatus::None, Assessing),
            (DecisionState::Refer, ReviewStatus::None, WithAPerson),
            (DecisionState::Approve, ReviewStatus::None, Decided),
            (DecisionState::Reject, ReviewStatus::None, Decided),
            (DecisionState::Reject, ReviewStatus::Requested, WithAPerson),
            (DecisionState::Approve, ReviewStatus::Decided, Decided),
            (DecisionState::Withdrawn, ReviewStatus::None, Withdrawn),
        ];
        for (decision, review, stage) in cases {
            assert_eq!(
                CreditReviewStage::of(decision, review),
                stage,
                "{decision:?} {review:?}"
            );
        }
    }
}
