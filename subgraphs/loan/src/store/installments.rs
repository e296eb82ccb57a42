//! The installment schedule (`loans_payments`): written on approval, dated on disbursement,
//! paid down by repayments, flagged by the daily job.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{loans, loans_payments};
use crate::domain::schedule::Schedule;
use crate::domain::{InstallmentState, LoanStatus};

/// The columns of one installment, in [`InstallmentRow`] order.
macro_rules! installment_columns {
    () => {
        (
            loans_payments::installment_number,
            loans_payments::due_date,
            loans_payments::principal_due,
            loans_payments::interest_due,
            loans_payments::fee_due,
            loans_payments::principal_paid,
            loans_payments::interest_paid,
            loans_payments::fee_paid,
            loans_payments::paid_date,
            loans_payments::overdue,
        )
    };
}

pub async fn insert_schedule(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    schedule: &Schedule,
    due_dates: &[NaiveDate],
) -> QueryResult<()> {
    let rows: Vec<_> = schedule
        .installments
        .iter()
        .zip(due_dates)
        .map(|(i, due)| {
            (
                loans_payments::loan_id.eq(loan_id),
                loans_payments::installment_number.eq(i.number as i32),
                loans_payments::due_date.eq(*due),
                loans_payments::principal_due.eq(i.principal),
                loans_payments::interest_due.eq(i.interest),
                loans_payments::fee_due.eq(i.fee),
            )
        })
        .collect();
    diesel::insert_into(loans_payments::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_due_dates(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    due_dates: &[NaiveDate],
) -> QueryResult<()> {
    for (index, due) in due_dates.iter().enumerate() {
        diesel::update(loans_payments::table.find((loan_id, index as i32 + 1)))
            .set(loans_payments::due_date.eq(*due))
            .execute(conn)
            .await?;
    }
    Ok(())
}

type InstallmentRow = (
    i32,
    NaiveDate,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<NaiveDate>,
    bool,
);

fn installment(row: InstallmentRow) -> InstallmentState {
    InstallmentState {
        number: row.0 as u32,
        due_date: row.1,
        principal_due: row.2,
        interest_due: row.3,
        fee_due: row.4,
        principal_paid: row.5,
        interest_paid: row.6,
        fee_paid: row.7,
        paid_date: row.8,
        overdue: row.9,
    }
}

/// One loan's schedule, by installment number.
pub async fn installments(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
) -> QueryResult<Vec<InstallmentState>> {
    let rows: Vec<InstallmentRow> = loans_payments::table
        .filter(loans_payments::loan_id.eq(loan_id))
        .order(loans_payments::installment_number)
        .select(installment_columns!())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(installment).collect())
}

/// Save the paid amounts of one installment (already allocated in the domain).
pub async fn save_paid(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    installment: &InstallmentState,
) -> QueryResult<()> {
    diesel::update(loans_payments::table.find((loan_id, installment.number as i32)))
        .set((
            loans_payments::principal_paid.eq(installment.principal_paid),
            loans_payments::interest_paid.eq(installment.interest_paid),
            loans_payments::fee_paid.eq(installment.fee_paid),
            loans_payments::paid_date.eq(installment.paid_date),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The columns of one installment, joined to its loan's id and borrower.
macro_rules! open_installment_columns {
    () => {
        (loans::id, loans::user_id, installment_columns!())
    };
}

type OpenRow = (Uuid, Uuid, InstallmentRow);

fn open_rows(rows: Vec<OpenRow>) -> Vec<(Uuid, Uuid, InstallmentState)> {
    rows.into_iter()
        .map(|(loan, user, row)| (loan, user, installment(row)))
        .collect()
}

/// Unpaid installments of ACTIVE loans falling due in `from..=to` whose reminder has not gone
/// out, locked (skipping rows another replica's job holds).
pub async fn due_for_reminder(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(Uuid, Uuid, InstallmentState)>> {
    let rows: Vec<OpenRow> = loans_payments::table
        .inner_join(loans::table)
        .filter(loans::status.eq(LoanStatus::Active))
        .filter(loans_payments::paid_date.is_null())
        .filter(loans_payments::due_date.between(from, to))
        .filter(loans_payments::due_notified_at.is_null())
        .order((loans_payments::due_date, loans_payments::loan_id))
        .select(open_installment_columns!())
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    Ok(open_rows(rows))
}

/// Unpaid installments of ACTIVE loans due before `today` not yet marked overdue.
pub async fn newly_overdue(
    conn: &mut AsyncPgConnection,
    today: NaiveDate,
) -> QueryResult<Vec<(Uuid, Uuid, InstallmentState)>> {
    let rows: Vec<OpenRow> = loans_payments::table
        .inner_join(loans::table)
        .filter(loans::status.eq(LoanStatus::Active))
        .filter(loans_payments::paid_date.is_null())
        .filter(loans_payments::due_date.lt(today))
        .filter(loans_payments::overdue.eq(false))
        .order((loans_payments::due_date, loans_payments::loan_id))
        .select(open_installment_columns!())
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    Ok(open_rows(rows))
}

pub async fn mark_reminded(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    number: u32,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(loans_payments::table.find((loan_id, number as i32)))
        .set(loans_payments::due_notified_at.eq(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_overdue(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    number: u32,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(loans_payments::table.find((loan_id, number as i32)))
        .set((
            loans_payments::overdue.eq(true),
            loans_payments::overdue_notified_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The schedules of many loans in one query (for the DataLoader), by loan.
pub async fn installments_of_many(
    conn: &mut AsyncPgConnection,
    loan_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<InstallmentState>>> {
    let rows: Vec<(Uuid, InstallmentRow)> = loans_payments::table
        .filter(loans_payments::loan_id.eq_any(loan_ids))
        .order((loans_payments::loan_id, loans_payments::installment_number))
        .select((loans_payments::loan_id, installment_columns!()))
        .load(conn)
        .await?;
    let mut by_loan: HashMap<Uuid, Vec<InstallmentState>> = HashMap::new();
    for (loan_id, row) in rows {
        by_loan.entry(loan_id).or_default().push(installment(row));
    }
    Ok(by_loan)
}
