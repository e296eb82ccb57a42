//! DataLoaders: `User.kyc` for a whole `_entities` batch in one query.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use uuid::Uuid;

use crate::service::KycService;
use crate::store::Submission;

pub use tenor_platform::loaders::LoaderStats;

/// The latest submission of each user in an `_entities` batch, in one query. No cache: a
/// mutation and a later read in one request must not see stale rows.
pub struct LatestKycLoader {
    service: KycService,
    stats: Arc<LoaderStats>,
}

pub type LatestKyc = DataLoader<LatestKycLoader, NoCache>;

impl LatestKycLoader {
    pub fn data_loader(service: KycService, stats: Arc<LoaderStats>) -> LatestKyc {
        DataLoader::new(Self { service, stats }, tokio::spawn)
    }
}

impl Loader<Uuid> for LatestKycLoader {
    type Value = Submission;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Submission>, Self::Error> {
        self.stats.record_batch();
        let rows = self
            .service
            .latest_for_users(users)
            .await
            .map_err(|e| Arc::new(anyhow::Error::from(e)))?;
        Ok(rows.into_iter().map(|s| (s.user_id, s)).collect())
    }
}
