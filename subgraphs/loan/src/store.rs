//! Persistence of loans, schedules, review history, repayments and the eligibility projections
//! (diesel-async). Writes lock the loan row (`FOR UPDATE`) first so concurrent changes to one
//! loan apply one after the other.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::{InstallmentState, Loan, LoanStatus};
use crate::product::{InterestMethod, Product};
use crate::schedule::Schedule;

diesel::table! {
    loans (id) {
        id -> Uuid,
        user_id -> Uuid,
        amount -> Int8,
        tenor_months -> Int4,
        purpose -> Text,
        status -> Text,
        interest_method -> Text,
        monthly_rate_ppm -> Int8,
        admin_fee_ppm -> Int8,
        rounding_unit -> Int8,
        total_interest -> Int8,
        total_fee -> Int8,
        monthly_installment -> Int8,
        idempotency_key -> Text,
        credit_score -> Nullable<Int4>,
        reason_codes -> Array<Text>,
        decision_reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        payout_reference -> Nullable<Text>,
        disbursed_on -> Nullable<Date>,
        disbursed_by -> Nullable<Uuid>,
        activated_at -> Nullable<Timestamptz>,
        paid_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    loans_payments (loan_id, installment_number) {
        loan_id -> Uuid,
        installment_number -> Int4,
        due_date -> Date,
        principal_due -> Int8,
        interest_due -> Int8,
        fee_due -> Int8,
        principal_paid -> Int8,
        interest_paid -> Int8,
        fee_paid -> Int8,
        paid_date -> Nullable<Date>,
        overdue -> Bool,
        due_notified_at -> Nullable<Timestamptz>,
        overdue_notified_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    loans_review_history (id) {
        id -> Int8,
        loan_id -> Uuid,
        old_value -> Jsonb,
        new_value -> Jsonb,
        score -> Nullable<Int4>,
        source -> Text,
        decision_id -> Nullable<Uuid>,
        reviewer -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    loans_repayments (id) {
        id -> Uuid,
        loan_id -> Uuid,
        idempotency_key -> Text,
        amount -> Int8,
        provider_reference -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    loan_kyc_eligibility (user_id) {
        user_id -> Uuid,
        status -> Text,
        expires_at -> Nullable<Timestamptz>,
        as_of -> Timestamptz,
    }
}

diesel::table! {
    loan_user_status (user_id) {
        user_id -> Uuid,
        status -> Text,
        as_of -> Timestamptz,
    }
}

diesel::joinable!(loans_payments -> loans (loan_id));
diesel::allow_tables_to_appear_in_same_query!(loans, loans_payments);

/// The partial unique index that keeps one open loan per borrower.
pub const ONE_OPEN_LOAN_INDEX: &str = "loans_one_open_per_user";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("loan {id} has an unknown {column} value")]
    Corrupt { id: Uuid, column: &'static str },
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = loans, check_for_backend(diesel::pg::Pg))]
struct LoanRow {
    id: Uuid,
    user_id: Uuid,
    amount: i64,
    tenor_months: i32,
    purpose: String,
    status: String,
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

impl TryFrom<LoanRow> for Loan {
    type Error = StoreError;

    fn try_from(row: LoanRow) -> Result<Self, StoreError> {
        let status = LoanStatus::from_db(&row.status).ok_or(StoreError::Corrupt {
            id: row.id,
            column: "status",
        })?;
        Ok(Loan {
            id: row.id,
            user_id: row.user_id,
            amount: row.amount,
            tenor_months: row.tenor_months as u32,
            purpose: row.purpose,
            status,
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
        })
    }
}

fn loans_of(rows: Vec<LoanRow>) -> Result<Vec<Loan>, StoreError> {
    rows.into_iter().map(Loan::try_from).collect()
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

/// Insert a SUBMITTED loan. Fails with a unique violation on [`ONE_OPEN_LOAN_INDEX`] when the
/// borrower already has an open loan, or on the idempotency key.
pub async fn insert(conn: &mut AsyncPgConnection, new: NewLoan<'_>) -> Result<Loan, StoreError> {
    let method = match new.product.method {
        InterestMethod::Flat => "FLAT",
        InterestMethod::Annuity => "ANNUITY",
    };
    let row: LoanRow = diesel::insert_into(loans::table)
        .values((
            loans::id.eq(new.id),
            loans::user_id.eq(new.user_id),
            loans::amount.eq(new.amount),
            loans::tenor_months.eq(new.tenor_months as i32),
            loans::purpose.eq(new.purpose),
            loans::status.eq(LoanStatus::Submitted.as_db()),
            loans::interest_method.eq(method),
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
    row.try_into()
}

/// The stored product terms of a loan (the agreement), to rebuild its schedule.
pub async fn terms(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Product, StoreError> {
    let (method, rate, fee, unit, tenor): (String, i64, i64, i64, i32) = loans::table
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
    let method = method.parse().map_err(|_| StoreError::Corrupt {
        id,
        column: "interest_method",
    })?;
    Ok(Product {
        min_amount: 1,
        max_amount: crate::product::ABSOLUTE_MAX_AMOUNT,
        min_tenor_months: tenor as u32,
        max_tenor_months: tenor as u32,
        method,
        monthly_rate_ppm: rate,
        admin_fee_ppm: fee,
        rounding_unit: unit,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Loan>, StoreError> {
    let row: Option<LoanRow> = loans::table
        .find(id)
        .select(LoanRow::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(Loan::try_from).transpose()
}

/// The loan, locked for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Loan>, StoreError> {
    let row: Option<LoanRow> = loans::table
        .find(id)
        .select(LoanRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    row.map(Loan::try_from).transpose()
}

pub async fn find_by_key(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<Loan>, StoreError> {
    let row: Option<LoanRow> = loans::table
        .filter(loans::user_id.eq(user_id))
        .filter(loans::idempotency_key.eq(key))
        .select(LoanRow::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(Loan::try_from).transpose()
}

pub async fn of_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Vec<Loan>, StoreError> {
    let rows = loans::table
        .filter(loans::user_id.eq(user_id))
        .order((loans::created_at.desc(), loans::id.desc()))
        .select(LoanRow::as_select())
        .load(conn)
        .await?;
    loans_of(rows)
}

/// A page position of the back-office search (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePosition {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

pub async fn search(
    conn: &mut AsyncPgConnection,
    status: Option<LoanStatus>,
    user_id: Option<Uuid>,
    after: Option<PagePosition>,
    limit: i64,
) -> Result<Vec<Loan>, StoreError> {
    let mut query = loans::table.select(LoanRow::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(loans::status.eq(status.as_db()));
    }
    if let Some(user_id) = user_id {
        query = query.filter(loans::user_id.eq(user_id));
    }
    if let Some(after) = after {
        query = query.filter(
            loans::created_at.lt(after.created_at).or(loans::created_at
                .eq(after.created_at)
                .and(loans::id.lt(after.id))),
        );
    }
    let rows = query
        .order((loans::created_at.desc(), loans::id.desc()))
        .limit(limit)
        .load(conn)
        .await?;
    loans_of(rows)
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
) -> Result<Loan, StoreError> {
    let row: LoanRow = diesel::update(loans::table.find(id))
        .set((
            loans::status.eq(decision.status.as_db()),
            loans::credit_score.eq(decision.score),
            loans::reason_codes.eq(decision.reason_codes),
            loans::decision_reason.eq(decision.reason),
            loans::decided_at.eq(decision.decided_at),
            loans::updated_at.eq(now),
        ))
        .returning(LoanRow::as_returning())
        .get_result(conn)
        .await?;
    row.try_into()
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: LoanStatus,
    now: DateTime<Utc>,
) -> Result<Loan, StoreError> {
    let paid_at = (status == LoanStatus::Paid).then_some(now);
    let cancelled_at = (status == LoanStatus::Cancelled).then_some(now);
    let row: LoanRow = diesel::update(loans::table.find(id))
        .set((
            loans::status.eq(status.as_db()),
            loans::paid_at.eq(paid_at),
            loans::cancelled_at.eq(cancelled_at),
            loans::updated_at.eq(now),
        ))
        .returning(LoanRow::as_returning())
        .get_result(conn)
        .await?;
    row.try_into()
}

pub async fn record_disbursement(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    payout_reference: &str,
    disbursed_on: NaiveDate,
    disbursed_by: Uuid,
    now: DateTime<Utc>,
) -> Result<Loan, StoreError> {
    let row: LoanRow = diesel::update(loans::table.find(id))
        .set((
            loans::status.eq(LoanStatus::Active.as_db()),
            loans::payout_reference.eq(payout_reference),
            loans::disbursed_on.eq(disbursed_on),
            loans::disbursed_by.eq(disbursed_by),
            loans::activated_at.eq(now),
            loans::updated_at.eq(now),
        ))
        .returning(LoanRow::as_returning())
        .get_result(conn)
        .await?;
    row.try_into()
}

// ---------------------------------------------------------------------------------------------
// Schedule

pub async fn insert_schedule(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    schedule: &Schedule,
    due_dates: &[NaiveDate],
) -> Result<(), StoreError> {
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
) -> Result<(), StoreError> {
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

pub async fn installments(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
) -> Result<Vec<InstallmentState>, StoreError> {
    let rows: Vec<InstallmentRow> = loans_payments::table
        .filter(loans_payments::loan_id.eq(loan_id))
        .order(loans_payments::installment_number)
        .select((
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
        ))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(installment).collect())
}

/// Save the paid amounts of one installment (already allocated in the domain).
pub async fn save_paid(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    installment: &InstallmentState,
) -> Result<(), StoreError> {
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
        (
            loans::id,
            loans::user_id,
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
            ),
        )
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
) -> Result<Vec<(Uuid, Uuid, InstallmentState)>, StoreError> {
    let rows: Vec<OpenRow> = loans_payments::table
        .inner_join(loans::table)
        .filter(loans::status.eq(LoanStatus::Active.as_db()))
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
) -> Result<Vec<(Uuid, Uuid, InstallmentState)>, StoreError> {
    let rows: Vec<OpenRow> = loans_payments::table
        .inner_join(loans::table)
        .filter(loans::status.eq(LoanStatus::Active.as_db()))
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
) -> Result<(), StoreError> {
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
) -> Result<(), StoreError> {
    diesel::update(loans_payments::table.find((loan_id, number as i32)))
        .set((
            loans_payments::overdue.eq(true),
            loans_payments::overdue_notified_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Review history and repayments

pub struct Review<'a> {
    pub loan_id: Uuid,
    pub old_value: serde_json::Value,
    pub new_value: serde_json::Value,
    pub score: Option<i32>,
    pub source: &'a str,
    pub decision_id: Option<Uuid>,
    pub reviewer: Option<Uuid>,
}

pub async fn insert_review(
    conn: &mut AsyncPgConnection,
    review: Review<'_>,
) -> Result<(), StoreError> {
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
) -> Result<Vec<(String, Option<i32>, Option<Uuid>, serde_json::Value)>, StoreError> {
    Ok(loans_review_history::table
        .filter(loans_review_history::loan_id.eq(loan_id))
        .order(loans_review_history::id)
        .select((
            loans_review_history::source,
            loans_review_history::score,
            loans_review_history::decision_id,
            loans_review_history::new_value,
        ))
        .load(conn)
        .await?)
}

/// A repayment already accepted under `key`: (amount, provider reference).
pub async fn repayment(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    key: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(loans_repayments::table
        .filter(loans_repayments::loan_id.eq(loan_id))
        .filter(loans_repayments::idempotency_key.eq(key))
        .select((
            loans_repayments::amount,
            loans_repayments::provider_reference,
        ))
        .first(conn)
        .await
        .optional()?)
}

pub async fn insert_repayment(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    key: &str,
    amount: i64,
    reference: &str,
) -> Result<(), StoreError> {
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

pub async fn total_repaid(conn: &mut AsyncPgConnection, loan_id: Uuid) -> Result<i64, StoreError> {
    let amounts: Vec<i64> = loans_repayments::table
        .filter(loans_repayments::loan_id.eq(loan_id))
        .select(loans_repayments::amount)
        .load(conn)
        .await?;
    Ok(amounts.into_iter().sum())
}

// ---------------------------------------------------------------------------------------------
// Eligibility projections

/// KYC status of a borrower as projected from kyc events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycEligibility {
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn kyc_eligibility(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<Option<KycEligibility>, StoreError> {
    let row: Option<(String, Option<DateTime<Utc>>)> = loan_kyc_eligibility::table
        .find(user_id)
        .select((
            loan_kyc_eligibility::status,
            loan_kyc_eligibility::expires_at,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(status, expires_at)| KycEligibility { status, expires_at }))
}

/// Upsert unless the stored state is newer (`as_of`): late, out-of-order events lose.
pub async fn project_kyc(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    status: &str,
    expires_at: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
) -> Result<(), StoreError> {
    use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO loan_kyc_eligibility (user_id, status, expires_at, as_of) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET status = EXCLUDED.status, \
             expires_at = EXCLUDED.expires_at, as_of = EXCLUDED.as_of \
         WHERE loan_kyc_eligibility.as_of <= EXCLUDED.as_of",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Timestamptz>, _>(expires_at)
    .bind::<Timestamptz, _>(as_of)
    .execute(conn)
    .await?;
    Ok(())
}

/// The borrower's account status; `None` = never changed since registration (ACTIVE).
pub async fn user_status(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(loan_user_status::table
        .find(user_id)
        .select(loan_user_status::status)
        .first(conn)
        .await
        .optional()?)
}

pub async fn project_user_status(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    status: &str,
    as_of: DateTime<Utc>,
) -> Result<(), StoreError> {
    use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO loan_user_status (user_id, status, as_of) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET status = EXCLUDED.status, as_of = EXCLUDED.as_of \
         WHERE loan_user_status.as_of <= EXCLUDED.as_of",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(status)
    .bind::<Timestamptz, _>(as_of)
    .execute(conn)
    .await?;
    Ok(())
}
