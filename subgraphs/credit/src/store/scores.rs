//! `credit_scores` (one per submitted loan) and `credit_scores_list` (each score as obtained).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{credit_scores, credit_scores_list};
use crate::domain::status::{DecisionSource, DecisionState, ReviewStatus, ScoreSource};
use tenor_platform::cursor::Cursor;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = credit_scores)]
pub struct ScoreRow {
    pub id: Uuid,
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: i32,
    pub submitted_at: DateTime<Utc>,
    pub rules_version: String,
    pub risk_level: Option<String>,
    pub risk_reason: Option<String>,
    pub internal_score: Option<i32>,
    pub internal_mandatory: bool,
    pub external_score: Option<i32>,
    pub external_mandatory: bool,
    pub manual_score: Option<i32>,
    pub manual_mandatory: bool,
    pub combined_score: Option<i32>,
    pub decision: DecisionState,
    pub decision_source: Option<DecisionSource>,
    pub decision_id: Option<Uuid>,
    pub reason_codes: Vec<String>,
    pub reason: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub queue_reason: Option<String>,
    pub queued_at: Option<DateTime<Utc>>,
    pub review_status: ReviewStatus,
    pub review_requested_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub external_attempts: i32,
    pub external_next_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new score's seed.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = credit_scores)]
pub struct NewScore<'a> {
    pub id: Uuid,
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: i32,
    pub submitted_at: DateTime<Utc>,
    pub rules_version: &'a str,
    pub internal_mandatory: bool,
    pub external_mandatory: bool,
    pub manual_mandatory: bool,
}

