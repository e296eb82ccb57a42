//! The repayment ledger (`loans_repayments`, append-only): one row per collected payment, keyed
//! by the borrower's idempotency key.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::loans_repayments;

/// A repayment already accepted under `key`: (amount, provider reference).
pub async fn repayment(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    key: &str,
) -> QueryResult<Option<(i64, String)>> {
    loans_repayments::table
        .filter(loans_repayments::loan_id.eq(loan_id))
        .filter(loans_repayments::idempotency_key.eq(key))
        .select((
            loans_repayments::amount,
            loans_repayments::provider_reference,
        ))
        .first(conn)
        .await
        .optional()
}

pub async fn insert_repayment(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    key: &str,
    amount: i64,
    reference: &str,
) -> QueryResult<()> {
    diesel::insert_into(loans_repayments::table)
        .values((
            loans_repayments::id.eq(Uuid::now_v7()),
            loans_repayments::loan_id.eq(loan_id),
            loans_repayments::idempotency_key.eq(key),
            loans_repayments::amount.eq(amount),
            loans_repayments::provider_reference.eq(reference),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn total_repaid(conn: &mut AsyncPgConnection, loan_id: Uuid) -> QueryResult<i64> {
    let amounts: Vec<i64> = loans_repayments::table
        .filter(loans_repayments::loan_id.eq(loan_id))
        .select(loans_repayments::amount)
        .load(conn)
        .await?;
    Ok(amounts.into_iter().sum())
}
