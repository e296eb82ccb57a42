//! Batched reads for list fields (docs/conventions.md § API conventions): `Loan.installments`
//! and `Loan.outstanding` of N loans cost one query, not N.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use crate::domain::InstallmentState;
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

/// Shared by every request. No cache: a payment and a later read in one request must not see a
/// stale schedule. Batching (keys gathered for 1 ms) is what matters, and it works across
/// concurrent requests too.
pub type Schedules = DataLoader<ScheduleLoader, NoCache>;

pub fn schedules(loans: Loans, stats: Arc<LoaderStats>) -> Schedules {
    DataLoader::new(ScheduleLoader { loans, stats }, tokio::spawn)
}
