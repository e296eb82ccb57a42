//! The in-app inbox: `notification_inbox` (one item per event, `_id` = the event id, so a
//! redelivered event is refused by the `_id` index on every server) and
//! `notification_announcements` (one document per item carrying its
//! `notification.inbox.added.v1` in the MongoDB outbox).
//!
//! ```text
//! notification_inbox         { _id, user_id, event_type, category, title, content, link,
//!                              created_at, read_at }
//! notification_announcements { _id (= item id), user_id, created_at, outbox, outbox_pending }
//! ```
//!
//! Why two documents: the owner updates an item (read marks) and the relay updates the
//! document holding the event (removing it after Kafka's ack). FerretDB does not isolate two
//! updates of one document, so an item that held its own event could lose a read mark to the
//! relay's write. Apart, each has one writer. Both are inserted idempotently by the intake, in
//! this order; a crash between the two leaves the event's Kafka offset unstored, and the
//! redelivery inserts the missing announcement.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Collection, Database, IndexModel};
use tenor_events::PendingEvents;
use tenor_platform::cursor::PageRequest;
use uuid::Uuid;

use super::{
    StoreError, bson_time, from_serde_name, is_duplicate_key, optional_string, optional_time,
    serde_name, string_field, time_field, uuid_field,
};
use crate::domain::Category;

pub const COLLECTION: &str = "notification_inbox";
pub const ANNOUNCEMENTS: &str = "notification_announcements";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

pub fn announcements(db: &Database) -> Collection<Document> {
    db.collection(ANNOUNCEMENTS)
}

/// One inbox item: what the borrower sees in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// The id of the event it tells about.
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_type: String,
    pub category: Category,
    pub title: String,
    pub content: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Store `item` unless its event has one already; whether it was new.
pub async fn insert_item(
    items: &Collection<Document>,
    item: &InboxItem,
) -> Result<bool, StoreError> {
    let document = doc! {
        "_id": item.id.to_string(),
        "user_id": item.user_id.to_string(),
        "event_type": &item.event_type,
        "category": serde_name(&item.category),
        "title": &item.title,
        "content": &item.content,
        "link": item.link.clone(),
        "created_at": bson_time(item.created_at),
        "read_at": item.read_at.map(bson_time),
    };
    match items.insert_one(document).await {
        Ok(_) => Ok(true),
        Err(error) if is_duplicate_key(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Store the announcement of `item` with its `events` unless it exists; whether it was new.
pub async fn insert_announcement(
    announcements: &Collection<Document>,
    item: &InboxItem,
    events: PendingEvents,
) -> Result<bool, StoreError> {
    let document = events.into_new_document(doc! {
        "_id": item.id.to_string(),
        "user_id": item.user_id.to_string(),
        "created_at": bson_time(item.created_at),
    });
    match announcements.insert_one(document).await {
        Ok(_) => Ok(true),
        Err(error) if is_duplicate_key(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// `user`'s item `id`; `None` when there is none (or it is someone else's).
pub async fn find(
    items: &Collection<Document>,
    user: Uuid,
    id: Uuid,
) -> Result<Option<InboxItem>, StoreError> {
    let found = items
        .find_one(doc! { "_id": id.to_string(), "user_id": user.to_string() })
        .await?;
    found.as_ref().map(parse).transpose()
}

/// One page of `user`'s items, newest first (one more than the page, to tell whether another
/// follows).
pub async fn page(
    items: &Collection<Document>,
    user: Uuid,
    unread_only: bool,
    page: PageRequest,
) -> Result<Vec<InboxItem>, StoreError> {
    let mut filter = doc! { "user_id": user.to_string() };
    if unread_only {
        filter.insert("read_at", Bson::Null);
    }
    if let Some(after) = page.after {
        let at = bson_time(after.at);
        filter.insert(
            "$or",
            vec![
                doc! { "created_at": { "$lt": at } },
                doc! { "created_at": at, "_id": { "$lt": after.id.to_string() } },
            ],
        );
    }
    let documents: Vec<Document> = items
        .find(filter)
        .sort(doc! { "created_at": -1, "_id": -1 })
        .limit(page.fetch_limit())
        .await?
        .try_collect()
        .await?;
    documents.iter().map(parse).collect()
}

pub async fn unread_count(items: &Collection<Document>, user: Uuid) -> Result<u64, StoreError> {
    Ok(items
        .count_documents(doc! { "user_id": user.to_string(), "read_at": Bson::Null })
        .await?)
}

/// Mark `user`'s item `id` read at `at` (an item read earlier keeps its first time). The item,
/// or `None` when `user` has no such item.
pub async fn mark_read(
    items: &Collection<Document>,
    user: Uuid,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<InboxItem>, StoreError> {
    items
        .update_one(
            doc! { "_id": id.to_string(), "user_id": user.to_string(), "read_at": Bson::Null },
            doc! { "$set": { "read_at": bson_time(at) } },
        )
        .await?;
    find(items, user, id).await
}

/// Mark every unread item of `user` read at `at`; how many were unread.
pub async fn mark_all_read(
    items: &Collection<Document>,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let updated = items
        .update_many(
            doc! { "user_id": user.to_string(), "read_at": Bson::Null },
            doc! { "$set": { "read_at": bson_time(at) } },
        )
        .await?;
    Ok(updated.modified_count)
}

pub async fn ensure_indexes(db: &Database) -> mongodb::error::Result<()> {
    let of_user = IndexModel::builder()
        .keys(doc! { "user_id": 1, "created_at": -1 })
        .build();
    collection(db).create_index(of_user).await.map(|_| ())
}

fn parse(document: &Document) -> Result<InboxItem, StoreError> {
    Ok(InboxItem {
        id: uuid_field(document, "_id")?,
        user_id: uuid_field(document, "user_id")?,
        event_type: string_field(document, "event_type")?,
        category: from_serde_name(document, "category")?,
        title: string_field(document, "title")?,
        content: string_field(document, "content")?,
        link: optional_string(document, "link"),
        created_at: time_field(document, "created_at")?,
        read_at: optional_time(document, "read_at"),
    })
}
