//! What every KYC operation shares: the database, the outbox publisher, encrypted object
//! storage, the keys, and the settings. Cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use tenor_platform::db::{PgConn, PgPool};
use tokio::sync::Notify;

use crate::crypto::{BlindIndex, UrlSigner, Vault};
use crate::domain::Thresholds;
use crate::events::{PublishError, Publisher};
use crate::storage::ObjectVault;

/// Something went wrong that is not the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database pool: {0}")]
    Pool(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Settings the operations read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub public_url: String,
    pub upload_max_bytes: usize,
    pub upload_url_ttl: Duration,
    pub download_url_ttl: Duration,
    pub thresholds: Thresholds,
    pub validity: Duration,
    pub abandoned_upload_ttl: Duration,
}

#[derive(Clone)]
pub struct KycService {
    pub pool: PgPool,
    pub publisher: Publisher,
    pub objects: ObjectVault,
    pub vault: Vault,
    pub blind_index: BlindIndex,
    pub signer: UrlSigner,
    pub settings: Arc<Settings>,
    /// Wakes the verification worker right after a submission commits.
    pub submitted: Arc<Notify>,
}

impl KycService {
    pub async fn conn(&self) -> Result<PgConn, ServiceError> {
        self.pool
            .get()
            .await
            .map_err(|e| ServiceError::Pool(e.to_string()))
    }
}

/// PostgreSQL keeps microseconds: round now so the value returned equals the value stored.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
