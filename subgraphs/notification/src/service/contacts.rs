//! The contacts projection: where to reach a borrower and how they want to be reached, from
//! `user.registered.v1`, `user.profile.updated.v1` and `user.status.changed.v1`. Each event
//! writes its part only if it is newer than what the part holds (see [`crate::store::contacts`]).

use mongodb::bson::doc;
use tenor_contracts::identity::{
    AccountStatus, UserProfileUpdatedV1, UserRegisteredV1, UserStatusChangedV1,
};

use super::NotificationService;
use crate::domain::{ChannelKind, IndonesianZone, Language};
use crate::store::contacts::{self, Part};
use crate::store::erasure;
use crate::store::{Contact, StoreError, serde_name};

impl NotificationService {
    #[tracing::instrument(skip_all, fields(user_id = %event.user_id))]
    pub async fn registered(&self, event: &UserRegisteredV1) -> Result<bool, StoreError> {
        let fields = doc! {
            "email": &event.email,
            "phone_number": event.phone_number.clone(),
            "registered_fullname": &event.fullname,
        };
        let contacts = self.contacts();
        contacts::apply(
            &contacts,
            event.user_id,
            Part::Registration,
            event.registered_at,
            fields,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %event.user_id))]
    pub async fn profile_updated(&self, event: &UserProfileUpdatedV1) -> Result<bool, StoreError> {
        // Unknown channel names (a newer user service) are dropped, not stored.
        let channels: Vec<&str> = event
            .notification_channels
            .iter()
            .filter_map(|name| ChannelKind::parse(&name.to_ascii_lowercase()))
            .map(ChannelKind::as_str)
            .collect();
        let zone = event
            .time_zone
            .as_deref()
            .and_then(IndonesianZone::parse)
            .unwrap_or_default();
        let fields = doc! {
            "fullname": &event.fullname,
            "language": Language::from_profile(&event.language).as_str(),
            "channels": channels,
            "marketing_consent": event.marketing_consent,
            "time_zone": zone.as_str(),
        };
        let contacts = self.contacts();
        contacts::apply(
            &contacts,
            event.user_id,
            Part::Profile,
            event.updated_at,
            fields,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %event.user_id))]
    pub async fn status_changed(&self, event: &UserStatusChangedV1) -> Result<bool, StoreError> {
        let mut fields = doc! { "status": serde_name(&event.status) };
        let deleted = event.status == AccountStatus::Deleted;
        if deleted {
            fields.extend(erasure::erased_contact(event.changed_at));
        }
        let contacts = self.contacts();
        let applied = contacts::apply(
            &contacts,
            event.user_id,
            Part::Status,
            event.changed_at,
            fields,
        )
        .await?;
        // A deleted account's personal data goes (docs/conventions.md § Data-subject
        // requests): the contact's went with the status above when that write applied; each
        // step is idempotent, so a redelivery or an older deletion repeats it harmlessly.
        if deleted {
            erasure::erase_contact(&contacts, event.user_id, event.changed_at).await?;
            self.erase_messages_and_inbox(event.user_id).await?;
        }
        Ok(applied)
    }

    /// Whether the borrower's account is deleted, as far as this service has heard.
    pub async fn account_deleted(&self, user: uuid::Uuid) -> Result<bool, StoreError> {
        Ok(self.contact(user).await?.is_some_and(|c| c.is_deleted()))
    }

    /// Erase the borrower's messages and inbox again if their account is deleted by now; whether
    /// it was. For a write made from a contact read before a deletion landed — another
    /// replica's intake, or the worker sending a message it held — checked after that write:
    /// the deletion writes DELETED before it erases, so either this read sees DELETED, or the
    /// write came before the deletion's erasure, which then saw it.
    pub async fn erase_if_deleted(&self, user: uuid::Uuid) -> Result<bool, StoreError> {
        if !self.account_deleted(user).await? {
            return Ok(false);
        }
        self.erase_messages_and_inbox(user).await?;
        Ok(true)
    }

    async fn erase_messages_and_inbox(&self, user: uuid::Uuid) -> Result<(), StoreError> {
        erasure::erase_messages(&self.notifications(), user, self.now()).await?;
        erasure::erase_inbox(&self.inbox(), user).await?;
        Ok(())
    }

    /// The borrower's contact as projected so far (`None`: no user event seen yet).
    pub async fn contact(&self, user: uuid::Uuid) -> Result<Option<Contact>, StoreError> {
        contacts::find(&self.contacts(), user).await
    }
}
