//! `notifications`: the seed's collection — one delivery of one event over one channel — and
//! the delivery worker's queue.
//!
//! ```text
//! { _id, event_id, event_type, user_id, category, channel, to, language, zone,
//!   title, content, link, quiet_hours,
//!   status: pending | sent | failed | skipped, skip_reason, failure_reason,
//!   attempts: [ { at, provider, outcome, response } ], attempt_count,
//!   next_attempt_at, claimed_until, provider_message_id,
//!   created_at, sent_at, failed_at }
//! ```
//!
//! Unique on (`event_id`, `channel`): a redelivered event creates nothing new. Only the worker
//! holding a notification's claim (`claimed_until` in the future) writes it.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    StoreError, bson_time, from_serde_name, is_duplicate_key, optional_string, optional_time,
    serde_name, string_field, time_field, uuid_field,
};
use crate::domain::{Category, ChannelKind, IndonesianZone, Language};

pub const COLLECTION: &str = "notifications";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    Pending,
    Sent,
    Failed,
    /// Never attempted, for a reason recorded in `skip_reason` (no address, channel not
    /// configured).
    Skipped,
}

/// One provider call and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub provider: String,
    /// `sent`, `retryable`, `permanent`, `timeout`.
    pub outcome: String,
    /// The provider's answer (or the error), as text.
    pub response: String,
}

/// A notification as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub user_id: Uuid,
    pub category: Category,
    pub channel: ChannelKind,
    /// The address it goes to (email address, phone number, user id for push).
    pub to: String,
    pub language: Language,
    pub zone: IndonesianZone,
    pub title: String,
    pub content: String,
    pub link: Option<String>,
    /// Reminders and collection: only 08:00–20:00 local, not on Sundays or holidays.
    pub quiet_hours: bool,
    pub status: NotificationStatus,
    pub skip_reason: Option<String>,
    pub failure_reason: Option<String>,
    pub attempts: Vec<Attempt>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub provider_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// Store `notification` unless the event already has one on its channel; whether it was new.
