//! Template versions in MongoDB. Versions are immutable once written; which one is sent is the
//! key's head document. Activating is therefore one single-document `$set` — the local server
//! has no multi-document transactions, and no reader can ever see half an activation.
//!
//! ```text
//! templates       { _id: "loan.approved.v1/email/id/v2", event_type, channel, language, version,
//!                   title, body, created_by, created_at }   unique (event_type, channel, language, version)
//! template_heads  { _id: "loan.approved.v1/email/id", event_type, channel, language,
//!                   active_version, activated_by, activated_at }
//! ```
//!
//! Two replicas seeding at once, or two staff members creating a version of one key at once,
//! are kept apart by the unique keys: the loser of an insert sees a duplicate key and either
//! leaves the winner's document alone (seeding) or takes the next number (a new version).

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use tenor_platform::refusal::{Failure, Outcome, ServiceError};

use super::{TemplateError, TemplateKey, TemplateSource, check, defaults};
use crate::domain::{ChannelKind, Language};

pub const VERSIONS: &str = "templates";
pub const HEADS: &str = "template_heads";
/// `seed_defaults` writes its versions and heads as this author.
pub const SYSTEM: &str = "system";

const DUPLICATE_KEY: i32 = 11000;
/// Attempts at taking the next version number when other writers keep taking it first.
const VERSION_ATTEMPTS: usize = 5;

/// One stored version of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVersion {
    pub source: TemplateSource,
    pub version: u32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Whether the key's head points at this version (what is being sent).
    pub active: bool,
}

/// Which version of a key is sent, and who decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateHead {
    pub key: TemplateKey,
    pub active_version: u32,
    pub activated_by: String,
    pub activated_at: DateTime<Utc>,
}

/// What [`list`] returns; every field narrows it, none set lists everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateFilter {
    pub event_type: Option<String>,
    pub channel: Option<ChannelKind>,
    pub language: Option<Language>,
    /// Only the versions being sent.
    pub active_only: bool,
}

/// What one [`seed_defaults`] call added; zero and zero when an earlier call (or another
/// replica) already did it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub versions: usize,
    pub heads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
    /// A stored document lacks a field or holds the wrong type; names the field only.
    #[error("stored template document malformed at {0}")]
    Malformed(String),
}

impl<R> From<StoreError> for Failure<R> {
    fn from(error: StoreError) -> Self {
        Failure::Error(ServiceError::Other(error.into()))
    }
}

fn versions(db: &Database) -> Collection<Document> {
    db.collection(VERSIONS)
}

fn heads(db: &Database) -> Collection<Document> {
    db.collection(HEADS)
}

/// The unique key that makes concurrent version numbers and seeding safe. Idempotent; run at
/// start-up before [`seed_defaults`].
pub async fn ensure_indexes(db: &Database) -> Result<(), StoreError> {
    let unique = IndexModel::builder()
        .keys(doc! { "event_type": 1, "channel": 1, "language": 1, "version": 1 })
        .options(IndexOptions::builder().unique(true).build())
        .build();
    versions(db).create_index(unique).await?;
    Ok(())
}

/// Stores every compiled-in default as version 1 of its key and makes it active — only where
/// the key has nothing yet, so an activation made by staff survives every restart. Safe to run
/// from several replicas at once.
pub async fn seed_defaults(db: &Database) -> Result<Seeded, StoreError> {
    let now = Utc::now();
    let mut seeded = Seeded::default();
    for source in defaults() {
        if inserted(
            versions(db)
                .insert_one(version_document(&source, 1, SYSTEM, now))
                .await,
        )? {
            seeded.versions += 1;
        }
        if inserted(
            heads(db)
                .insert_one(head_document(&source.key, 1, SYSTEM, now))
                .await,
        )? {
            seeded.heads += 1;
        }
    }
    Ok(seeded)
}

/// The version being sent for `key`; `None` when the key has no head (no template: the
/// notification service records the message as not sendable rather than guessing).
pub async fn active(
    db: &Database,
    key: &TemplateKey,
) -> Result<Option<TemplateVersion>, StoreError> {
    let Some(head) = heads(db).find_one(doc! { "_id": key.to_string() }).await? else {
        return Ok(None);
    };
    let version = u32_field(&head, "active_version")?;
    let found = find_version(db, key, version).await?;
    let mut version = found.ok_or_else(|| StoreError::Malformed("active_version".into()))?;
    version.active = true;
    Ok(Some(version))
}

