//! `credit_decisions`: every decision with the rules version and inputs it used.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::credit_decisions;
use crate::domain::status::DecisionSource;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_decisions)]
pub struct DecisionRow {
    pub id: Uuid,
    pub credit_score_id: Uuid,
    pub loan_id: Uuid,
    pub source: DecisionSource,
    /// `APPROVE`, `REJECT` or `REFER`.
    pub outcome: String,
    pub combined_score: Option<i32>,
    pub reason_codes: Vec<String>,
    pub reason: String,
    pub rules_version: String,
    pub inputs: serde_json::Value,
    pub decided_by: Option<Uuid>,
    pub reviews_decision: Option<Uuid>,
    pub note: Option<String>,
    pub decided_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, row: &DecisionRow) -> QueryResult<()> {
    diesel::insert_into(credit_decisions::table)
        .values(row)
        .execute(conn)
        .await
        .map(drop)
}

/// Automatic decisions, oldest first: of one loan, or all of them.
pub async fn automatic(
    conn: &mut AsyncPgConnection,
    loan_id: Option<Uuid>,
) -> QueryResult<Vec<DecisionRow>> {
    let mut query = credit_decisions::table
        .filter(credit_decisions::source.eq(DecisionSource::Automatic))
        .select(DecisionRow::as_select())
        .order((
            credit_decisions::decided_at.asc(),
            credit_decisions::id.asc(),
        ))
        .into_boxed();
    if let Some(loan_id) = loan_id {
        query = query.filter(credit_decisions::loan_id.eq(loan_id));
    }
    query.load(conn).await
}

/// Every decision on a loan, oldest first.
pub async fn of_loan(conn: &mut AsyncPgConnection, loan_id: Uuid) -> QueryResult<Vec<DecisionRow>> {
    credit_decisions::table
        .filter(credit_decisions::loan_id.eq(loan_id))
        .select(DecisionRow::as_select())
        .order((
            credit_decisions::decided_at.asc(),
            credit_decisions::id.asc(),
        ))
        .load(conn)
        .await
}
