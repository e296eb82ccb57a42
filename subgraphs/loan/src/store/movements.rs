//! Money-movement intents (`loan_money_movements`): recorded before a provider call, settled
//! after it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::loan_money_movements as movements;
use crate::domain::money_movement::{MoneyMovement, MovementKind, MovementStatus};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = movements, check_for_backend(diesel::pg::Pg))]
struct MovementRow {
    id: Uuid,
    loan_id: Uuid,
    kind: MovementKind,
    status: MovementStatus,
    amount: i64,
    provider_key: String,
    request_key: Option<String>,
    requested_by: Uuid,
    business_date: NaiveDate,
    provider_reference: Option<String>,
    failure: Option<String>,
    updated_at: DateTime<Utc>,
}

impl From<MovementRow> for MoneyMovement {
    fn from(row: MovementRow) -> Self {
        MoneyMovement {
            id: row.id,
            loan_id: row.loan_id,
            kind: row.kind,
            status: row.status,
            amount: row.amount,
            provider_key: row.provider_key,
            request_key: row.request_key,
            requested_by: row.requested_by,
            business_date: row.business_date,
            provider_reference: row.provider_reference,
            failure: row.failure,
            updated_at: row.updated_at,
        }
    }
}

/// Record a new intent (REQUESTED). The caller has locked the loan.
pub async fn insert(conn: &mut AsyncPgConnection, movement: &MoneyMovement) -> QueryResult<()> {
    diesel::insert_into(movements::table)
        .values((
            movements::id.eq(movement.id),
            movements::loan_id.eq(movement.loan_id),
            movements::kind.eq(movement.kind),
            movements::status.eq(movement.status),
            movements::amount.eq(movement.amount),
            movements::provider_key.eq(&movement.provider_key),
            movements::request_key.eq(&movement.request_key),
            movements::requested_by.eq(movement.requested_by),
            // Recorded to be sent at once: that is the first attempt.
            movements::attempts.eq(1),
            movements::business_date.eq(movement.business_date),
            movements::created_at.eq(movement.updated_at),
            movements::updated_at.eq(movement.updated_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The intent, locked for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<MoneyMovement>> {
    let row: Option<MovementRow> = movements::table
        .find(id)
        .select(MovementRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(MoneyMovement::from))
}

/// The collection made under the borrower's `key` on this loan, whatever its status.
pub async fn collection_by_key(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    key: &str,
) -> QueryResult<Option<MoneyMovement>> {
    let row: Option<MovementRow> = movements::table
        .filter(movements::loan_id.eq(loan_id))
        .filter(movements::kind.eq(MovementKind::Collection))
        .filter(movements::request_key.eq(key))
        .select(MovementRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(MoneyMovement::from))
}

/// The loan's payout still waiting for its outcome, if any.
pub async fn requested_payout(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
) -> QueryResult<Option<MoneyMovement>> {
    let row: Option<MovementRow> = movements::table
        .filter(movements::loan_id.eq(loan_id))
        .filter(movements::kind.eq(MovementKind::Payout))
        .filter(movements::status.eq(MovementStatus::Requested))
        .select(MovementRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(MoneyMovement::from))
}

/// The total of the loan's collections still at the provider.
pub async fn pending_collections(conn: &mut AsyncPgConnection, loan_id: Uuid) -> QueryResult<i64> {
    let amounts: Vec<i64> = movements::table
        .filter(movements::loan_id.eq(loan_id))
        .filter(movements::kind.eq(MovementKind::Collection))
        .filter(movements::status.eq(MovementStatus::Requested))
        .select(movements::amount)
        .load(conn)
        .await?;
    Ok(amounts.into_iter().sum())
}

/// Take an intent in hand before calling the provider: counts the attempt and refreshes
/// `updated_at`, so resumers elsewhere leave it alone for a while. `None` when it is no longer
/// REQUESTED, or (with `untouched_since`) when someone else took it in hand after that time.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    untouched_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<Option<MoneyMovement>> {
    // No cutoff: any REQUESTED intent, however recently touched (the caller holds the loan).
    let cutoff = untouched_since.unwrap_or(now + chrono::Duration::days(1));
    let row: Option<MovementRow> = diesel::update(movements::table)
        .filter(movements::id.eq(id))
        .filter(movements::status.eq(MovementStatus::Requested))
        .filter(movements::updated_at.lt(cutoff))
        .set((
            movements::attempts.eq(movements::attempts + 1),
            movements::updated_at.eq(now),
        ))
        .returning(MovementRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(MoneyMovement::from))
}

/// REQUESTED intents nobody has taken in hand since `cutoff`, oldest first.
pub async fn stalled(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    movements::table
        .filter(movements::status.eq(MovementStatus::Requested))
        .filter(movements::updated_at.lt(cutoff))
        .order(movements::updated_at)
        .select(movements::id)
        .limit(limit)
        .load(conn)
        .await
}

/// Intents still REQUESTED that were made before `cutoff`, per kind: how many, and when the
/// oldest was made — what neither its request's retries nor the resumer could finish.
pub async fn stalled_by_kind(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> QueryResult<Vec<(MovementKind, i64, Option<DateTime<Utc>>)>> {
    use diesel::dsl::{count_star, min};
    movements::table
        .filter(movements::status.eq(MovementStatus::Requested))
        .filter(movements::created_at.lt(cutoff))
        .group_by(movements::kind)
        .select((movements::kind, count_star(), min(movements::created_at)))
        .load(conn)
        .await
}

/// A payout or collection still waiting on its provider, as staff see it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = movements, check_for_backend(diesel::pg::Pg))]
pub struct AwaitingProvider {
    pub id: Uuid,
    pub loan_id: Uuid,
    pub kind: MovementKind,
    pub amount: i64,
    pub provider_key: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every intent still REQUESTED, oldest first, at most `limit`.
pub async fn awaiting_provider(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<AwaitingProvider>> {
    movements::table
        .filter(movements::status.eq(MovementStatus::Requested))
        .order((movements::created_at.asc(), movements::id.asc()))
        .limit(limit)
        .select(AwaitingProvider::as_select())
        .load(conn)
        .await
}

/// Record the provider's answer on a locked REQUESTED intent.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: MovementStatus,
    provider_reference: Option<&str>,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(movements::table.find(id))
        .set((
            movements::status.eq(status),
            movements::provider_reference.eq(provider_reference),
            movements::failure.eq(failure),
            movements::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
