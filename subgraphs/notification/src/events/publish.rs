//! What notification announces: `notification.inbox.added.v1` on `notification.events` (key =
//! the user id, so one borrower's items stay in order), written with the item's announcement
//! ([`crate::store::inbox`]) and relayed by the MongoDB outbox. Every replica's live feed
//! ([`super::live`]) reads it to push the item to its subscribers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenor_events::{DomainEvent, EnvelopeError, MongoPublisher, PendingEvents};
use uuid::Uuid;

use crate::domain::Category;
use crate::store::InboxItem;

/// A new item in a borrower's inbox. Carries no text: a subscriber reads the item (owner only).
// Lives here, not in `tenor_contracts`, while notification is its only reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationInboxAddedV1 {
    pub notification_id: Uuid,
    pub user_id: Uuid,
    pub event_type: String,
    pub category: Category,
    pub created_at: DateTime<Utc>,
}

impl DomainEvent for NotificationInboxAddedV1 {
    const TYPE: &'static str = "notification.inbox.added.v1";
}

/// The event of a new `item`, ready for its announcement's insert.
pub fn inbox_added(
    publisher: &MongoPublisher,
    item: &InboxItem,
) -> Result<PendingEvents, EnvelopeError> {
    let event = NotificationInboxAddedV1 {
        notification_id: item.id,
        user_id: item.user_id,
        event_type: item.event_type.clone(),
        category: item.category,
        created_at: item.created_at,
    };
    let mut events = publisher.events();
    events.add(item.user_id.to_string(), &event)?;
    Ok(events)
}
