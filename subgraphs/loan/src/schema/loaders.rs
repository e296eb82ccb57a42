//! Batched reads (docs/conventions.md § API conventions): whatever the router sends in one
//! `_entities` call and however many loans a list holds, each field costs one query per batch,
//! not one per item — `User.loans` of N users, `Loan` references (and `loan(id)`) for N ids,
//! `Loan.installments` and `Loan.outstanding` of N loans.
//!
//! Shared by every request. No cache: a payment and a later read in one request must not see a
//! stale row. Batching (keys gathered for 1 ms) is what matters, and it works across concurrent
//! requests too. Batches run in tasks of their own, spawned with
//! [`tenor_platform::db::spawn_with_origin`] so their statements count as the request's.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use tenor_platform::db::spawn_with_origin;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use crate::domain::{InstallmentState, Loan};
use crate::service::Loans;

pub use tenor_platform::loaders::LoaderStats;

/// Schedules by loan id (a loan without one — not approved yet — gets none).
pub struct ScheduleLoader {
    loans: Loans,
    stats: Arc<LoaderStats>,
}

impl Loader<Uuid> for ScheduleLoader {
    type Value = Vec<InstallmentState>;
    type Error = Arc<ServiceError>;

    async fn load(
        &self,
        loan_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<InstallmentState>>, Self::Error> {
        self.stats.record_batch();
        self.loans.installments_of(loan_ids).await.map_err(Arc::new)
    }
}

pub type Schedules = DataLoader<ScheduleLoader, NoCache>;

pub fn schedules(loans: Loans, stats: Arc<LoaderStats>) -> Schedules {
    DataLoader::new(ScheduleLoader { loans, stats }, spawn_with_origin)
}

/// Loans by id; an unknown id is absent. Who may see a loan is the resolver's check.
pub struct LoanLoader {
    loans: Loans,
    stats: Arc<LoaderStats>,
}

impl Loader<Uuid> for LoanLoader {
    type Value = Loan;
    type Error = Arc<ServiceError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Loan>, Self::Error> {
        self.stats.record_batch();
        let loans = self.loans.find_many(ids).await.map_err(Arc::new)?;
        Ok(loans.into_iter().map(|loan| (loan.id, loan)).collect())
    }
}

/// Shared (an `Arc`) so a live subscription's stream, which outlives its context, can hold it:
/// every subscriber of one loan reads it when a change arrives, and the batch makes that one
/// query.
pub type LoansById = Arc<DataLoader<LoanLoader, NoCache>>;

pub fn loans_by_id(loans: Loans, stats: Arc<LoaderStats>) -> LoansById {
    Arc::new(DataLoader::new(
        LoanLoader { loans, stats },
        spawn_with_origin,
    ))
}

/// Each borrower's loans, newest first; a borrower without loans is absent.
pub struct BorrowerLoansLoader {
    loans: Loans,
    stats: Arc<LoaderStats>,
}

impl Loader<Uuid> for BorrowerLoansLoader {
    type Value = Vec<Loan>;
    type Error = Arc<ServiceError>;

    async fn load(&self, user_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Loan>>, Self::Error> {
        self.stats.record_batch();
        self.loans.loans_of_users(user_ids).await.map_err(Arc::new)
    }
}

pub type BorrowerLoans = DataLoader<BorrowerLoansLoader, NoCache>;

pub fn borrower_loans(loans: Loans, stats: Arc<LoaderStats>) -> BorrowerLoans {
    DataLoader::new(BorrowerLoansLoader { loans, stats }, spawn_with_origin)
}
