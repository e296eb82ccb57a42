//! Disbursement: pay an APPROVED loan's principal out and start its schedule, following the
//! three steps of [`super::money_movement`] (request → provider call → settle).

use chrono::{NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use tenor_contracts::loan::LoanActivatedV1;
use tenor_platform::refusal::{Failure, ServiceError, refuse};
use uuid::Uuid;

use super::money_movement::{ProviderAnswer, Settled};
use super::{Loans, Outcome, missing};
use crate::domain::eligibility::AccountState;
use crate::domain::money_movement::{MoneyMovement, MovementKind, MovementStatus};
use crate::domain::schedule::due_dates;
use crate::domain::{Loan, LoanRefusal, LoanStatus, ReviewSource};
use crate::store::reviews::{Review, insert_review};
use crate::store::{eligibility, installments, loans, movements};

impl Loans {
    /// Back office: pay the principal out and start the schedule from `today`. Asking again
    /// while an earlier payout has no recorded outcome finishes that payout (same provider key)
    /// instead of starting another.
    #[tracing::instrument(skip_all, fields(%staff_id, %loan_id))]
    pub async fn disburse(&self, staff_id: Uuid, loan_id: Uuid, today: NaiveDate) -> Outcome<Loan> {
        let payout = self.request_payout(staff_id, loan_id, today).await?;
        let answer = self.call_provider(&payout).await;
        self.settle_payout(payout, answer).await
    }

    /// (a): the rules under the loan's lock, and the intent recorded (or an unfinished one
    /// taken up again).
    async fn request_payout(
        &self,
        staff_id: Uuid,
        loan_id: Uuid,
        today: NaiveDate,
    ) -> Outcome<MoneyMovement> {
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(loan) = loans::lock(conn, loan_id).await? else {
                return refuse(LoanRefusal::NotFound { field: "id" });
            };
            let now = Utc::now();
            if let Some(unfinished) = movements::requested_payout(conn, loan_id).await? {
                tracing::info!(movement_id = %unfinished.id, "resuming an unfinished payout");
                let claimed = movements::claim(conn, unfinished.id, None, now).await?;
                return claimed.ok_or_else(|| missing(unfinished.id).into());
            }
            if let Some(on) = loan.disbursed_on {
                return refuse(LoanRefusal::AlreadyDisbursed {
                    on,
                    status: loan.status,
                });
            }
            if loan.status != LoanStatus::Approved {
                return refuse(LoanRefusal::NotApproved {
                    status: loan.status,
                });
            }
            // No money to an account staff blocked (fraud, a dispute) or its owner deleted since
            // the approval: the loan waits, APPROVED, for the account to be active again.
            if let Some(account) = eligibility::user_status(conn, loan.user_id).await?
                && account != AccountState::Active
            {
                return refuse(LoanRefusal::BorrowerNotActive { account });
            }
            let payout = MoneyMovement::request(
                loan_id,
                MovementKind::Payout,
                loan.amount,
                None,
                staff_id,
                today,
                now,
            );
            movements::insert(conn, &payout).await?;
            Ok(payout)
        })
        .await
    }

    /// (c): record the provider's answer once; the loan becomes ACTIVE when the money went out.
    pub(super) async fn settle_payout(
        &self,
        payout: MoneyMovement,
        answer: ProviderAnswer,
    ) -> Outcome<Loan> {
        let mut conn = self.conn().await?;
        let settled = conn
            .transaction::<_, Failure<LoanRefusal>, _>(async |conn| {
                let loan = loans::lock(conn, payout.loan_id)
                    .await?
                    .ok_or_else(|| missing(payout.loan_id))?;
                let current = movements::lock(conn, payout.id)
                    .await?
                    .ok_or_else(|| missing(payout.id))?;
                match (current.status, answer) {
                    // Someone else (a concurrent retry, the resumer) recorded it first.
                    (MovementStatus::Succeeded, _) => Ok(Settled::Done(loan)),
                    (MovementStatus::Failed, _) => {
                        Ok(Settled::Refused(LoanRefusal::PayoutFailed {
                            why: current.failure.unwrap_or_default(),
                        }))
                    }
                    (MovementStatus::Requested, ProviderAnswer::Moved(reference)) => {
                        let active = self.activate(conn, &loan, &payout, &reference).await?;
                        Ok(Settled::Done(active))
                    }
                    (MovementStatus::Requested, ProviderAnswer::Declined(error)) => {
                        let why = provider_reason(error);
                        movements::settle(
                            conn,
                            payout.id,
                            MovementStatus::Failed,
                            None,
                            Some(&why),
                            Utc::now(),
                        )
                        .await?;
                        Ok(Settled::Refused(LoanRefusal::PayoutFailed { why }))
                    }
                    (MovementStatus::Requested, ProviderAnswer::NoAnswer(_)) => {
                        Ok(Settled::Refused(LoanRefusal::PayoutPending))
                    }
                }
            })
            .await?;
        settled.into_outcome()
    }

    /// The payout went out: the loan becomes ACTIVE, its schedule is dated from the
    /// disbursement date, and `loan.activated` goes out with the status change.
    async fn activate(
        &self,
        conn: &mut AsyncPgConnection,
        loan: &Loan,
        payout: &MoneyMovement,
        reference: &str,
    ) -> Result<Loan, ServiceError> {
        if loan.status != LoanStatus::Approved {
            // Nothing else moves an APPROVED loan while its payout is REQUESTED; if something
            // did, a person must look at the money that went out.
            return Err(ServiceError::Other(anyhow::anyhow!(
                "payout {} went out for loan {} which is {}",
                payout.id,
                loan.id,
                loan.status
            )));
        }
        let now = Utc::now();
        let disbursed_on = payout.business_date;
        let staff_id = payout.requested_by;
        let dates = due_dates(disbursed_on, loan.tenor_months);
        let active =
            loans::record_disbursement(conn, loan.id, reference, disbursed_on, staff_id, now)
                .await?;
        installments::set_due_dates(conn, loan.id, &dates).await?;
        insert_review(
            conn,
            Review {
                loan_id: loan.id,
                old_value: loan.snapshot(),
                new_value: json!({
                    "status": active.status.as_db(),
                    "payout_reference": reference,
                    "disbursed_on": disbursed_on,
                }),
                score: None,
                source: ReviewSource::Staff,
                decision_id: None,
                reviewer: Some(staff_id),
            },
        )
        .await?;
        movements::settle(
            conn,
            payout.id,
            MovementStatus::Succeeded,
            Some(reference),
            None,
            now,
        )
        .await?;
        let activated = LoanActivatedV1 {
            loan_id: loan.id,
            user_id: loan.user_id,
            amount: loan.amount,
            payout_reference: reference.to_owned(),
            disbursed_on,
            first_due_date: dates[0],
            activated_at: now,
        };
        self.publisher.publish(conn, loan.id, &activated).await?;
        self.publisher
            .status_changed(conn, &active, Some(loan.status), None, now)
            .await?;
        Ok(active)
    }
}

/// The provider's own words, without the error kind.
fn provider_reason(error: crate::providers::ProviderError) -> String {
    match error {
        crate::providers::ProviderError::Declined(why)
        | crate::providers::ProviderError::Unavailable(why) => why,
    }
}
