//! Batched profile lookups (docs/conventions.md § API conventions): the router's `_entities`
//! calls carry many users at once, and resolving each with its own query would be one round trip
//! per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use async_graphql::{Context, Result};
use tenor_platform::db::spawn_with_origin;
use tenor_platform::graphql::internal_error;
use uuid::Uuid;

use super::types::User;
use crate::domain::Profile;
use crate::service::UserService;

pub use tenor_platform::loaders::LoaderStats;

pub struct ProfileLoader {
    service: UserService,
    stats: Arc<LoaderStats>,
}

impl Loader<Uuid> for ProfileLoader {
    type Value = Profile;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Profile>, Self::Error> {
        self.stats.record_batch();
        let profiles = self
            .service
            .profiles(ids)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(profiles.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// Shared by every request. No cache: a mutation and a later read in one request must not see
/// stale rows, and per-request state is not ours to add in the shared GraphQL wiring. Batching
/// (keys gathered for 1 ms) is what matters here, and it works across concurrent requests too;
/// authorization is checked per key before a key is ever loaded. A batch runs in a task of its
/// own, spawned with [`spawn_with_origin`] so its statements count as the request's.
pub type Profiles = DataLoader<ProfileLoader, NoCache>;

pub fn profiles(service: UserService, stats: Arc<LoaderStats>) -> Profiles {
    DataLoader::new(ProfileLoader { service, stats }, spawn_with_origin)
}

/// A visible profile through the batching loader.
pub(super) async fn load_user(ctx: &Context<'_>, id: Uuid) -> Result<Option<User>> {
    let profile = ctx
        .data_unchecked::<Profiles>()
        .load_one(id)
        .await
        .map_err(internal_error)?;
    Ok(profile.filter(Profile::is_visible).map(User))
}
