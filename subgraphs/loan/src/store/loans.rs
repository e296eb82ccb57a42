//! The `loans` table: applications, decisions, disbursement and status.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tenor_platform::cursor::Cursor;
use uuid::Uuid;

use super::schema::loans;
use crate::domain::product::{ABSOLUTE_MAX_AMOUNT, InterestMethod, Product};
use crate::domain::schedule::Schedule;
use crate::domain::{Loan, LoanFilter, LoanStatus};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = loans, check_for_backend(diesel::pg::Pg))]
struct LoanRow {
    id: Uuid,
    user_id: Uuid,
    amount: i64,
    tenor_months: i32,
    purpose: String,
    status: LoanStatus,
    total_interest: i64,
    total_fee: i64,
    monthly_installment: i64,
    idempotency_key: String,
    credit_score: Option<i32>,
    reason_codes: Vec<String>,
    decision_reason: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    payout_reference: Option<String>,
    disbursed_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<LoanRow> for Loan {
    fn from(row: LoanRow) -> Self {
        Loan {
            id: row.id,
            user_id: row.user_id,
            amount: row.amount,
            tenor_months: row.tenor_months as u32,
            purpose: row.purpose,
            status: row.status,
            total_interest: row.total_interest,
            total_fee: row.total_fee,
            monthly_installment: row.monthly_installment,
            idempotency_key: row.idempotency_key,
            credit_score: row.credit_score,
            reason_codes: row.reason_codes,
            decision_reason: row.decision_reason,
            decided_at: row.decided_at,
            payout_reference: row.payout_reference,
            disbursed_on: row.disbursed_on,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn loans_of(rows: Vec<LoanRow>) -> Vec<Loan> {
    rows.into_iter().map(Loan::from).collect()
}

/// A new application.
pub struct NewLoan<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub tenor_months: u32,
    pub purpose: &'a str,
    pub product: &'a Product,
    pub schedule: &'a Schedule,
    pub idempotency_key: &'a str,
    pub now: DateTime<Utc>,
}

/// Insert a SUBMITTED loan. Fails with a unique violation on
/// [`super::ONE_OPEN_LOAN_INDEX`] when the borrower already has an open loan, or on the
/// idempotency key.
pub async fn insert(conn: &mut AsyncPgConnection, new: NewLoan<'_>) -> QueryResult<Loan> {
    let row: LoanRow = diesel::insert_into(loans::table)
        .values((
            loans::id.eq(new.id),
            loans::user_id.eq(new.user_id),
            loans::amount.eq(new.amount),
            loans::tenor_months.eq(new.tenor_months as i32),
            loans::purpose.eq(new.purpose),
            loans::status.eq(LoanStatus::Submitted),
            loans::interest_method.eq(new.product.method),
            loans::monthly_rate_ppm.eq(new.product.monthly_rate_ppm),
            loans::admin_fee_ppm.eq(new.product.admin_fee_ppm),
            loans::rounding_unit.eq(new.product.rounding_unit),
            loans::total_interest.eq(new.schedule.total_interest()),
            loans::total_fee.eq(new.schedule.total_fee()),
            loans::monthly_installment.eq(new.schedule.installments[0].total()),
            loans::idempotency_key.eq(new.idempotency_key),
            loans::created_at.eq(new.now),
            loans::updated_at.eq(new.now),
        ))
        .returning(LoanRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

/// The stored product terms of a loan (the agreement), to rebuild its schedule.
pub async fn terms(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Product> {
    let (method, rate, fee, unit, tenor): (InterestMethod, i64, i64, i64, i32) = loans::table
        .find(id)
        .select((
            loans::interest_method,
            loans::monthly_rate_ppm,
            loans::admin_fee_ppm,
            loans::rounding_unit,
            loans::tenor_months,
        ))
        .get_result(conn)
        .await?;
    Ok(Product {
        min_amount: 1,
        max_amount: ABSOLUTE_MAX_AMOUNT,
        min_tenor_months: tenor as u32,
        max_tenor_months: tenor as u32,
        method,
        monthly_rate_ppm: rate,
        admin_fee_ppm: fee,
        rounding_unit: unit,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Loan>> {
    let row: Option<LoanRow> = loans::table
        .find(id)
        .select(LoanRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Loan::from))
}

/// The loan, locked for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Loan>> {
    let row: Option<LoanRow> = loans::table
        .find(id)
        .select(LoanRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Loan::from))
}

/// When the borrower applied since `since`, oldest first.
pub async fn applied_since(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    loans::table
        .filter(loans::user_id.eq(user_id))
        .filter(loans::created_at.gt(since))
        .order(loans::created_at.asc())
        .select(loans::created_at)
        .load(conn)
        .await
}

pub async fn find_by_key(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key: &str,
) -> QueryResult<Option<Loan>> {
    let row: Option<LoanRow> = loans::table
        .filter(loans::user_id.eq(user_id))
        .filter(loans::idempotency_key.eq(key))
        .select(LoanRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Loan::from))
}

/// The loans of `ids` that exist, in one query (the entity and `loan(id)` loader).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Loan>> {
    let rows = loans::table
        .filter(loans::id.eq_any(ids))
        .select(LoanRow::as_select())
        .load(conn)
        .await?;
    Ok(loans_of(rows))
}

/// The loans of each of `user_ids`, newest first, in one query (the `User.loans` loader); a
/// borrower without loans is absent.
pub async fn of_users(
    conn: &mut AsyncPgConnection,
    user_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Loan>>> {
    let rows = loans::table
        .filter(loans::user_id.eq_any(user_ids))
        .order((loans::created_at.desc(), loans::id.desc()))
        .select(LoanRow::as_select())
        .load(conn)
        .await?;
    let mut by_user: HashMap<Uuid, Vec<Loan>> = HashMap::new();
    for loan in loans_of(rows) {
        by_user.entry(loan.user_id).or_default().push(loan);
    }
    Ok(by_user)
}

/// A borrower's loans, newest first.
pub async fn of_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Vec<Loan>> {
    let rows = loans::table
        .filter(loans::user_id.eq(user_id))
        .order((loans::created_at.desc(), loans::id.desc()))
        .select(LoanRow::as_select())
        .load(conn)
        .await?;
    Ok(loans_of(rows))
}

/// Loans newest first after `after` (the kit's cursor: created_at, id).
pub async fn search(
    conn: &mut AsyncPgConnection,
    filter: LoanFilter,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<Loan>> {
    let mut query = loans::table.select(LoanRow::as_select()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(loans::status.eq(status));
    }
    if let Some(user_id) = filter.user_id {
        query = query.filter(loans::user_id.eq(user_id));
    }
    if let Some(after) = after {
        query = query.filter(
            loans::created_at
                .lt(after.at)
                .or(loans::created_at.eq(after.at).and(loans::id.lt(after.id))),
        );
    }
    let rows = query
        .order((loans::created_at.desc(), loans::id.desc()))
        .limit(limit)
        .load(conn)
        .await?;
    Ok(loans_of(rows))
}

/// Credit's decision as recorded on the loan.
pub struct Decision<'a> {
    pub status: LoanStatus,
    pub score: i32,
    pub reason_codes: &'a [String],
    pub reason: Option<&'a str>,
    pub decided_at: DateTime<Utc>,
}

/// Record a decision (APPROVED/REJECTED) on a locked SUBMITTED loan.
pub async fn record_decision(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    decision: Decision<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Loan> {
    let row: LoanRow = diesel::update(loans::table.find(id))
        .set((
            loans::status.eq(decision.status),
            loans::credit_score.eq(decision.score),
            loans::reason_codes.eq(decision.reason_codes),
            loans::decision_reason.eq(decision.reason),
            loans::decided_at.eq(decision.decided_at),
            loans::updated_at.eq(now),
        ))
        .returning(LoanRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: LoanStatus,
    now: DateTime<Utc>,
) -> QueryResult<Loan> {
    let paid_at = (status == LoanStatus::Paid).then_some(now);
    let cancelled_at = (status == LoanStatus::Cancelled).then_some(now);
    let row: LoanRow = diesel::update(loans::table.find(id))
        .set((
            loans::status.eq(status),
            loans::paid_at.eq(paid_at),
            loans::cancelled_at.eq(cancelled_at),
            loans::updated_at.eq(now),
        ))
        .returning(LoanRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

pub async fn record_disbursement(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    payout_reference: &str,
    disbursed_on: NaiveDate,
    disbursed_by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Loan> {
    let row: LoanRow = diesel::update(loans::table.find(id))
        .set((
            loans::status.eq(LoanStatus::Active),
            loans::payout_reference.eq(payout_reference),
            loans::disbursed_on.eq(disbursed_on),
            loans::disbursed_by.eq(disbursed_by),
            loans::activated_at.eq(now),
            loans::updated_at.eq(now),
        ))
        .returning(LoanRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}
