//! The audit trail of every decision and change to a loan (`loans_review_history`).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::loans_review_history;
use crate::domain::ReviewSource;

pub struct Review {
    pub loan_id: Uuid,
    pub old_value: serde_json::Value,
    pub new_value: serde_json::Value,
    pub score: Option<i32>,
    pub source: ReviewSource,
    pub decision_id: Option<Uuid>,
    pub reviewer: Option<Uuid>,
}

pub async fn insert_review(conn: &mut AsyncPgConnection, review: Review) -> QueryResult<()> {
    diesel::insert_into(loans_review_history::table)
        .values((
            loans_review_history::loan_id.eq(review.loan_id),
            loans_review_history::old_value.eq(review.old_value),
            loans_review_history::new_value.eq(review.new_value),
            loans_review_history::score.eq(review.score),
            loans_review_history::source.eq(review.source),
            loans_review_history::decision_id.eq(review.decision_id),
            loans_review_history::reviewer.eq(review.reviewer),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// (source, score, decision id, new value) of each review of a loan, oldest first.
pub async fn reviews(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
) -> QueryResult<Vec<(String, Option<i32>, Option<Uuid>, serde_json::Value)>> {
    loans_review_history::table
        .filter(loans_review_history::loan_id.eq(loan_id))
        .order(loans_review_history::id)
        .select((
            loans_review_history::source,
            loans_review_history::score,
            loans_review_history::decision_id,
            loans_review_history::new_value,
        ))
        .load(conn)
        .await
}
