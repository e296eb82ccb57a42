//! DataLoaders: `User.kyc` for a whole `_entities` batch in one query.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use uuid::Uuid;

use crate::service::KycService;
use crate::store::Submission;

/// How many batch queries the `User.kyc` loader ran; tests assert N users cost one query.
#[derive(Debug, Default)]
pub struct LoaderStats {
    batches: AtomicUsize,
}

impl LoaderStats {
    pub fn batches(&self) -> usize {
        self.batches.load(Ordering::SeqCst)
    }
}

/// The latest submission of each user in an `_entities` batch, in one query. No cache: a
/// mutation and a later read in one request must not see stale rows.
pub struct LatestKycLoader {
    service: KycService,
    stats: Arc<LoaderStats>,
}

pub type LatestKyc = DataLoader<LatestKycLoader, NoCache>;

impl LatestKycLoader {
    pub fn data_loader(service: KycService, stats: Arc<LoaderStats>) -> LatestKyc {
        DataLoader::with_cache(Self { service, stats }, tokio::spawn, NoCache)
    }
}

impl Loader<Uuid> for LatestKycLoader {
    type Value = Submission;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Submission>, Self::Error> {
        self.stats.batches.fetch_add(1, Ordering::SeqCst);
        let rows = self
            .service
            .latest_for_users(users)
            .await
            .map_err(|e| Arc::new(anyhow::Error::from(e)))?;
        Ok(rows.into_iter().map(|s| (s.user_id, s)).collect())
    }
}
