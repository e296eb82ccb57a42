//! The KYC use cases, one file each, all methods of [`KycService`]: [`intake`] (signed upload
//! links and the PUTs behind them), [`submission`] (`submitKyc`), [`verification`] (the vendor
//! worker), [`decision`] (applying verify/reject, shared by the worker and staff), [`review`]
//! (`reviewKyc`), [`expiry`] (the validity and abandoned-upload job), [`pii`] (logged reads),
//! [`reads`] (the lists and lookups the GraphQL layer pages through).
//!
//! Each returns the kit's [`Outcome`](tenor_platform::refusal::Outcome) with the operation's
//! refusal enum from `crate::domain::refusal`, or a plain `ServiceError` result when the
//! operation cannot refuse.

mod decision;
pub mod erasure;
pub mod expiry;
pub mod export;
pub mod intake;
pub mod pii;
pub mod reads;
pub mod review;
pub mod submission;
pub mod verification;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use tenor_platform::db::{PgConn, PgPool};
use tenor_platform::refusal::ServiceError;
use tokio::sync::Notify;

pub use intake::UploadTicket;
pub use pii::Reader;
pub use submission::SubmitKyc;

use crate::crypto::{BlindIndex, UrlSigner, Vault};
use crate::domain::Thresholds;
use crate::events::Publisher;
use crate::storage::ObjectVault;

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
    /// Submissions one account may make in any 24 hours.
    pub submissions_per_day: u32,
}

/// What every KYC operation shares: the database, the outbox publisher, encrypted object
/// storage, the keys, and the settings. Cheap to clone.
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
        Ok(self.pool.get().await?)
    }
}

/// PostgreSQL keeps microseconds: round now so the value returned equals the value stored.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