/// One version of `key`, `None` when it does not exist.
pub async fn version(
    db: &Database,
    key: &TemplateKey,
    version: u32,
) -> Result<Option<TemplateVersion>, StoreError> {
    let Some(mut found) = find_version(db, key, version).await? else {
        return Ok(None);
    };
    found.active = head(db, key)
        .await?
        .is_some_and(|h| h.active_version == version);
    Ok(Some(found))
}

/// The head of `key`, `None` before anything was activated for it.
pub async fn head(db: &Database, key: &TemplateKey) -> Result<Option<TemplateHead>, StoreError> {
    let found = heads(db).find_one(doc! { "_id": key.to_string() }).await?;
    found.as_ref().map(parse_head).transpose()
}

/// Versions matching `filter`, by event type, channel and language, newest version first.
pub async fn list(
    db: &Database,
    filter: &TemplateFilter,
) -> Result<Vec<TemplateVersion>, StoreError> {
    let mut query = Document::new();
    if let Some(event_type) = &filter.event_type {
        query.insert("event_type", event_type.as_str());
    }
    if let Some(channel) = filter.channel {
        query.insert("channel", channel.as_str());
    }
    if let Some(language) = filter.language {
        query.insert("language", language.as_str());
    }
    let active: std::collections::HashMap<String, u32> = heads(db)
        .find(query.clone())
        .await?
        .try_collect::<Vec<_>>()
        .await?
        .iter()
        .map(|head| {
            Ok((
                string_field(head, "_id")?,
                u32_field(head, "active_version")?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let documents: Vec<Document> = versions(db)
        .find(query)
        .sort(doc! { "event_type": 1, "channel": 1, "language": 1, "version": -1 })
        .await?
        .try_collect()
        .await?;
    let mut listed = Vec::with_capacity(documents.len());
    for document in &documents {
        let mut version = parse_version(document)?;
        version.active = active.get(&version.source.key.to_string()) == Some(&version.version);
        if version.active || !filter.active_only {
            listed.push(version);
        }
    }
    Ok(listed)
}

/// Stores `source` as the next version of its key, after [`check`]: a refused template writes
/// nothing. The new version is not sent until it is [activated](activate).
pub async fn create_version(
    db: &Database,
    source: &TemplateSource,
    by: &str,
) -> Outcome<TemplateVersion, TemplateError> {
    check(source).map_err(Failure::refused)?;
    let now = Utc::now();
    for _ in 0..VERSION_ATTEMPTS {
        let next = latest_version(db, &source.key).await? + 1;
        let written = versions(db)
            .insert_one(version_document(source, next, by, now))
            .await;
        if inserted(written)? {
            return Ok(TemplateVersion {
                source: source.clone(),
                version: next,
                created_by: by.to_owned(),
                created_at: truncated_to_millis(now),
                active: false,
            });
        }
    }
    Err(Failure::Error(ServiceError::Other(anyhow::anyhow!(
        "{}: the next version number was taken {VERSION_ATTEMPTS} times in a row",
        source.key
    ))))
}

/// Makes `version` the one sent for `key`. It is checked again first: the catalog may have
/// changed since it was written (a contract field renamed), and a version that no longer renders
/// must not go live.
pub async fn activate(
    db: &Database,
    key: &TemplateKey,
    version: u32,
    by: &str,
) -> Outcome<TemplateHead, TemplateError> {
    // An event type we do not send has no versions: answered before any query (a hostile key
    // never reaches the store).
    if super::entry(&key.event_type).is_none() {
        return Err(Failure::refused(TemplateError::UnknownEvent {
            event_type: key.event_type.clone(),
        }));
    }
    let Some(stored) = find_version(db, key, version).await? else {
        return Err(Failure::refused(TemplateError::UnknownVersion {
            key: key.to_string(),
            version,
        }));
    };
    check(&stored.source).map_err(Failure::refused)?;
    let now = Utc::now();
    let mut update = head_document(key, version, by, now);
    update.remove("_id");
    heads(db)
        .update_one(doc! { "_id": key.to_string() }, doc! { "$set": update })
        .upsert(true)
        .await
        .map_err(StoreError::from)?;
    Ok(TemplateHead {
        key: key.clone(),
        active_version: version,
        activated_by: by.to_owned(),
        activated_at: truncated_to_millis(now),
    })
}

async fn latest_version(db: &Database, key: &TemplateKey) -> Result<u32, StoreError> {
    let latest = versions(db)
        .find_one(key_filter(key))
        .sort(doc! { "version": -1 })
        .await?;
    latest.map_or(Ok(0), |document| u32_field(&document, "version"))
}

async fn find_version(
    db: &Database,
    key: &TemplateKey,
    version: u32,
) -> Result<Option<TemplateVersion>, StoreError> {
    let mut filter = key_filter(key);
    filter.insert("version", i64::from(version));
    let found = versions(db).find_one(filter).await?;
    found.as_ref().map(parse_version).transpose()
}

fn key_filter(key: &TemplateKey) -> Document {
    doc! {
        "event_type": &key.event_type,
        "channel": key.channel.as_str(),
        "language": key.language.as_str(),
    }
}

fn version_document(
    source: &TemplateSource,
    version: u32,
    by: &str,
    at: DateTime<Utc>,
) -> Document {
    let mut document = key_filter(&source.key);
    document.insert("_id", format!("{}/v{version}", source.key));
    document.insert("version", i64::from(version));
    document.insert("title", &source.title);
    document.insert("body", &source.body);
    document.insert("created_by", by);
    document.insert("created_at", bson_time(at));
    document
}

fn head_document(key: &TemplateKey, version: u32, by: &str, at: DateTime<Utc>) -> Document {
    let mut document = key_filter(key);
    document.insert("_id", key.to_string());
    document.insert("active_version", i64::from(version));
    document.insert("activated_by", by);
    document.insert("activated_at", bson_time(at));
    document
}

/// `Ok(true)` written, `Ok(false)` the unique key was already taken.
fn inserted<T>(result: mongodb::error::Result<T>) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(error) if is_duplicate_key(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY
    )
}

fn parse_key(document: &Document) -> Result<TemplateKey, StoreError> {
    let event_type = string_field(document, "event_type")?;
    let channel = ChannelKind::parse(&string_field(document, "channel")?)
        .ok_or_else(|| StoreError::Malformed("channel".into()))?;
    let language = match string_field(document, "language")?.as_str() {
        "id" => Language::Id,
        "en" => Language::En,
        _ => return Err(StoreError::Malformed("language".into())),
    };
    Ok(TemplateKey::new(event_type, channel, language))
}

fn parse_version(document: &Document) -> Result<TemplateVersion, StoreError> {
    Ok(TemplateVersion {
        source: TemplateSource {
            key: parse_key(document)?,
            title: string_field(document, "title")?,
            body: string_field(document, "body")?,
        },
        version: u32_field(document, "version")?,
        created_by: string_field(document, "created_by")?,
        created_at: time_field(document, "created_at")?,
        active: false,
    })
}

fn parse_head(document: &Document) -> Result<TemplateHead, StoreError> {
    Ok(TemplateHead {
        key: parse_key(document)?,
        active_version: u32_field(document, "active_version")?,
        activated_by: string_field(document, "activated_by")?,
        activated_at: time_field(document, "activated_at")?,
    })
}

fn string_field(document: &Document, key: &str) -> Result<String, StoreError> {
    document
        .get_str(key)
        .map(str::to_owned)
        .map_err(|_| StoreError::Malformed(key.to_owned()))
}

fn u32_field(document: &Document, key: &str) -> Result<u32, StoreError> {
    let number = match document.get(key) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(n)) if n.fract() == 0.0 => *n as i64,
        _ => return Err(StoreError::Malformed(key.to_owned())),
    };
    u32::try_from(number).map_err(|_| StoreError::Malformed(key.to_owned()))
}

fn time_field(document: &Document, key: &str) -> Result<DateTime<Utc>, StoreError> {
    document
        .get_datetime(key)
        .ok()
        .and_then(|at| DateTime::from_timestamp_millis(at.timestamp_millis()))
        .ok_or_else(|| StoreError::Malformed(key.to_owned()))
}

fn bson_time(at: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(at.timestamp_millis())
}

/// What a stored time reads back as (BSON keeps milliseconds), so returned values compare
/// equal to what a later read returns.
fn truncated_to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}
