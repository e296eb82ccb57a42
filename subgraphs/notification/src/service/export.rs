//! The owner's copy of what notification holds about them (right of access, UU PDP Pasal 32;
//! docs/conventions.md § Data-subject requests): the contact details and preferences it was
//! told, every inbox item, and every message sent or tried on each channel. A deleted account
//! gets nothing: its contact data and texts are erased on the DELETED event.

use tenor_platform::cursor::{Cursor, PageRequest};
use uuid::Uuid;

use super::NotificationService;
use crate::store::{Contact, InboxItem, Notification, StoreError, inbox};

/// At most this many inbox items (with their messages) in one export, newest first.
pub const EXPORT_ITEM_LIMIT: usize = 1000;

#[derive(Debug)]
pub struct NotificationExport {
    pub contact: Option<Contact>,
    pub items: Vec<(InboxItem, Vec<Notification>)>,
}

impl NotificationService {
    #[tracing::instrument(skip(self))]
    pub async fn export_of(&self, user: Uuid) -> Result<Option<NotificationExport>, StoreError> {
        let contact = self.contact(user).await?;
        if contact.as_ref().is_some_and(Contact::is_deleted) {
            return Ok(None);
        }
        let mut items = Vec::new();
        let mut after = None;
        while items.len() < EXPORT_ITEM_LIMIT {
            let page = PageRequest { first: 100, after };
            let mut batch = inbox::page(&self.inbox(), user, false, page).await?;
            let more = batch.len() > page.first;
            batch.truncate(page.first);
            after = batch.last().map(|item| Cursor {
                at: item.created_at,
                id: item.id,
            });
            items.extend(batch);
            if !more {
                break;
            }
        }
        let items = self.with_deliveries(items).await?;
        Ok(Some(NotificationExport { contact, items }))
    }
}
