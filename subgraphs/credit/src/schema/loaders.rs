//! Batched reads (docs/conventions.md § API conventions): `Loan.creditAssessment` of N loans
//! costs two queries (scores, then their obtained scores), not 2N.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use tenor_platform::db::spawn_with_origin;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use crate::service::{Assessment, Credit};

pub use tenor_platform::loaders::LoaderStats;

pub struct AssessmentLoader {
    credit: Credit,
    stats: Arc<LoaderStats>,
}

impl Loader<Uuid> for AssessmentLoader {
    type Value = Assessment;
    type Error = Arc<ServiceError>;

    async fn load(&self, loan_ids: &[Uuid]) -> Result<HashMap<Uuid, Assessment>, Self::Error> {
        self.stats.record_batch();
        self.credit.assessments(loan_ids).await.map_err(Arc::new)
    }
}

/// Shared by every request; no cache, so a mutation and a later read in one request agree. Its
/// batches run in tasks of their own, spawned with [`spawn_with_origin`] so their statements
/// count as the request's.
pub type Assessments = DataLoader<AssessmentLoader, NoCache>;

pub fn assessments(credit: Credit, stats: Arc<LoaderStats>) -> Assessments {
    DataLoader::new(AssessmentLoader { credit, stats }, spawn_with_origin)
}
