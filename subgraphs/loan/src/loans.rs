//! Every change to a loan, each in one transaction with the events it publishes (outbox):
//! apply, cancel, the credit decision, disbursement, repayment and the daily due/overdue job.
//! Rules live in [`crate::domain`]; this module orders them around the store.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use tenor_contracts::credit::{CreditDecision, CreditDecisionMadeV1, CreditDecisionSource};
use tenor_contracts::loan::{
    LoanActivatedV1, LoanApprovedV1, LoanInstallmentDueV1, LoanInstallmentOverdueV1, LoanPaidV1,
    LoanRejectedV1, LoanSubmittedV1,
};
use tenor_platform::db::PgPool;
use uuid::Uuid;

use crate::domain::{
    Allocation, InstallmentState, Loan, LoanStatus, Refusal, allocate, check_idempotency_key,
    check_terms, normalise_purpose,
};
use crate::events::Publisher;
use crate::product::Product;
use crate::providers::{PaymentProvider, PayoutProvider, ProviderError};
use crate::schedule::{Schedule, due_dates, schedule};
use crate::store::{self, ONE_OPEN_LOAN_INDEX, Review, StoreError};

/// A request either happened or was refused by a rule (and changed nothing).
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Refused(Refusal),
}

/// A quote: the schedule a loan would have, with due dates as if disbursed `on`.
#[derive(Debug, Clone)]
pub struct Quote {
    pub schedule: Schedule,
    pub due_dates: Vec<NaiveDate>,
}

/// The result of one accepted payment.
#[derive(Debug, Clone)]
pub struct Payment {
    pub loan: Loan,
    pub allocations: Vec<Allocation>,
    pub provider_reference: String,
    /// True when this was a replay of an earlier payment with the same key.
    pub replayed: bool,
}

#[derive(Clone)]
pub struct Loans {
    pool: PgPool,
    publisher: Publisher,
    product: Product,
    payout: Arc<dyn PayoutProvider>,
    payment: Arc<dyn PaymentProvider>,
}

fn not_found(field: &'static str) -> Refusal {
    Refusal::new("NOT_FOUND", Some(field), "No such loan")
}

fn is_unique_violation(error: &anyhow::Error, constraint: Option<&str>) -> bool {
    let Some(StoreError::Database(DieselError::DatabaseError(
        DatabaseErrorKind::UniqueViolation,
        info,
    ))) = error.downcast_ref::<StoreError>()
    else {
        return false;
    };
    constraint.is_none_or(|name| info.constraint_name() == Some(name))
}

