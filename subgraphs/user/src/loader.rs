//! Batched profile lookups (docs/conventions.md § API conventions): the router's `_entities`
//! calls carry many users at once, and resolving each with its own query would be one round trip
//! per row.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use tenor_platform::db::PgPool;
use uuid::Uuid;

use crate::domain::Profile;
use crate::store;

/// How many batch queries the loader ran; tests assert N keys cost one query.
#[derive(Debug, Default)]
pub struct LoaderStats {
    batches: AtomicUsize,
}

impl LoaderStats {
    pub fn batches(&self) -> usize {
        self.batches.load(Ordering::SeqCst)
    }
}

pub struct ProfileLoader {
    pool: PgPool,
    stats: Arc<LoaderStats>,
}

impl Loader<Uuid> for ProfileLoader {
    type Value = Profile;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Profile>, Self::Error> {
        self.stats.batches.fetch_add(1, Ordering::SeqCst);
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| Arc::new(anyhow::anyhow!("database pool: {e}")))?;
        let profiles = store::find_many(&mut conn, ids)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(profiles.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// Shared by every request. No cache: a mutation and a later read in one request must not see
/// stale rows, and per-request state is not ours to add in the shared GraphQL wiring. Batching
/// (keys gathered for 1 ms) is what matters here, and it works across concurrent requests too;
/// authorization is checked per key before a key is ever loaded.
pub type Profiles = DataLoader<ProfileLoader, NoCache>;

pub fn profiles(pool: PgPool, stats: Arc<LoaderStats>) -> Profiles {
    DataLoader::new(ProfileLoader { pool, stats }, tokio::spawn)
}
