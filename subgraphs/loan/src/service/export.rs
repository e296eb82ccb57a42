//! The owner's copy of what loan holds about them (right of access, UU PDP Pasal 32; POJK
//! 22/2023 Pasal 19; docs/conventions.md § Data-subject requests): every loan with its
//! decision and schedule, and every repayment collected. A deleted account gets nothing here —
//! its loans stay for the lender's retention duty, reachable by staff with the user id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::Loans;
use crate::domain::{InstallmentState, Loan, eligibility::AccountState};
use crate::store::schema::loans_repayments;
use crate::store::{eligibility, installments, loans};

/// One repayment collected, as the borrower's export shows it.
#[derive(Debug, Queryable)]
pub struct ExportedRepayment {
    pub loan_id: Uuid,
    pub amount: i64,
    pub provider_reference: String,
    pub received_at: DateTime<Utc>,
}

/// What loan holds about one borrower.
#[derive(Debug)]
pub struct LoanExport {
    pub loans: Vec<Loan>,
    /// Each loan's schedule, by loan id (a loan never approved has none).
    pub installments: HashMap<Uuid, Vec<InstallmentState>>,
    pub repayments: Vec<ExportedRepayment>,
}

impl Loans {
    /// `user`'s loans and repayments; `None` for a deleted account (as projected from
    /// `user.status.changed`).
    #[tracing::instrument(skip(self))]
    pub async fn export_of(&self, user: Uuid) -> Result<Option<LoanExport>, ServiceError> {
        let mut conn = self.conn().await?;
        if eligibility::user_status(&mut conn, user).await? == Some(AccountState::Deleted) {
            return Ok(None);
        }
        let loans = loans::of_user(&mut conn, user).await?;
        let ids: Vec<Uuid> = loans.iter().map(|loan| loan.id).collect();
        let repayments = loans_repayments::table
            .filter(loans_repayments::loan_id.eq_any(&ids))
            .order(loans_repayments::received_at.desc())
            .select((
                loans_repayments::loan_id,
                loans_repayments::amount,
                loans_repayments::provider_reference,
                loans_repayments::received_at,
            ))
            .load(&mut conn)
            .await?;
        let installments = installments::installments_of_many(&mut conn, &ids).await?;
        Ok(Some(LoanExport {
            loans,
            installments,
            repayments,
        }))
    }
}
