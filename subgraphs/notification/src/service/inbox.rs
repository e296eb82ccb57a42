//! The borrower's inbox: their items newest first, how many are unread, and read marks. Owner
//! only: another user's item id behaves exactly like an id that does not exist.

use tenor_platform::cursor::PageRequest;
use tenor_platform::refusal::{Failure, Outcome, Refused, ServiceError};
use uuid::Uuid;

use super::NotificationService;
use crate::store::{InboxItem, StoreError, inbox};

/// The refusal of a read mark on an item the caller does not have.
pub fn not_found() -> Refused {
    Refused::new(
        "NOT_FOUND",
        Some("id"),
        "Notifikasi tidak ditemukan / No such notification",
    )
}

fn failure(error: StoreError) -> Failure<Refused> {
    Failure::Error(ServiceError::Other(error.into()))
}

impl NotificationService {
    /// One page of `user`'s items (one more than asked, to tell whether another follows).
    #[tracing::instrument(skip(self))]
    pub async fn inbox_page(
        &self,
        user: Uuid,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Vec<InboxItem>, StoreError> {
        inbox::page(&self.inbox(), user, unread_only, page).await
    }

    #[tracing::instrument(skip(self))]
    pub async fn unread_count(&self, user: Uuid) -> Result<u64, StoreError> {
        inbox::unread_count(&self.inbox(), user).await
    }

    /// `user`'s item `id`, `None` for anyone else's.
    pub async fn inbox_item(&self, user: Uuid, id: Uuid) -> Result<Option<InboxItem>, StoreError> {
        inbox::find(&self.inbox(), user, id).await
    }

    /// Mark `user`'s item `id` read (again: keeps the first time).
    #[tracing::instrument(skip(self))]
    pub async fn mark_read(&self, user: Uuid, id: Uuid) -> Outcome<InboxItem, Refused> {
        let now = self.now();
        inbox::mark_read(&self.inbox(), user, id, now)
            .await
            .map_err(failure)?
            .ok_or_else(|| Failure::refused(not_found()))
    }

    /// Mark every unread item of `user` read; how many were unread.
    #[tracing::instrument(skip(self))]
    pub async fn mark_all_read(&self, user: Uuid) -> Outcome<u64, Refused> {
        let now = self.now();
        inbox::mark_all_read(&self.inbox(), user, now)
            .await
            .map_err(failure)
    }
}
