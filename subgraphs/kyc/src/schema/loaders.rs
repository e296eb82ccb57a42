//! DataLoaders: `User.kyc` for a whole `_entities` batch, and `Kyc.reviews` for a whole review
//! queue page, each in one query. Batches run in tasks of their own, spawned with
//! [`spawn_with_origin`] so their statements count as the request's.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use tenor_platform::db::spawn_with_origin;
use uuid::Uuid;

use crate::service::KycService;
use crate::store::{Review, Submission};

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
        DataLoader::new(Self { service, stats }, spawn_with_origin)
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

/// The staff decisions on each submission of a batch, oldest first, in one query.
pub struct ReviewsLoader {
    service: KycService,
    stats: Arc<LoaderStats>,
}

pub type Reviews = DataLoader<ReviewsLoader, NoCache>;

impl ReviewsLoader {
    pub fn data_loader(service: KycService, stats: Arc<LoaderStats>) -> Reviews {
        DataLoader::new(Self { service, stats }, spawn_with_origin)
    }
}

impl Loader<Uuid> for ReviewsLoader {
    type Value = Vec<Review>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, kyc_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Review>>, Self::Error> {
        self.stats.record_batch();
        let rows = self
            .service
            .reviews_of(kyc_ids)
            .await
            .map_err(|e| Arc::new(anyhow::Error::from(e)))?;
        let mut by_kyc: HashMap<Uuid, Vec<Review>> = HashMap::new();
        for review in rows {
            by_kyc.entry(review.kyc_id).or_default().push(review);
        }
        Ok(by_kyc)
    }
}
