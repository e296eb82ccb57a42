//! Persistence only: the borrowers' contacts and preferences ([`contacts`], a projection of
//! `user.*` events), one delivery per event and channel ([`notifications`], the work queue of
//! the delivery worker), the in-app inbox ([`inbox`]) with the events announcing new items, and
//! Redis ([`cache`]: the dedupe fast path and the per-user rate limit). Templates are stored by
//! [`crate::templates::store`].
//!
//! FerretDB does not isolate two concurrent updates of one document, so every document here has
//! one writer at a time: a contact is written by the consumer only (one event at a time), a
//! notification by the worker holding its claim, an inbox item by its owner's read marks, and
//! the announcement of an inbox item — the document holding the outbox event — by the relay
//! only. Uniqueness (one inbox item per event, one notification per event and channel) comes
//! from indexes, which every server enforces.

pub mod cache;
pub mod contacts;
pub mod erasure;
pub mod inbox;
pub mod notifications;

use chrono::{DateTime, Utc};
use mongodb::bson::{self, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use uuid::Uuid;

pub use contacts::Contact;
pub use inbox::InboxItem;
pub use notifications::{Attempt, Notification, NotificationStatus};

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
    notifications::ensure_indexes(db).await?;
    inbox::ensure_indexes(db).await
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
    /// A stored document lacks a field or holds the wrong type; names the field only.
    #[error("stored document malformed at {0}")]
    Malformed(String),
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
    optional_time(document, key).ok_or_else(|| StoreError::Malformed(key.to_owned()))
}

pub(crate) fn optional_time(document: &Document, key: &str) -> Option<DateTime<Utc>> {
    document
        .get_datetime(key)
        .ok()
        .and_then(|at| DateTime::from_timestamp_millis(at.timestamp_millis()))
}

pub(crate) fn string_field(document: &Document, key: &str) -> Result<String, StoreError> {
    document
        .get_str(key)
        .map(str::to_owned)
        .map_err(|_| StoreError::Malformed(key.to_owned()))
}

pub(crate) fn optional_string(document: &Document, key: &str) -> Option<String> {
    document.get_str(key).ok().map(str::to_owned)
}

/// `value` as its serde name (`"email"`, `"loan"`, `"WIB"`).
pub(crate) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The value named `name` (the inverse of [`serde_name`]).
pub(crate) fn from_serde_name<T: serde::de::DeserializeOwned>(
    document: &Document,
    key: &str,
) -> Result<T, StoreError> {
    let name = string_field(document, key)?;
    serde_json::from_value(serde_json::Value::String(name))
        .map_err(|_| StoreError::Malformed(key.to_owned()))
}
