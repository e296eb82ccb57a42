//! Persistence only (MongoDB): the work queue ([`requests`]), the evaluations with their
//! pending events ([`evaluations`]) and who read a raw report ([`access_log`]). Ids are UUIDs
//! stored as text; times are BSON dates.
//!
//! FerretDB does not isolate concurrent updates of one document, so an evaluation is inserted
//! once and never updated by the service (only the outbox relay touches it); uniqueness — one
//! evaluation per loan, one request per loan — comes from indexes, which every server enforces.

pub mod access_log;
pub mod evaluations;
pub mod requests;

use chrono::{DateTime, Utc};
use mongodb::bson::{self, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use uuid::Uuid;

pub use access_log::RawAccess;
pub use evaluations::{Evaluation, NormalizedScore, SealedReport};
pub use requests::{NewRequest, RiskRequest};

const DUPLICATE_KEY: i32 = 11000;

/// An insert refused because the unique key is taken.
pub fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY
    )
}

/// Every index the service relies on. Idempotent; run at start-up.
pub async fn ensure_indexes(db: &mongodb::Database) -> mongodb::error::Result<()> {
    requests::ensure_indexes(db).await?;
    evaluations::ensure_indexes(db).await?;
    access_log::ensure_indexes(db).await
}

pub(crate) fn bson_time(at: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(at.timestamp_millis())
}

pub(crate) fn uuid_field(document: &Document, key: &str) -> Result<Uuid, StoreError> {
    document
        .get_str(key)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| StoreError::Malformed(key.to_owned()))
}

pub(crate) fn time_field(document: &Document, key: &str) -> Result<DateTime<Utc>, StoreError> {
    document
        .get_datetime(key)
        .ok()
        .and_then(|at| DateTime::from_timestamp_millis(at.timestamp_millis()))
        .ok_or_else(|| StoreError::Malformed(key.to_owned()))
}

pub(crate) fn int_field(document: &Document, key: &str) -> Result<i64, StoreError> {
    match document.get(key) {
        Some(bson::Bson::Int32(n)) => Ok(i64::from(*n)),
        Some(bson::Bson::Int64(n)) => Ok(*n),
        Some(bson::Bson::Double(n)) if n.fract() == 0.0 => Ok(*n as i64),
        _ => Err(StoreError::Malformed(key.to_owned())),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
    /// A stored document lacks a field or holds the wrong type; names the field only.
    #[error("stored document malformed at {0}")]
    Malformed(String),
}
