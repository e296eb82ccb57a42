//! `kyc_reviews`: every staff decision on a submission (audit), append-only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::kyc_reviews;
use crate::domain::ReviewDecision;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kyc_reviews, check_for_backend(diesel::pg::Pg))]
pub struct Review {
    pub id: Uuid,
    pub kyc_id: Uuid,
    pub reviewer_id: Uuid,
    pub decision: ReviewDecision,
    pub reason: Option<String>,
    pub reviewed_at: DateTime<Utc>,
}

pub async fn insert_review(conn: &mut AsyncPgConnection, review: &Review) -> QueryResult<()> {
    diesel::insert_into(kyc_reviews::table)
        .values(review)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The reviews of every submission in `kyc_ids`, in one query, each submission's oldest first.
pub async fn reviews_of(
    conn: &mut AsyncPgConnection,
    kyc_ids: &[Uuid],
) -> QueryResult<Vec<Review>> {
    use kyc_reviews::dsl as r;
    kyc_reviews::table
        .filter(r::kyc_id.eq_any(kyc_ids))
        .order((r::kyc_id, r::reviewed_at, r::id))
        .select(Review::as_select())
        .load(conn)
        .await
}
