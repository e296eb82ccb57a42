//! The owner's copy of what credit holds about them (right of access, UU PDP Pasal 32; the
//! explanation of automated decisions, Pasal 10; docs/conventions.md § Data-subject requests):
//! every decision on their loans with the reason codes and the reason they may read, the rules
//! version that judged it, and their requests for a human review. Model inputs (scores, the
//! bureau summary) stay in the auditor's record and are not part of the borrower's copy.
//! Credit holds no name, NIK or contact data.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::Credit;
use crate::store::schema::{credit_borrowers, credit_decisions, credit_scores};

/// One decision as the borrower sees it.
#[derive(Debug, Queryable)]
pub struct ExportedDecision {
    pub loan_id: Uuid,
    pub source: String,
    pub outcome: String,
    pub reason_codes: Vec<String>,
    pub reason: String,
    pub rules_version: String,
    pub reviews_decision: Option<Uuid>,
    pub decided_at: DateTime<Utc>,
}

/// A loan's human-review request, when the borrower made one.
#[derive(Debug, Queryable)]
pub struct ExportedReviewRequest {
    pub loan_id: Uuid,
    pub status: String,
    pub requested_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(Debug)]
pub struct CreditExport {
    pub decisions: Vec<ExportedDecision>,
    pub review_requests: Vec<ExportedReviewRequest>,
}

impl Credit {
    /// `user`'s decisions and review requests; `None` for a deleted account (as projected
    /// from `user.status.changed`).
    #[tracing::instrument(skip(self))]
    pub async fn export_of(&self, user: Uuid) -> Result<Option<CreditExport>, ServiceError> {
        let mut conn = self.conn().await?;
        let status: Option<String> = credit_borrowers::table
            .find(user)
            .select(credit_borrowers::account_status)
            .first(&mut conn)
            .await
            .optional()?;
        if status.as_deref() == Some("DELETED") {
            return Ok(None);
        }
        let loans: Vec<Uuid> = credit_scores::table
            .filter(credit_scores::user_id.eq(user))
            .select(credit_scores::loan_id)
            .load(&mut conn)
            .await?;
        let decisions = credit_decisions::table
            .filter(credit_decisions::loan_id.eq_any(&loans))
            .order(credit_decisions::decided_at.desc())
            .select((
                credit_decisions::loan_id,
                credit_decisions::source,
                credit_decisions::outcome,
                credit_decisions::reason_codes,
                credit_decisions::reason,
                credit_decisions::rules_version,
                credit_decisions::reviews_decision,
                credit_decisions::decided_at,
            ))
            .load(&mut conn)
            .await?;
        let review_requests = credit_scores::table
            .filter(credit_scores::user_id.eq(user))
            .filter(credit_scores::review_status.ne("NONE"))
            .order(credit_scores::submitted_at.desc())
            .select((
                credit_scores::loan_id,
                credit_scores::review_status,
                credit_scores::review_requested_at,
                credit_scores::review_note,
            ))
            .load(&mut conn)
            .await?;
        Ok(Some(CreditExport {
            decisions,
            review_requests,
        }))
    }
}
