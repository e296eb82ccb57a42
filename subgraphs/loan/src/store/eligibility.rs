//! The eligibility projections of kyc and user events (`loan_kyc_eligibility`,
//! `loan_user_status`). Each keeps the state of the newest event seen (`as_of`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{loan_kyc_eligibility, loan_user_status};
use crate::domain::eligibility::{AccountState, KycEligibility, KycStatus};

pub async fn kyc_eligibility(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<Option<KycEligibility>> {
    let row: Option<(KycStatus, Option<DateTime<Utc>>)> = loan_kyc_eligibility::table
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
    status: KycStatus,
    expires_at: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
) -> QueryResult<()> {
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
) -> QueryResult<Option<AccountState>> {
    loan_user_status::table
        .find(user_id)
        .select(loan_user_status::status)
        .first(conn)
        .await
        .optional()
}

pub async fn project_user_status(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    status: AccountState,
    as_of: DateTime<Utc>,
) -> QueryResult<()> {
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
