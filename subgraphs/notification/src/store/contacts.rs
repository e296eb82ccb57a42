//! `notification_contacts`: one document per user — where to reach them and how they want to be
//! reached — projected from `user.registered.v1` (auth), `user.profile.updated.v1` and
//! `user.status.changed.v1` (user).
//!
//! ```text
//! { _id: user id,
//!   email, phone_number, registered_fullname, registered_at,          ← user.registered
//!   fullname, language, channels: ["email", …], marketing_consent,
//!   time_zone, profile_at,                                            ← user.profile.updated
//!   status, status_at }                                               ← user.status.changed
//! ```
//!
//! Each part carries the time of the event that wrote it and is only overwritten by a later
//! event: events from two topics arrive in any order, and a redelivered or older event (same
//! or earlier time) changes nothing — idempotent by construction, no event-id table needed.
//!
//! A replica's consumer handles one event at a time, so its writes to a contact never overlap.
//! Two replicas may hold one user's `auth.events` and `user.events` partitions and write the
//! same document at once: MongoDB isolates single-document updates, so the guards hold; the
//! local FerretDB does not (docs/architecture.md), which is one reason it is for development
//! only.

use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Collection, Database};
use uuid::Uuid;

use super::{StoreError, bson_time, is_duplicate_key, optional_string};
use crate::domain::{ChannelKind, IndonesianZone, Language};

pub const COLLECTION: &str = "notification_contacts";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

/// Which part of the projection an event writes, and its guard field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Registration,
    Profile,
    Status,
}

impl Part {
    fn guard(self) -> &'static str {
        match self {
            Self::Registration => "registered_at",
            Self::Profile => "profile_at",
            Self::Status => "status_at",
        }
    }
}

/// What intake needs to know about a borrower.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contact {
    pub user_id: Uuid,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    /// From the latest profile, else from registration.
    pub fullname: Option<String>,
    pub language: Language,
    pub zone: IndonesianZone,
    /// The channels the borrower chose; `None` until they chose (then every channel may go).
    pub channels: Option<Vec<ChannelKind>>,
    pub marketing_consent: bool,
    /// `ACTIVE`, `INACTIVE`, `BLOCKED`, `DELETED`; `None` until a status event arrived.
    pub status: Option<String>,
}

impl Contact {
    /// Whether the latest status event deleted the account.
    pub fn is_deleted(&self) -> bool {
        self.status.as_deref() == Some("DELETED")
    }
}

/// Write `fields` as `part` of `user`'s document, stamped `at`, unless that part already holds
/// an event of the same or a later time. Whether it was written.
pub async fn apply(
    contacts: &Collection<Document>,
    user: Uuid,
    part: Part,
    at: DateTime<Utc>,
    mut fields: Document,
) -> Result<bool, StoreError> {
    let guard = part.guard();
    fields.insert(guard, bson_time(at));
    let older = doc! {
        "_id": user.to_string(),
        "$or": [ { guard: { "$exists": false } }, { guard: Bson::Null }, { guard: { "$lt": bson_time(at) } } ],
    };
    // Update an existing document whose part is older; else create the document; a create
    // refused as a duplicate means another part created it meanwhile (or ours is newer): try
    // the guarded update once more.
    if contacts
        .update_one(older.clone(), doc! { "$set": fields.clone() })
        .await?
        .matched_count
        == 1
    {
        return Ok(true);
    }
    let mut document = fields.clone();
    document.insert("_id", user.to_string());
    match contacts.insert_one(document).await {
        Ok(_) => Ok(true),
        Err(error) if is_duplicate_key(&error) => Ok(contacts
            .update_one(older, doc! { "$set": fields })
            .await?
            .matched_count
            == 1),
        Err(error) => Err(error.into()),
    }
}

pub async fn find(
    contacts: &Collection<Document>,
    user: Uuid,
) -> Result<Option<Contact>, StoreError> {
    let document = contacts.find_one(doc! { "_id": user.to_string() }).await?;
    Ok(document.map(|d| parse(user, &d)))
}

fn parse(user_id: Uuid, document: &Document) -> Contact {
    let channels = document.get_array("channels").ok().map(|names| {
        names
            .iter()
            .filter_map(|name| name.as_str().and_then(ChannelKind::parse))
            .collect()
    });
    Contact {
        user_id,
        email: optional_string(document, "email").filter(|e| !e.is_empty()),
        phone_number: optional_string(document, "phone_number").filter(|p| !p.is_empty()),
        fullname: optional_string(document, "fullname")
            .or_else(|| optional_string(document, "registered_fullname"))
            .filter(|n| !n.trim().is_empty()),
        language: optional_string(document, "language")
            .map(|code| Language::from_profile(&code))
            .unwrap_or_default(),
        zone: optional_string(document, "time_zone")
            .and_then(|zone| IndonesianZone::parse(&zone))
            .unwrap_or_default(),
        channels,
        marketing_consent: document.get_bool("marketing_consent").unwrap_or(false),
        status: optional_string(document, "status"),
    }
}
