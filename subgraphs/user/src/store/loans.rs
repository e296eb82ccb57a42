//! `user_loan`: the status of each of an account's loans, as loan last announced it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::user_loan::dsl as l;
use crate::domain::LoanState;

/// Record a loan's status. One loan's events arrive in order (its id is their key), but a
/// re-published older event must not undo a newer status: only a change at least as new as
/// the stored one is written.
pub async fn project_loan(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    user_id: Uuid,
    status: LoanState,
    changed_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO user_loan (loan_id, user_id, status, changed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (loan_id) DO UPDATE SET status = EXCLUDED.status, \
         changed_at = EXCLUDED.changed_at WHERE user_loan.changed_at <= EXCLUDED.changed_at",
    )
    .bind::<SqlUuid, _>(loan_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(status)
    .bind::<Timestamptz, _>(changed_at)
    .execute(conn)
    .await
    .map(drop)
}

/// How many of the account's loans are open ([`LoanState::OPEN`]).
pub async fn open_loans(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<i64> {
    l::user_loan
        .filter(l::user_id.eq(user_id))
        .filter(l::status.eq_any(LoanState::OPEN))
        .count()
        .get_result(conn)
        .await
}
