//! The daily close of business: reminders before a due date and overdue notices after it.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use diesel_async::AsyncConnection;
use tenor_contracts::loan::{LoanInstallmentDueV1, LoanInstallmentOverdueV1};
use tenor_platform::refusal::ServiceError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Loans;
use crate::domain::InstallmentState;
use crate::domain::schedule::business_today;
use crate::store::installments;

/// What one run of the daily job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DailyReport {
    pub reminders: usize,
    pub overdue: usize,
}

impl Loans {
    /// The daily close of business for `today`: a `loan.installment.due` reminder for unpaid
    /// installments due within `days_before` days, and `loan.installment.overdue` for those past
    /// due (marked overdue). Each goes out once per installment, so running it again — or on two
    /// replicas at once (rows are locked, skipping those another run holds) — is harmless.
    #[tracing::instrument(skip(self))]
    pub async fn run_daily_job(
        &self,
        today: NaiveDate,
        days_before: u32,
    ) -> Result<DailyReport, ServiceError> {
        let mut conn = self.conn().await?;
        let horizon = today + Days::new(u64::from(days_before));
        conn.transaction::<_, ServiceError, _>(async |conn| {
            let now = Utc::now();
            let mut report = DailyReport::default();
            for (loan_id, user_id, installment) in
                installments::due_for_reminder(conn, today, horizon).await?
            {
                let event = LoanInstallmentDueV1 {
                    loan_id,
                    user_id,
                    installment_number: installment.number,
                    due_date: installment.due_date,
                    amount_due: installment.outstanding(),
                };
                self.publisher.publish(conn, loan_id, &event).await?;
                installments::mark_reminded(conn, loan_id, installment.number, now).await?;
                report.reminders += 1;
            }
            for (loan_id, user_id, installment) in installments::newly_overdue(conn, today).await? {
                let event = overdue_event(loan_id, user_id, &installment, today);
                self.publisher.publish(conn, loan_id, &event).await?;
                installments::mark_overdue(conn, loan_id, installment.number, now).await?;
                report.overdue += 1;
            }
            Ok(report)
        })
        .await
    }

    /// Run the job now and then every `interval` until `shutdown`; it is idempotent.
    pub async fn daily_loop(
        self,
        days_before: u32,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        loop {
            let today = business_today(Utc::now());
            match self.run_daily_job(today, days_before).await {
                Ok(report) => tracing::info!(?report, %today, "daily loan job"),
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "daily loan job failed")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
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