/// Insert unless the loan already has a score; whether it was inserted.
pub async fn insert(conn: &mut AsyncPgConnection, score: &NewScore<'_>) -> QueryResult<bool> {
    diesel::insert_into(credit_scores::table)
        .values(score)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ScoreRow>> {
    credit_scores::table
        .find(id)
        .select(ScoreRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The borrower cancelled `loan_id`: a score still waiting for inputs, or in the review queue,
/// stops — no external score is bought for it, nothing decides it, the queue drops it. A score
/// already decided is left as it was (loan drops a decision that arrives after the
/// cancellation). Concurrent deciders hold the row's lock; this update waits for them and then
/// sees their outcome. Whether a score was withdrawn.
pub async fn withdraw(conn: &mut AsyncPgConnection, loan_id: Uuid) -> QueryResult<bool> {
    diesel::update(
        credit_scores::table
            .filter(credit_scores::loan_id.eq(loan_id))
            .filter(credit_scores::decision.eq_any([DecisionState::Pending, DecisionState::Refer])),
    )
    .set((
        credit_scores::decision.eq(DecisionState::Withdrawn),
        credit_scores::queue_reason.eq(None::<String>),
        credit_scores::queued_at.eq(None::<DateTime<Utc>>),
        credit_scores::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await
    .map(|updated| updated > 0)
}

/// The borrower deleted the account: a human review they asked for and nobody has decided
/// leaves the queue, withdrawn (the rejection stands). How many.
pub async fn withdraw_reviews_of(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<usize> {
    diesel::update(
        credit_scores::table
            .filter(credit_scores::user_id.eq(user_id))
            .filter(credit_scores::review_status.eq(ReviewStatus::Requested)),
    )
    .set((
        credit_scores::review_status.eq(ReviewStatus::Withdrawn),
        credit_scores::queue_reason.eq(None::<String>),
        credit_scores::queued_at.eq(None::<DateTime<Utc>>),
        credit_scores::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await
}

pub async fn lock_by_loan(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
) -> QueryResult<Option<ScoreRow>> {
    credit_scores::table
        .filter(credit_scores::loan_id.eq(loan_id))
        .select(ScoreRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn by_loans(conn: &mut AsyncPgConnection, loans: &[Uuid]) -> QueryResult<Vec<ScoreRow>> {
    credit_scores::table
        .filter(credit_scores::loan_id.eq_any(loans))
        .select(ScoreRow::as_select())
        .load(conn)
        .await
}

/// The review queue, oldest first, after `after`.
pub async fn queue_page(
    conn: &mut AsyncPgConnection,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<ScoreRow>> {
    let mut query = credit_scores::table
        .filter(credit_scores::queue_reason.is_not_null())
        .select(ScoreRow::as_select())
        .order((credit_scores::queued_at.asc(), credit_scores::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(
            credit_scores::queued_at
                .gt(after.at)
                .or(credit_scores::queued_at
                    .eq(after.at)
                    .and(credit_scores::id.gt(after.id))),
        );
    }
    query.load(conn).await
}

/// Scores still waiting for their external score whose next attempt is due.
pub async fn due_for_external(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<(Uuid, Uuid, Uuid, i32)>> {
    credit_scores::table
        .filter(credit_scores::decision.eq(DecisionState::Pending))
        .filter(credit_scores::external_score.is_null())
        .filter(credit_scores::external_next_at.le(now))
        .order(credit_scores::external_next_at.asc())
        .limit(limit)
        .select((
            credit_scores::id,
            credit_scores::loan_id,
            credit_scores::user_id,
            credit_scores::external_attempts,
        ))
        .load(conn)
        .await
}

/// Undecided scores created before `cutoff` (their inputs are overdue).
pub async fn pending_before(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    credit_scores::table
        .filter(credit_scores::decision.eq(DecisionState::Pending))
        .filter(credit_scores::created_at.lt(cutoff))
        .order(credit_scores::created_at.asc())
        .limit(limit)
        .select(credit_scores::id)
        .load(conn)
        .await
}

/// The review queue in one row: how many scores wait for a person, and since when the oldest
/// has (the partial index `credit_scores_queue` holds exactly these).
pub async fn queue_backlog(
    conn: &mut AsyncPgConnection,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    use diesel::dsl::{count_star, min};
    credit_scores::table
        .filter(credit_scores::queue_reason.is_not_null())
        .select((count_star(), min(credit_scores::queued_at)))
        .first(conn)
        .await
}

/// Scores still waiting for an input: how many, and when the oldest was created (the partial
/// index `credit_scores_pending`).
pub async fn pending_backlog(
    conn: &mut AsyncPgConnection,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    use diesel::dsl::{count_star, min};
    credit_scores::table
        .filter(credit_scores::decision.eq(DecisionState::Pending))
        .select((count_star(), min(credit_scores::created_at)))
        .first(conn)
        .await
}

/// Undecided scores that have not seen risk's stored answer: risk's consumer and loan's may run
/// in two processes at once, each committing before seeing the other's row.
pub async fn pending_with_unseen_risk(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    use super::schema::credit_risk_results;
    credit_scores::table
        .filter(credit_scores::decision.eq(DecisionState::Pending))
        .filter(credit_scores::risk_reason.is_null())
        .filter(diesel::dsl::exists(credit_risk_results::table.filter(
            credit_risk_results::loan_id.eq(credit_scores::loan_id),
        )))
        .order(credit_scores::created_at.asc())
        .limit(limit)
        .select(credit_scores::id)
        .load(conn)
        .await
}

/// After a failed external call: try again at `next_at`.
pub async fn external_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    next_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(credit_scores::table.find(id))
        .set((
            credit_scores::external_attempts.eq(credit_scores::external_attempts + 1),
            credit_scores::external_next_at.eq(next_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn set_score(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    source: ScoreSource,
    score: i32,
) -> QueryResult<()> {
    // One statement; the column is the one of `source` (diesel skips a `None` assignment).
    let only = |column: ScoreSource| (source == column).then_some(score);
    diesel::update(credit_scores::table.find(id))
        .set((
            only(ScoreSource::Internal).map(|s| credit_scores::internal_score.eq(s)),
            only(ScoreSource::External).map(|s| credit_scores::external_score.eq(s)),
            only(ScoreSource::Manual).map(|s| credit_scores::manual_score.eq(s)),
            credit_scores::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn set_risk(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    level: Option<&str>,
    reason: &str,
) -> QueryResult<()> {
    diesel::update(credit_scores::table.find(id))
        .set((
            credit_scores::risk_level.eq(level),
            credit_scores::risk_reason.eq(reason),
            credit_scores::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The decision columns of a score.
pub struct DecisionUpdate<'a> {
    pub state: DecisionState,
    pub source: DecisionSource,
    pub decision_id: Uuid,
    pub combined_score: Option<i32>,
    pub reason_codes: &'a [String],
    pub reason: &'a str,
    pub decided_by: Option<Uuid>,
    pub decided_at: DateTime<Utc>,
    /// Set: in the queue from `decided_at`; `None`: out of it.
    pub queue_reason: Option<&'a str>,
    pub review_status: ReviewStatus,
}

/// Record a decision if the score is still `expected` (the caller holds the row lock; the
/// condition makes a second decision impossible even without it). Whether it was recorded.
pub async fn record_decision(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: DecisionState,
    update: DecisionUpdate<'_>,
) -> QueryResult<bool> {
    diesel::update(
        credit_scores::table
            .find(id)
            .filter(credit_scores::decision.eq(expected)),
    )
    .set((
        credit_scores::decision.eq(update.state),
        credit_scores::decision_source.eq(update.source),
        credit_scores::decision_id.eq(update.decision_id),
        credit_scores::combined_score.eq(update.combined_score),
        credit_scores::reason_codes.eq(update.reason_codes),
        credit_scores::reason.eq(update.reason),
        credit_scores::decided_by.eq(update.decided_by),
        credit_scores::decided_at.eq(update.decided_at),
        credit_scores::queue_reason.eq(update.queue_reason),
        credit_scores::queued_at.eq(update.queue_reason.map(|_| update.decided_at)),
        credit_scores::review_status.eq(update.review_status),
        credit_scores::updated_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// The borrower asked for a human review: into the queue.
pub async fn request_review(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    queue_reason: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(credit_scores::table.find(id))
        .set((
            credit_scores::review_status.eq(ReviewStatus::Requested),
            credit_scores::review_requested_at.eq(now),
            credit_scores::review_note.eq(note),
            credit_scores::queue_reason.eq(queue_reason),
            credit_scores::queued_at.eq(now),
            credit_scores::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = credit_scores_list)]
pub struct ScoreEntry {
    pub credit_score_id: Uuid,
    pub source: ScoreSource,
    pub score: i32,
    pub reason: String,
    pub input: serde_json::Value,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Record one obtained score; a second one from the same source is ignored. Whether it was new.
pub async fn insert_entry(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    source: ScoreSource,
    score: i32,
    reason: &str,
    input: &serde_json::Value,
    recorded_by: Option<Uuid>,
) -> QueryResult<bool> {
    diesel::insert_into(credit_scores_list::table)
        .values((
            credit_scores_list::credit_score_id.eq(id),
            credit_scores_list::source.eq(source),
            credit_scores_list::score.eq(score),
            credit_scores_list::reason.eq(reason),
            credit_scores_list::input.eq(input),
            credit_scores_list::recorded_by.eq(recorded_by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|n| n == 1)
}

pub async fn entries_of(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<ScoreEntry>> {
    credit_scores_list::table
        .filter(credit_scores_list::credit_score_id.eq_any(ids))
        .select(ScoreEntry::as_select())
        .order(credit_scores_list::created_at.asc())
        .load(conn)
        .await
}
