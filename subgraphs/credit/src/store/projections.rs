//! The projections of other contexts' events: `credit_borrowers` (auth, user, kyc) and
//! `credit_loan_history` (loan). Each write keeps the newest state seen (`*_as_of`), so a
//! redelivered or late event never reverts a newer one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{credit_borrowers, credit_loan_history};
use crate::domain::internal_score::{BorrowerFacts, LoanRecord};
use crate::domain::status::{AccountState, KycState, LoanState};

pub async fn project_registration(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    kind: &str,
    registered_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO credit_borrowers (user_id, kind, registered_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET kind = EXCLUDED.kind, \
             registered_at = EXCLUDED.registered_at",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(kind)
    .bind::<Timestamptz, _>(registered_at)
    .execute(conn)
    .await
    .map(drop)
}

pub async fn project_account_status(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    status: AccountState,
    as_of: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO credit_borrowers (user_id, account_status, status_as_of) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET account_status = EXCLUDED.account_status, \
             status_as_of = EXCLUDED.status_as_of \
         WHERE credit_borrowers.status_as_of IS NULL \
            OR credit_borrowers.status_as_of <= EXCLUDED.status_as_of",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(status)
    .bind::<Timestamptz, _>(as_of)
    .execute(conn)
    .await
    .map(drop)
}

/// A KYC change. A new submission after a verification does not withdraw the verification.
pub async fn project_kyc(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    status: KycState,
    verified_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO credit_borrowers (user_id, kyc_status, kyc_verified_at, kyc_expires_at, kyc_as_of) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET kyc_status = EXCLUDED.kyc_status, \
             kyc_verified_at = COALESCE(EXCLUDED.kyc_verified_at, credit_borrowers.kyc_verified_at), \
             kyc_expires_at = EXCLUDED.kyc_expires_at, kyc_as_of = EXCLUDED.kyc_as_of \
         WHERE (credit_borrowers.kyc_as_of IS NULL OR credit_borrowers.kyc_as_of <= EXCLUDED.kyc_as_of) \
           AND NOT (credit_borrowers.kyc_status IS NOT DISTINCT FROM 'VERIFIED' \
                    AND EXCLUDED.kyc_status = 'SUBMITTED')",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Timestamptz>, _>(verified_at)
    .bind::<Nullable<Timestamptz>, _>(expires_at)
    .bind::<Timestamptz, _>(as_of)
    .execute(conn)
    .await
    .map(drop)
}

/// A submitted loan enters the history (once).
pub async fn project_submitted_loan(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    user_id: Uuid,
    amount: i64,
    tenor_months: i32,
    submitted_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO credit_loan_history \
             (loan_id, user_id, amount, tenor_months, status, submitted_at, status_as_of) \
         VALUES ($1, $2, $3, $4, 'SUBMITTED', $5, $5) ON CONFLICT (loan_id) DO NOTHING",
    )
    .bind::<SqlUuid, _>(loan_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Int8, _>(amount)
    .bind::<Int4, _>(tenor_months)
    .bind::<Timestamptz, _>(submitted_at)
    .execute(conn)
    .await
    .map(drop)
}

/// A loan's new status (a loan credit never saw submitted is not in the history: ignored).
pub async fn project_loan_status(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    status: LoanState,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE credit_loan_history SET status = $2, status_as_of = $3, \
             activated_at = CASE WHEN $2 = 'ACTIVE' THEN COALESCE(activated_at, $3) ELSE activated_at END, \
             paid_at = CASE WHEN $2 = 'PAID' THEN COALESCE(paid_at, $3) ELSE paid_at END \
         WHERE loan_id = $1 AND status_as_of <= $3",
    )
    .bind::<SqlUuid, _>(loan_id)
    .bind::<Text, _>(status)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await
    .map(drop)
}

/// An installment went overdue; each installment counts once, with its longest delay.
pub async fn project_overdue(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
    installment_number: i32,
    days_past_due: i32,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO credit_overdue_installments (loan_id, installment_number, days_past_due) \
         VALUES ($1, $2, $3) ON CONFLICT (loan_id, installment_number) DO UPDATE \
         SET days_past_due = GREATEST(credit_overdue_installments.days_past_due, EXCLUDED.days_past_due)",
    )
    .bind::<SqlUuid, _>(loan_id)
    .bind::<Int4, _>(installment_number)
    .bind::<Int4, _>(days_past_due)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "UPDATE credit_loan_history h SET overdue_installments = o.n, max_days_past_due = o.worst \
         FROM (SELECT count(*)::int AS n, max(days_past_due) AS worst \
               FROM credit_overdue_installments WHERE loan_id = $1) o \
         WHERE h.loan_id = $1",
    )
    .bind::<SqlUuid, _>(loan_id)
    .execute(conn)
    .await
    .map(drop)
}

type BorrowerRow = (
    Option<DateTime<Utc>>,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// What the projections know about `user_id`, leaving out the loan being scored.
pub async fn borrower_facts(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    except_loan: Uuid,
) -> QueryResult<BorrowerFacts> {
    let borrower: Option<BorrowerRow> = credit_borrowers::table
        .find(user_id)
        .select((
            credit_borrowers::registered_at,
            credit_borrowers::account_status,
            credit_borrowers::kyc_status,
            credit_borrowers::kyc_expires_at,
        ))
        .first(conn)
        .await
        .optional()?;
    let loans: Vec<(i64, i32, LoanState, i32, i32)> = credit_loan_history::table
        .filter(credit_loan_history::user_id.eq(user_id))
        .filter(credit_loan_history::loan_id.ne(except_loan))
        .order(credit_loan_history::submitted_at.asc())
        .select((
            credit_loan_history::amount,
            credit_loan_history::tenor_months,
            credit_loan_history::status,
            credit_loan_history::overdue_installments,
            credit_loan_history::max_days_past_due,
        ))
        .load(conn)
        .await?;
    let (registered_at, account, kyc, kyc_expires_at) =
        borrower.unwrap_or((None, "ACTIVE".to_owned(), None, None));
    Ok(BorrowerFacts {
        registered_at,
        kyc: kyc.as_deref().and_then(KycState::from_db),
        kyc_expires_at,
        account: AccountState::from_db(&account).unwrap_or(AccountState::Active),
        loans: loans
            .into_iter()
            .map(|(amount, tenor, status, overdue, dpd)| LoanRecord {
                amount,
                tenor_months: tenor.max(0) as u32,
                status,
                overdue_installments: overdue.max(0) as u32,
                max_days_past_due: dpd.max(0) as u32,
            })
            .collect(),
    })
}