impl Loans {
    pub fn new(
        pool: PgPool,
        publisher: Publisher,
        product: Product,
        payout: Arc<dyn PayoutProvider>,
        payment: Arc<dyn PaymentProvider>,
    ) -> Self {
        Self {
            pool,
            publisher,
            product,
            payout,
            payment,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn product(&self) -> &Product {
        &self.product
    }

    async fn conn(
        &self,
    ) -> anyhow::Result<diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>> {
        self.pool.get().await.context("database pool")
    }

    /// The schedule `amount` over `tenor` months would have if disbursed on `today`.
    pub fn quote(&self, amount: i64, tenor: i32, today: NaiveDate) -> Result<Quote, Refusal> {
        let tenor = check_terms(&self.product, amount, tenor)?;
        Ok(Quote {
            schedule: schedule(&self.product, amount, tenor),
            due_dates: due_dates(today, tenor),
        })
    }

    /// Apply for a loan. A replayed idempotency key returns the loan it created; the partial
    /// unique index turns concurrent second applications into `LOAN_ALREADY_OPEN`.
    pub async fn apply(
        &self,
        user_id: Uuid,
        amount: i64,
        tenor: i32,
        purpose: &str,
        key: &str,
    ) -> anyhow::Result<Outcome<Loan>> {
        let checked = check_terms(&self.product, amount, tenor).and_then(|tenor| {
            check_idempotency_key(key)?;
            Ok((tenor, normalise_purpose(purpose)?))
        });
        let (tenor, purpose) = match checked {
            Ok(checked) => checked,
            Err(refusal) => return Ok(Outcome::Refused(refusal)),
        };
        let mut conn = self.conn().await?;
        if let Some(existing) = store::find_by_key(&mut conn, user_id, key).await? {
            return Ok(replay(existing, amount, tenor, &purpose));
        }
        if let Some(refusal) = eligibility(&mut conn, user_id).await? {
            return Ok(Outcome::Refused(refusal));
        }

        let schedule = schedule(&self.product, amount, tenor);
        let now = Utc::now();
        let publisher = &self.publisher;
        let product = &self.product;
        let inserted = conn
            .transaction::<_, anyhow::Error, _>(async |conn| {
                let loan = store::insert(
                    conn,
                    store::NewLoan {
                        id: Uuid::now_v7(),
                        user_id,
                        amount,
                        tenor_months: tenor,
                        purpose: &purpose,
                        product,
                        schedule: &schedule,
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
                    purpose: purpose.clone(),
                    total_cost: loan.total_cost(),
                    monthly_installment: loan.monthly_installment,
                    submitted_at: now,
                };
                publisher.publish(conn, loan.id, &submitted).await?;
                publisher
                    .status_changed(conn, &loan, None, None, now)
                    .await?;
                Ok(loan)
            })
            .await;
        match inserted {
            Ok(loan) => Ok(Outcome::Done(loan)),
            // The same key raced in from a concurrent retry: that request's loan is ours.
            Err(error) if is_unique_violation(&error, None) => {
                if let Some(existing) = store::find_by_key(&mut conn, user_id, key).await? {
                    return Ok(replay(existing, amount, tenor, &purpose));
                }
                if is_unique_violation(&error, Some(ONE_OPEN_LOAN_INDEX)) {
                    return Ok(Outcome::Refused(Refusal::new(
                        "LOAN_ALREADY_OPEN",
                        None,
                        "You already have a loan in progress; finish or cancel it first",
                    )));
                }
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// The borrower withdraws an application before credit decides.
    pub async fn cancel(&self, user_id: Uuid, loan_id: Uuid) -> anyhow::Result<Outcome<Loan>> {
        let mut conn = self.conn().await?;
        let publisher = &self.publisher;
        conn.transaction::<_, anyhow::Error, _>(async |conn| {
            let Some(loan) = store::lock(conn, loan_id)
                .await?
                .filter(|l| l.user_id == user_id)
            else {
                return Ok(Outcome::Refused(not_found("id")));
            };
            if !loan.status.can_become(LoanStatus::Cancelled) {
                return Ok(Outcome::Refused(Refusal::new(
                    "LOAN_NOT_CANCELLABLE",
                    Some("id"),
                    "Only an application still waiting for a decision can be cancelled",
                )));
            }
            let now = Utc::now();
            let cancelled = store::set_status(conn, loan.id, LoanStatus::Cancelled, now).await?;
            store::insert_review(
                conn,
                Review {
                    loan_id,
                    old_value: snapshot(&loan),
                    new_value: json!({ "status": cancelled.status.as_db() }),
                    score: None,
                    source: "BORROWER",
                    decision_id: None,
                    reviewer: Some(user_id),
                },
            )
            .await?;
            publisher
                .status_changed(
                    conn,
                    &cancelled,
                    Some(loan.status),
                    Some("cancelled by borrower".into()),
                    now,
                )
                .await?;
            Ok(Outcome::Done(cancelled))
        })
        .await
    }

    /// Back office: pay the principal out and start the schedule from `today`.
    pub async fn disburse(
        &self,
        staff_id: Uuid,
        loan_id: Uuid,
        today: NaiveDate,
    ) -> anyhow::Result<Outcome<Loan>> {
        let mut conn = self.conn().await?;
        let publisher = &self.publisher;
        let payout = &self.payout;
        conn.transaction::<_, anyhow::Error, _>(async |conn| {
            let Some(loan) = store::lock(conn, loan_id).await? else {
                return Ok(Outcome::Refused(not_found("id")));
            };
            if loan.status != LoanStatus::Approved {
                return Ok(Outcome::Refused(Refusal::new(
                    "LOAN_NOT_APPROVED",
                    Some("id"),
                    format!(
                        "The loan is {}, only an APPROVED loan can be disbursed",
                        loan.status.as_db()
                    ),
                )));
            }
            // Holding the row lock: one payout per loan even if two operators click at once
            // (the provider is idempotent per loan as well).
            let reference = match payout.pay_out(loan.id, loan.amount).await {
                Ok(reference) => reference,
                Err(ProviderError::Declined(why)) | Err(ProviderError::Unavailable(why)) => {
                    return Ok(Outcome::Refused(Refusal::new(
                        "PAYOUT_FAILED",
                        None,
                        format!("The payout did not go through: {why}"),
                    )));
                }
            };
            let now = Utc::now();
            let dates = due_dates(today, loan.tenor_months);
            let active =
                store::record_disbursement(conn, loan.id, &reference, today, staff_id, now).await?;
            store::set_due_dates(conn, loan.id, &dates).await?;
            store::insert_review(
                conn,
                Review {
                    loan_id,
                    old_value: snapshot(&loan),
                    new_value: json!({
                        "status": active.status.as_db(),
                        "payout_reference": reference,
                        "disbursed_on": today,
                    }),
                    score: None,
                    source: "STAFF",
                    decision_id: None,
                    reviewer: Some(staff_id),
                },
            )
            .await?;
            let activated = LoanActivatedV1 {
                loan_id,
                user_id: loan.user_id,
                amount: loan.amount,
                payout_reference: reference,
                disbursed_on: today,
                first_due_date: dates[0],
                activated_at: now,
            };
            publisher.publish(conn, loan_id, &activated).await?;
            publisher
                .status_changed(conn, &active, Some(loan.status), None, now)
                .await?;
            Ok(Outcome::Done(active))
        })
        .await
    }

    /// The borrower pays `amount` towards an ACTIVE loan. A replayed key returns the earlier
    /// payment's result and changes nothing; more than is outstanding is refused.
    pub async fn pay(
        &self,
        user_id: Uuid,
        loan_id: Uuid,
        amount: i64,
        key: &str,
        today: NaiveDate,
    ) -> anyhow::Result<Outcome<Payment>> {
        if let Err(refusal) = check_idempotency_key(key) {
            return Ok(Outcome::Refused(refusal));
        }
        let mut conn = self.conn().await?;
        let publisher = &self.publisher;
        let provider = &self.payment;
        conn.transaction::<_, anyhow::Error, _>(async |conn| {
            let Some(loan) = store::lock(conn, loan_id)
                .await?
                .filter(|l| l.user_id == user_id)
            else {
                return Ok(Outcome::Refused(not_found("loanId")));
            };
            if let Some((paid, reference)) = store::repayment(conn, loan_id, key).await? {
                if paid != amount {
                    return Ok(Outcome::Refused(Refusal::new(
                        "IDEMPOTENCY_KEY_REUSED",
                        Some("idempotencyKey"),
                        "This idempotency key was used for a different payment",
                    )));
                }
                return Ok(Outcome::Done(Payment {
                    loan,
                    allocations: vec![],
                    provider_reference: reference,
                    replayed: true,
                }));
            }
            if loan.status != LoanStatus::Active {
                return Ok(Outcome::Refused(Refusal::new(
                    "LOAN_NOT_ACTIVE",
                    Some("loanId"),
                    format!(
                        "The loan is {}; only an ACTIVE loan takes payments",
                        loan.status.as_db()
                    ),
                )));
            }
            let mut installments = store::installments(conn, loan_id).await?;
            let allocations = match allocate(&installments, amount) {
                Ok(allocations) => allocations,
                Err(refusal) => return Ok(Outcome::Refused(refusal)),
            };
            let reference = match provider.collect(loan_id, amount, key).await {
                Ok(reference) => reference,
                Err(error) => {
                    return Ok(Outcome::Refused(Refusal::new(
                        "PAYMENT_DECLINED",
                        None,
                        format!("The payment did not go through: {error}"),
                    )));
                }
            };
            store::insert_repayment(conn, loan_id, key, amount, &reference).await?;
            for allocation in &allocations {
                let installment = installments
                    .iter_mut()
                    .find(|i| i.number == allocation.number)
                    .expect("allocated to an existing installment");
                installment.fee_paid += allocation.fee;
                installment.interest_paid += allocation.interest;
                installment.principal_paid += allocation.principal;
                if installment.outstanding() == 0 {
                    installment.paid_date = Some(today);
                }
                store::save_paid(conn, loan_id, installment).await?;
            }
            let mut loan = loan;
            if installments.iter().all(|i| i.outstanding() == 0) {
                let now = Utc::now();
                let paid = store::set_status(conn, loan_id, LoanStatus::Paid, now).await?;
                let total_paid = store::total_repaid(conn, loan_id).await?;
                publisher
                    .publish(
                        conn,
                        loan_id,
                        &LoanPaidV1 {
                            loan_id,
                            user_id,
                            total_paid,
                            paid_at: now,
                        },
                    )
                    .await?;
                publisher
                    .status_changed(conn, &paid, Some(loan.status), None, now)
                    .await?;
                loan = paid;
            }
            Ok(Outcome::Done(Payment {
                loan,
                allocations,
                provider_reference: reference,
                replayed: false,
            }))
        })
        .await
    }
}

/// The loan's reviewable state before a change, for `loans_review_history.old_value`.
fn snapshot(loan: &Loan) -> serde_json::Value {
    json!({
        "status": loan.status.as_db(),
        "amount": loan.amount,
        "tenor_months": loan.tenor_months,
        "credit_score": loan.credit_score,
        "reason_codes": loan.reason_codes,
        "decided_at": loan.decided_at,
        "payout_reference": loan.payout_reference,
    })
}

/// A second request with a used key: the same loan if it asks for the same thing.
fn replay(existing: Loan, amount: i64, tenor: u32, purpose: &str) -> Outcome<Loan> {
    if existing.amount == amount && existing.tenor_months == tenor && existing.purpose == purpose {
        Outcome::Done(existing)
    } else {
        Outcome::Refused(Refusal::new(
            "IDEMPOTENCY_KEY_REUSED",
            Some("idempotencyKey"),
            "This idempotency key was used for a different application",
        ))
    }
}

/// KYC verified (and not expired) and the account active, from the local projections.
async fn eligibility(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> anyhow::Result<Option<Refusal>> {
    if let Some(status) = store::user_status(conn, user_id).await?
        && status != "ACTIVE"
    {
        return Ok(Some(Refusal::new(
            "USER_NOT_ACTIVE",
            None,
            "Your account is not active",
        )));
    }
    let verified = store::kyc_eligibility(conn, user_id)
        .await?
        .is_some_and(|kyc| {
            kyc.status == "VERIFIED" && kyc.expires_at.is_none_or(|at| at > Utc::now())
        });
    if !verified {
        return Ok(Some(Refusal::new(
            "KYC_NOT_VERIFIED",
            None,
            "Verify your identity (KYC) before applying",
        )));
    }
    Ok(None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionOutcome {
    Applied(LoanStatus),
    /// A duplicate or late decision for a loan that is no longer waiting for one.
    Ignored(&'static str),
    UnknownLoan,
}

/// Apply credit's decision to a SUBMITTED loan, inside the caller's (inbox) transaction:
/// status, review history, the schedule on approval, and the events. A decision for a loan that
/// already has one (a duplicate with a new event id, a late contradicting decision, a cancelled
/// application) changes nothing.
pub async fn apply_decision(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    decision: &CreditDecisionMadeV1,
) -> anyhow::Result<DecisionOutcome> {
    let Some(loan) = store::lock(conn, decision.loan_id).await? else {
        return Ok(DecisionOutcome::UnknownLoan);
    };
    if loan.user_id != decision.user_id {
        return Ok(DecisionOutcome::UnknownLoan);
    }
    let next = match decision.decision {
        CreditDecision::Approved => LoanStatus::Approved,
        CreditDecision::Rejected => LoanStatus::Rejected,
    };
    if !loan.status.can_become(next) || loan.status != LoanStatus::Submitted {
        return Ok(DecisionOutcome::Ignored(
            "loan is no longer waiting for a decision",
        ));
    }
    let now = Utc::now();
    let decided = store::record_decision(
        conn,
        loan.id,
        store::Decision {
            status: next,
            score: decision.score,
            reason_codes: &decision.reason_codes,
            reason: decision.reason.as_deref(),
            decided_at: decision.decided_at,
        },
        now,
    )
    .await?;
    let source = match decision.source {
        CreditDecisionSource::Automatic => "AUTOMATIC",
        CreditDecisionSource::Manual => "MANUAL",
    };
    store::insert_review(
        conn,
        Review {
            loan_id: loan.id,
            old_value: snapshot(&loan),
            new_value: json!({
                "status": decided.status.as_db(),
                "score": decision.score,
                "reason_codes": decision.reason_codes,
                "reason": decision.reason,
                "decided_at": decision.decided_at,
            }),
            score: Some(decision.score),
            source,
            decision_id: Some(decision.decision_id),
            reviewer: decision.decided_by,
        },
    )
    .await?;
    match next {
        LoanStatus::Approved => {
            // The agreement's own terms, not today's product: the schedule the borrower was quoted.
            let terms = store::terms(conn, loan.id).await?;
            let schedule = schedule(&terms, loan.amount, loan.tenor_months);
            let provisional = due_dates(decision.decided_at.date_naive(), loan.tenor_months);
            store::insert_schedule(conn, loan.id, &schedule, &provisional).await?;
            let approved = LoanApprovedV1 {
                loan_id: loan.id,
                user_id: loan.user_id,
                amount: loan.amount,
                tenor_months: loan.tenor_months,
                score: decision.score,
                reason_codes: decision.reason_codes.clone(),
                approved_at: now,
            };
            publisher.publish(conn, loan.id, &approved).await?;
        }
        _ => {
            let rejected = LoanRejectedV1 {
                loan_id: loan.id,
                user_id: loan.user_id,
                score: decision.score,
                reason_codes: decision.reason_codes.clone(),
                reason: decision.reason.clone(),
                rejected_at: now,
            };
            publisher.publish(conn, loan.id, &rejected).await?;
        }
    }
    publisher
        .status_changed(
            conn,
            &decided,
            Some(loan.status),
            decision.reason.clone(),
            now,
        )
        .await?;
    Ok(DecisionOutcome::Applied(next))
}

/// What one run of the daily job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DailyReport {
    pub reminders: usize,
    pub overdue: usize,
}

/// The daily close of business for `today`: a `loan.installment.due` reminder for unpaid
/// installments due within `days_before` days, and `loan.installment.overdue` for those past
/// due (marked overdue). Each goes out once per installment, so running it again — or on two
/// replicas at once (rows are locked, skipping those another run holds) — is harmless.
pub async fn run_daily_job(
    pool: &PgPool,
    publisher: &Publisher,
    today: NaiveDate,
    days_before: u32,
) -> anyhow::Result<DailyReport> {
    let mut conn = pool.get().await.context("database pool")?;
    let horizon = today + Days::new(u64::from(days_before));
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        let now = Utc::now();
        let mut report = DailyReport::default();
        for (loan_id, user_id, installment) in store::due_for_reminder(conn, today, horizon).await?
        {
            let event = LoanInstallmentDueV1 {
                loan_id,
                user_id,
                installment_number: installment.number,
                due_date: installment.due_date,
                amount_due: installment.outstanding(),
            };
            publisher.publish(conn, loan_id, &event).await?;
            store::mark_reminded(conn, loan_id, installment.number, now).await?;
            report.reminders += 1;
        }
        for (loan_id, user_id, installment) in store::newly_overdue(conn, today).await? {
            let event = overdue_event(loan_id, user_id, &installment, today);
            publisher.publish(conn, loan_id, &event).await?;
            store::mark_overdue(conn, loan_id, installment.number, now).await?;
            report.overdue += 1;
        }
        Ok(report)
    })
    .await
}

fn overdue_event(
    loan_id: Uuid,
    user_id: Uuid,
    installment: &InstallmentState,
    today: NaiveDate,
) -> LoanInstallmentOverdueV1 {
    LoanInstallmentOverdueV1 {
        loan_id,
        user_id,
        installment_number: installment.number,
        due_date: installment.due_date,
        amount_due: installment.outstanding(),
        days_past_due: (today - installment.due_date).num_days().max(0) as u32,
    }
}

/// The business date now, in Western Indonesia Time (UTC+7), where the borrowers are.
pub fn business_today(now: DateTime<Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(7)).date_naive()
}
