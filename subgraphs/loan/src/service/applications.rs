//! Quoting, applying and withdrawing: each change in one transaction with its events.

use chrono::{NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use tenor_contracts::loan::{CANCELLED_BY_BORROWER, LoanSubmittedV1};
use tenor_platform::quota;
use tenor_platform::refusal::{Failure, ServiceError, refuse};
use uuid::Uuid;

use super::{Loans, Outcome, is_unique_violation};
use crate::domain::application::{
    check_application_limit, check_idempotency_key, check_terms, normalise_purpose, replay,
};
use crate::domain::eligibility::check_eligibility;
use crate::domain::schedule::{Schedule, due_dates, schedule};
use crate::domain::{Loan, LoanRefusal, LoanStatus, ReviewSource};
use crate::events::Publisher;
use crate::store::reviews::{Review, insert_review};
use crate::store::{ONE_OPEN_LOAN_INDEX, eligibility, loans, movements};

/// A quote: the schedule a loan would have, with due dates as if disbursed `on`.
#[derive(Debug, Clone)]
pub struct Quote {
    pub schedule: Schedule,
    pub due_dates: Vec<NaiveDate>,
}

impl Loans {
    /// The schedule `amount` over `tenor` months would have if disbursed on `today`.
    #[tracing::instrument(skip(self))]
    pub fn quote(&self, amount: i64, tenor: i32, today: NaiveDate) -> Outcome<Quote> {
        let tenor = check_terms(&self.product, amount, tenor).map_err(Failure::refused)?;
        Ok(Quote {
            schedule: schedule(&self.product, amount, tenor),
            due_dates: due_dates(today, tenor),
        })
    }

    /// Apply for a loan. A replayed idempotency key returns the loan it created (also past the
    /// daily limit); the partial unique index turns concurrent second applications into
    /// `LOAN_ALREADY_OPEN` — so the daily limit, read before the insert, holds exactly: two
    /// applications racing past it cannot both be stored.
    #[tracing::instrument(skip_all, fields(%user_id, amount, tenor))]
    pub async fn apply(
        &self,
        user_id: Uuid,
        amount: i64,
        tenor: i32,
        purpose: &str,
        key: &str,
    ) -> Outcome<Loan> {
        let (tenor, purpose) = check_terms(&self.product, amount, tenor)
            .and_then(|tenor| {
                check_idempotency_key(key)?;
                Ok((tenor, normalise_purpose(purpose)?))
            })
            .map_err(Failure::refused)?;
        let mut conn = self.conn().await?;
        if let Some(existing) = loans::find_by_key(&mut conn, user_id, key).await? {
            return replay(existing, amount, tenor, &purpose).map_err(Failure::refused);
        }
        check_eligible(&mut conn, user_id).await?;
        let now = Utc::now();
        let applied = loans::applied_since(&mut conn, user_id, now - quota::DAY).await?;
        check_application_limit(&applied, self.applications_per_day, now)
            .map_err(Failure::refused)?;

        let schedule = schedule(&self.product, amount, tenor);
        let inserted = self
            .insert_application(&mut conn, user_id, amount, tenor, &purpose, &schedule, key)
            .await;
        match inserted {
            // The same key raced in from a concurrent retry: that request's loan is ours.
            Err(failure) if is_unique_violation(&failure, None) => {
                if let Some(existing) = loans::find_by_key(&mut conn, user_id, key).await? {
                    return replay(existing, amount, tenor, &purpose).map_err(Failure::refused);
                }
                if is_unique_violation(&failure, Some(ONE_OPEN_LOAN_INDEX)) {
                    return refuse(LoanRefusal::LoanAlreadyOpen);
                }
                Err(failure)
            }
            other => other,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_application(
        &self,
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        amount: i64,
        tenor: u32,
        purpose: &str,
        schedule: &Schedule,
        key: &str,
    ) -> Outcome<Loan> {
        let now = Utc::now();
        conn.transaction(async |conn| {
            let loan = loans::insert(
                conn,
                loans::NewLoan {
                    id: Uuid::now_v7(),
                    user_id,
                    amount,
                    tenor_months: tenor,
                    purpose,
                    product: &self.product,
                    schedule,
                    idempotency_key: key,
                    now,
                },
            )
            .await?;
            let submitted = LoanSubmittedV1 {
                loan_id: loan.id,
                user_id,
                amount,
                tenor_months: tenor,
                purpose: purpose.to_owned(),
                total_cost: loan.total_cost(),
                monthly_installment: loan.monthly_installment,
                submitted_at: now,
            };
            self.publisher.publish(conn, loan.id, &submitted).await?;
            self.publisher
                .status_changed(conn, &loan, None, None, now)
                .await?;
            Ok(loan)
        })
        .await
    }

    /// The borrower withdraws an application before credit decides, or declines an approved
    /// loan before it is paid out (Fineract's WITHDRAWN_BY_CLIENT: "cancel before
    /// disbursement"). Under the loan's lock, which `disburseLoan` takes to record its payout,
    /// so a payout and a cancellation cannot both win.
    #[tracing::instrument(skip_all, fields(%user_id, %loan_id))]
    pub async fn cancel(&self, user_id: Uuid, loan_id: Uuid) -> Outcome<Loan> {
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(loan) = loans::lock(conn, loan_id)
                .await?
                .filter(|l| l.user_id == user_id)
            else {
                return refuse(LoanRefusal::NotFound { field: "id" });
            };
            if let Some(refusal) = withdrawal_refused(conn, &loan).await? {
                return refuse(refusal);
            }
            let cancelled = withdraw(conn, &self.publisher, &loan, CANCELLED_BY_BORROWER).await?;
            Ok(cancelled)
        })
        .await
    }
}

/// Why `loan` cannot be withdrawn now, if it cannot. Under the loan's lock.
pub(super) async fn withdrawal_refused(
    conn: &mut AsyncPgConnection,
    loan: &Loan,
) -> Result<Option<LoanRefusal>, ServiceError> {
    if !loan.status.can_become(LoanStatus::Cancelled) {
        return Ok(Some(LoanRefusal::NotCancellable));
    }
    // A payout at the provider with no recorded outcome may have moved the money.
    if movements::requested_payout(conn, loan.id).await?.is_some() {
        return Ok(Some(LoanRefusal::PayoutUnderWay));
    }
    Ok(None)
}

/// CANCELLED on the borrower's behalf, with the review history entry and the status event
/// (`reason` is its `reason`). The caller holds the loan's lock and checked
/// [`withdrawal_refused`].
pub(super) async fn withdraw(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    loan: &Loan,
    reason: &str,
) -> Result<Loan, ServiceError> {
    let now = Utc::now();
    let cancelled = loans::set_status(conn, loan.id, LoanStatus::Cancelled, now).await?;
    insert_review(
        conn,
        Review {
            loan_id: loan.id,
            old_value: loan.snapshot(),
            new_value: json!({ "status": cancelled.status.as_db(), "reason": reason }),
            score: None,
            source: ReviewSource::Borrower,
            decision_id: None,
            reviewer: Some(loan.user_id),
        },
    )
    .await?;
    publisher
        .status_changed(
            conn,
            &cancelled,
            Some(loan.status),
            Some(reason.into()),
            now,
        )
        .await?;
    Ok(cancelled)
}

/// KYC verified (and not expired) and the account active, from the local projections.
async fn check_eligible(conn: &mut AsyncPgConnection, user_id: Uuid) -> Outcome<()> {
    let account = eligibility::user_status(conn, user_id).await?;
    let kyc = eligibility::kyc_eligibility(conn, user_id).await?;
    check_eligibility(account, kyc.as_ref(), Utc::now()).map_err(Failure::refused)
}
