//! Repayment: the borrower pays towards an ACTIVE loan, following the three steps of
//! [`super::money_movement`] (request → provider call → settle). The borrower's idempotency key
//! names the payment: a replay answers with the first result, and a replay of a payment whose
//! outcome was never recorded finishes it.

use chrono::{NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use tenor_contracts::loan::LoanPaidV1;
use tenor_platform::refusal::{Failure, ServiceError, refuse};
use uuid::Uuid;

use super::money_movement::{ProviderAnswer, Settled};
use super::{Loans, Outcome, missing};
use crate::domain::application::check_idempotency_key;
use crate::domain::money_movement::{MoneyMovement, MovementKind, MovementStatus};
use crate::domain::repayment::{allocate, apply_allocations, check_payment, outstanding};
use crate::domain::{Allocation, Loan, LoanRefusal, LoanStatus};
use crate::store::{installments, loans, movements, repayments};

/// The result of one accepted payment.
#[derive(Debug, Clone)]
pub struct Payment {
    pub loan: Loan,
    pub allocations: Vec<Allocation>,
    pub provider_reference: String,
    /// True when this was a replay of an earlier payment with the same key.
    pub replayed: bool,
}

/// What (a) found: a payment already made under the key, or an intent to collect.
enum Requested {
    Replay(Payment),
    Collect(MoneyMovement),
}

impl Loans {
    /// The borrower pays `amount` towards an ACTIVE loan. A replayed key returns the earlier
    /// payment's result and changes nothing; more than is outstanding is refused.
    #[tracing::instrument(skip_all, fields(%user_id, %loan_id, amount))]
    pub async fn pay(
        &self,
        user_id: Uuid,
        loan_id: Uuid,
        amount: i64,
        key: &str,
        today: NaiveDate,
    ) -> Outcome<Payment> {
        check_idempotency_key(key).map_err(Failure::refused)?;
        let collection = match self
            .request_collection(user_id, loan_id, amount, key, today)
            .await?
        {
            Requested::Replay(payment) => return Ok(payment),
            Requested::Collect(collection) => collection,
        };
        let answer = self.call_provider(&collection).await;
        self.settle_collection(collection, answer).await
    }

    /// (a): the rules under the loan's lock, and the intent recorded (or an unfinished one with
    /// this key taken up again).
    async fn request_collection(
        &self,
        user_id: Uuid,
        loan_id: Uuid,
        amount: i64,
        key: &str,
        today: NaiveDate,
    ) -> Outcome<Requested> {
        let reused = || Failure::refused(LoanRefusal::IdempotencyKeyReused { what: "payment" });
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| {
            let Some(loan) = loans::lock(conn, loan_id)
                .await?
                .filter(|l| l.user_id == user_id)
            else {
                return refuse(LoanRefusal::NotFound { field: "loanId" });
            };
            if let Some((paid, reference)) = repayments::repayment(conn, loan_id, key).await? {
                if paid != amount {
                    return Err(reused());
                }
                return Ok(Requested::Replay(Payment {
                    loan,
                    allocations: vec![],
                    provider_reference: reference,
                    replayed: true,
                }));
            }
            let now = Utc::now();
            if let Some(earlier) = movements::collection_by_key(conn, loan_id, key).await? {
                if earlier.amount != amount {
                    return Err(reused());
                }
                if earlier.status == MovementStatus::Failed {
                    return refuse(LoanRefusal::PaymentDeclined {
                        why: earlier.failure.unwrap_or_default(),
                    });
                }
                tracing::info!(movement_id = %earlier.id, "resuming an unfinished payment");
                let claimed = movements::claim(conn, earlier.id, None, now).await?;
                return claimed
                    .map(Requested::Collect)
                    .ok_or_else(|| missing(earlier.id).into());
            }
            if loan.status != LoanStatus::Active {
                return refuse(LoanRefusal::NotActive {
                    status: loan.status,
                });
            }
            let schedule = installments::installments(conn, loan_id).await?;
            let pending = movements::pending_collections(conn, loan_id).await?;
            check_payment(&schedule, pending, amount).map_err(Failure::refused)?;
            let collection = MoneyMovement::request(
                loan_id,
                MovementKind::Collection,
                amount,
                Some(key),
                user_id,
                today,
                now,
            );
            movements::insert(conn, &collection).await?;
            Ok(Requested::Collect(collection))
        })
        .await
    }

    /// (c): record the provider's answer once; the money is allocated to the installments
    /// when it arrived, and the loan is PAID when nothing is left.
    pub(super) async fn settle_collection(
        &self,
        collection: MoneyMovement,
        answer: ProviderAnswer,
    ) -> Outcome<Payment> {
        let key = collection.request_key.clone().unwrap_or_default();
        let mut conn = self.conn().await?;
        let settled = conn
            .transaction::<_, Failure<LoanRefusal>, _>(async |conn| {
                let loan = loans::lock(conn, collection.loan_id)
                    .await?
                    .ok_or_else(|| missing(collection.loan_id))?;
                let current = movements::lock(conn, collection.id)
                    .await?
                    .ok_or_else(|| missing(collection.id))?;
                match (current.status, answer) {
                    // Someone else (a concurrent retry, the resumer) recorded it first.
                    (MovementStatus::Succeeded, _) => Ok(Settled::Done(Payment {
                        loan,
                        allocations: vec![],
                        provider_reference: current.provider_reference.unwrap_or_default(),
                        replayed: true,
                    })),
                    (MovementStatus::Failed, _) => {
                        Ok(Settled::Refused(LoanRefusal::PaymentDeclined {
                            why: current.failure.unwrap_or_default(),
                        }))
                    }
                    (MovementStatus::Requested, ProviderAnswer::Moved(reference)) => Ok(self
                        .record_payment(conn, loan, &collection, &key, &reference)
                        .await?),
                    (MovementStatus::Requested, ProviderAnswer::Declined(error)) => {
                        let why = error.to_string();
                        movements::settle(
                            conn,
                            collection.id,
                            MovementStatus::Failed,
                            None,
                            Some(&why),
                            Utc::now(),
                        )
                        .await?;
                        Ok(Settled::Refused(LoanRefusal::PaymentDeclined { why }))
                    }
                    (MovementStatus::Requested, ProviderAnswer::NoAnswer(_)) => {
                        Ok(Settled::Refused(LoanRefusal::PaymentPending))
                    }
                }
            })
            .await?;
        settled.into_outcome()
    }

    /// The money arrived: into the ledger, allocated oldest installment first, and the loan
    /// PAID (with `loan.paid`) when that was the last of it.
    async fn record_payment(
        &self,
        conn: &mut AsyncPgConnection,
        loan: Loan,
        collection: &MoneyMovement,
        key: &str,
        reference: &str,
    ) -> Result<Settled<Payment>, ServiceError> {
        let now = Utc::now();
        let schedule = installments::installments(conn, loan.id).await?;
        let allocations = match allocate(&schedule, collection.amount) {
            Ok(allocations) => allocations,
            Err(refusal) => {
                // Payments at the provider are reserved against what is owed in (a), so this
                // means the loan changed underneath: the money is in, a person must refund it.
                tracing::error!(movement_id = %collection.id, loan_id = %loan.id, code = tenor_platform::refusal::Refusal::code(&refusal), "collected money could not be allocated; refund needed");
                movements::settle(
                    conn,
                    collection.id,
                    MovementStatus::Failed,
                    Some(reference),
                    Some("collected but not allocatable: refund needed"),
                    now,
                )
                .await?;
                return Ok(Settled::Refused(refusal));
            }
        };
        let paid_off = outstanding(&schedule) == collection.amount;
        repayments::insert_repayment(conn, loan.id, key, collection.amount, reference).await?;
        for installment in apply_allocations(&schedule, &allocations, collection.business_date) {
            installments::save_paid(conn, loan.id, &installment).await?;
        }
        movements::settle(
            conn,
            collection.id,
            MovementStatus::Succeeded,
            Some(reference),
            None,
            now,
        )
        .await?;
        let mut loan = loan;
        if paid_off {
            let paid = loans::set_status(conn, loan.id, LoanStatus::Paid, now).await?;
            let total_paid = repayments::total_repaid(conn, loan.id).await?;
            let event = LoanPaidV1 {
                loan_id: loan.id,
                user_id: loan.user_id,
                total_paid,
                paid_at: now,
            };
            self.publisher.publish(conn, loan.id, &event).await?;
            self.publisher
                .status_changed(conn, &paid, Some(loan.status), None, now)
                .await?;
            loan = paid;
        }
        Ok(Settled::Done(Payment {
            loan,
            allocations,
            provider_reference: reference.to_owned(),
            replayed: false,
        }))
    }
}
