//! `credit_risk_results`: risk's answer per loan, whichever arrives first (evaluated or failed)
//! is kept; it may come before the loan's score exists.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::credit_risk_results;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_risk_results)]
pub struct RiskResult {
    pub loan_id: Uuid,
    pub credit_score_id: Uuid,
    pub evaluation_id: Uuid,
    /// `EVALUATED` or `FAILED`.
    pub outcome: String,
    pub risk_level: Option<String>,
    pub normalized_score: Option<i32>,
    pub bureau: Option<serde_json::Value>,
    pub reason_code: Option<String>,
    pub vendor_name: String,
    pub rules_version: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// Store unless the loan already has a result; whether it was stored.
pub async fn insert(conn: &mut AsyncPgConnection, result: &RiskResult) -> QueryResult<bool> {
    diesel::insert_into(credit_risk_results::table)
        .values(result)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

pub async fn find(conn: &mut AsyncPgConnection, loan_id: Uuid) -> QueryResult<Option<RiskResult>> {
    credit_risk_results::table
        .find(loan_id)
        .select(RiskResult::as_select())
        .first(conn)
        .await
        .optional()
}