pub async fn insert_if_absent(
    notifications: &Collection<Document>,
    notification: &Notification,
) -> Result<bool, StoreError> {
    match notifications.insert_one(document(notification)).await {
        Ok(_) => Ok(true),
        Err(error) if is_duplicate_key(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Claim the `channel` notification that has been due longest and is not claimed, for
/// `lease`. `None` when nothing is due. On FerretDB two replicas may claim the same one at the
/// same instant (the update is not isolated); see `service::delivery` for what that costs.
pub async fn claim_due(
    notifications: &Collection<Document>,
    channel: ChannelKind,
    now: DateTime<Utc>,
    lease: std::time::Duration,
) -> Result<Option<Notification>, StoreError> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let claimed = notifications
        .find_one_and_update(
            doc! {
                "status": "pending",
                "channel": channel.as_str(),
                "next_attempt_at": { "$lte": bson_time(now) },
                "claimed_until": { "$lte": bson_time(now) },
            },
            doc! { "$set": { "claimed_until": bson_time(until) } },
        )
        .sort(doc! { "next_attempt_at": 1 })
        .return_document(ReturnDocument::After)
        .await?;
    claimed.as_ref().map(parse).transpose()
}

/// The provider accepted it.
pub async fn mark_sent(
    notifications: &Collection<Document>,
    id: Uuid,
    attempt: &Attempt,
    provider_message_id: Option<&str>,
) -> Result<(), StoreError> {
    notifications
        .update_one(
            doc! { "_id": id.to_string() },
            doc! {
                "$set": {
                    "status": "sent",
                    "sent_at": bson_time(attempt.at),
                    "claimed_until": bson_time(attempt.at),
                    "provider_message_id": provider_message_id,
                },
                "$push": { "attempts": attempt_document(attempt) },
                "$inc": { "attempt_count": 1i64 },
            },
        )
        .await?;
    Ok(())
}

/// Failed for good: `reason` says why.
pub async fn mark_failed(
    notifications: &Collection<Document>,
    id: Uuid,
    attempt: &Attempt,
    reason: &str,
) -> Result<(), StoreError> {
    notifications
        .update_one(
            doc! { "_id": id.to_string() },
            doc! {
                "$set": {
                    "status": "failed",
                    "failed_at": bson_time(attempt.at),
                    "failure_reason": reason,
                    "claimed_until": bson_time(attempt.at),
                },
                "$push": { "attempts": attempt_document(attempt) },
                "$inc": { "attempt_count": 1i64 },
            },
        )
        .await?;
    Ok(())
}

/// A failed call worth repeating: try again at `next_attempt_at`, unclaimed.
pub async fn retry_at(
    notifications: &Collection<Document>,
    id: Uuid,
    attempt: &Attempt,
    next_attempt_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    notifications
        .update_one(
            doc! { "_id": id.to_string() },
            doc! {
                "$set": {
                    "next_attempt_at": bson_time(next_attempt_at),
                    "claimed_until": bson_time(attempt.at),
                    "last_error": &attempt.response,
                },
                "$push": { "attempts": attempt_document(attempt) },
                "$inc": { "attempt_count": 1i64 },
            },
        )
        .await?;
    Ok(())
}

/// Not sent now, no attempt made (quiet hours, rate limit): due again at `next_attempt_at`.
pub async fn defer(
    notifications: &Collection<Document>,
    id: Uuid,
    now: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    why: &str,
) -> Result<(), StoreError> {
    notifications
        .update_one(
            doc! { "_id": id.to_string() },
            doc! { "$set": {
                "next_attempt_at": bson_time(next_attempt_at),
                "claimed_until": bson_time(now),
                "deferred_because": why,
            } },
        )
        .await?;
    Ok(())
}

pub async fn find(
    notifications: &Collection<Document>,
    id: Uuid,
) -> Result<Option<Notification>, StoreError> {
    let found = notifications
        .find_one(doc! { "_id": id.to_string() })
        .await?;
    found.as_ref().map(parse).transpose()
}

/// Every notification of the events `event_ids`, in creation order.
pub async fn of_events(
    notifications: &Collection<Document>,
    event_ids: &[Uuid],
) -> Result<Vec<Notification>, StoreError> {
    let ids: Vec<String> = event_ids.iter().map(Uuid::to_string).collect();
    let documents: Vec<Document> = notifications
        .find(doc! { "event_id": { "$in": ids } })
        .sort(doc! { "created_at": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?;
    documents.iter().map(parse).collect()
}

pub async fn ensure_indexes(db: &Database) -> mongodb::error::Result<()> {
    let once = IndexModel::builder()
        .keys(doc! { "event_id": 1, "channel": 1 })
        .options(
            mongodb::options::IndexOptions::builder()
                .unique(true)
                .build(),
        )
        .build();
    let due = IndexModel::builder()
        .keys(doc! { "status": 1, "channel": 1, "next_attempt_at": 1 })
        .build();
    let of_user = IndexModel::builder()
        .keys(doc! { "user_id": 1, "created_at": -1 })
        .build();
    // One at a time: FerretDB drops the connection on a multi-index createIndexes when some
    // of them exist already (seen on a restart).
    for index in [once, due, of_user] {
        collection(db).create_index(index).await?;
    }
    Ok(())
}

fn document(n: &Notification) -> Document {
    doc! {
        "_id": n.id.to_string(),
        "event_id": n.event_id.to_string(),
        "event_type": &n.event_type,
        "user_id": n.user_id.to_string(),
        "category": serde_name(&n.category),
        "channel": n.channel.as_str(),
        "to": &n.to,
        "language": n.language.as_str(),
        "zone": n.zone.as_str(),
        "title": &n.title,
        "content": &n.content,
        "link": n.link.clone(),
        "quiet_hours": n.quiet_hours,
        "status": serde_name(&n.status),
        "skip_reason": n.skip_reason.clone(),
        "failure_reason": n.failure_reason.clone(),
        "attempts": n.attempts.iter().map(attempt_document).collect::<Vec<_>>(),
        "attempt_count": n.attempts.len() as i64,
        "next_attempt_at": n.next_attempt_at.map(bson_time),
        // Never claimed yet: the epoch is before any `now`.
        "claimed_until": bson_time(DateTime::UNIX_EPOCH),
        "provider_message_id": n.provider_message_id.clone(),
        "created_at": bson_time(n.created_at),
        "sent_at": n.sent_at.map(bson_time),
        "failed_at": n.failed_at.map(bson_time),
    }
}

fn attempt_document(attempt: &Attempt) -> Bson {
    Bson::Document(doc! {
        "at": bson_time(attempt.at),
        "provider": &attempt.provider,
        "outcome": &attempt.outcome,
        "response": &attempt.response,
    })
}

fn parse(document: &Document) -> Result<Notification, StoreError> {
    let attempts = document
        .get_array("attempts")
        .map(|entries| {
            entries
                .iter()
                .filter_map(Bson::as_document)
                .map(|a| {
                    Ok(Attempt {
                        at: time_field(a, "at")?,
                        provider: string_field(a, "provider")?,
                        outcome: string_field(a, "outcome")?,
                        response: optional_string(a, "response").unwrap_or_default(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .unwrap_or(Ok(Vec::new()))?;
    let channel = ChannelKind::parse(&string_field(document, "channel")?)
        .ok_or_else(|| StoreError::Malformed("channel".to_owned()))?;
    Ok(Notification {
        id: uuid_field(document, "_id")?,
        event_id: uuid_field(document, "event_id")?,
        event_type: string_field(document, "event_type")?,
        user_id: uuid_field(document, "user_id")?,
        category: from_serde_name(document, "category")?,
        channel,
        to: optional_string(document, "to").unwrap_or_default(),
        language: Language::from_profile(&string_field(document, "language")?),
        zone: IndonesianZone::parse(&string_field(document, "zone")?)
            .ok_or_else(|| StoreError::Malformed("zone".to_owned()))?,
        title: string_field(document, "title")?,
        content: string_field(document, "content")?,
        link: optional_string(document, "link"),
        quiet_hours: document.get_bool("quiet_hours").unwrap_or(false),
        status: from_serde_name(document, "status")?,
        skip_reason: optional_string(document, "skip_reason"),
        failure_reason: optional_string(document, "failure_reason"),
        attempts,
        next_attempt_at: optional_time(document, "next_attempt_at"),
        provider_message_id: optional_string(document, "provider_message_id"),
        created_at: time_field(document, "created_at")?,
        sent_at: optional_time(document, "sent_at"),
        failed_at: optional_time(document, "failed_at"),
    })
}
