//! What staff do (`notification:admin`): the templates — list, write a new version (checked
//! before it is stored), preview with sample data, activate — and one borrower's notifications
//! with every delivery attempt.

use std::collections::HashMap;

use tenor_platform::cursor::PageRequest;
use tenor_platform::refusal::{Failure, Outcome};
use uuid::Uuid;

use super::NotificationService;
use crate::store::{InboxItem, Notification, StoreError, inbox, notifications};
use crate::templates::store::{
    self as template_store, TemplateFilter, TemplateHead, TemplateVersion,
};
use crate::templates::{self, RenderContext, Rendered, TemplateError, TemplateKey, TemplateSource};

impl NotificationService {
    /// The version of `key` being sent, as its source.
    pub async fn active_template(
        &self,
        key: &TemplateKey,
    ) -> anyhow::Result<Option<TemplateSource>> {
        Ok(template_store::active(&self.db, key)
            .await?
            .map(|version| version.source))
    }

    #[tracing::instrument(skip(self))]
    pub async fn templates(&self, filter: &TemplateFilter) -> anyhow::Result<Vec<TemplateVersion>> {
        Ok(template_store::list(&self.db, filter).await?)
    }

    /// Store `source` as the next version of its key (not sent until activated).
    #[tracing::instrument(skip(self, source), fields(key = %source.key))]
    pub async fn create_template_version(
        &self,
        source: &TemplateSource,
        by: Uuid,
    ) -> Outcome<TemplateVersion, TemplateError> {
        template_store::create_version(&self.db, source, &by.to_string()).await
    }

    /// Make `version` the one sent for `key`.
    #[tracing::instrument(skip(self))]
    pub async fn activate_template_version(
        &self,
        key: &TemplateKey,
        version: u32,
        by: Uuid,
    ) -> Outcome<TemplateHead, TemplateError> {
        template_store::activate(&self.db, key, version, &by.to_string()).await
    }

    /// `source` rendered with `data` (default: the catalog's sample for its event), after the
    /// same checks as a save. Stores nothing.
    pub fn preview_template(
        &self,
        source: &TemplateSource,
        data: Option<serde_json::Value>,
        cx: &RenderContext,
    ) -> Outcome<Rendered, TemplateError> {
        templates::check(source).map_err(Failure::refused)?;
        let entry = templates::entry(&source.key.event_type).ok_or_else(|| {
            Failure::refused(TemplateError::UnknownEvent {
                event_type: source.key.event_type.clone(),
            })
        })?;
        // Given fields replace the sample's; the rest (and `name`) stay the sample's.
        let mut variables = entry.sample.clone();
        if let (Some(fields), Some(serde_json::Value::Object(given))) =
            (variables.as_object_mut(), data)
        {
            fields.extend(given);
        }
        // As the borrower would read it (a rejection's reason in the template's language).
        templates::in_borrower_language(&source.key.event_type, &mut variables, cx.language);
        templates::render(source, &variables, cx).map_err(Failure::refused)
    }

    /// One page of `user`'s inbox items, each with its notifications (staff).
    #[tracing::instrument(skip(self))]
    pub async fn borrower_notifications(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Vec<(InboxItem, Vec<Notification>)>, StoreError> {
        let items = inbox::page(&self.inbox(), user, false, page).await?;
        self.with_deliveries(items).await
    }

    /// Each inbox item with the notifications sent or tried for its event (one read for all).
    pub(super) async fn with_deliveries(
        &self,
        items: Vec<InboxItem>,
    ) -> Result<Vec<(InboxItem, Vec<Notification>)>, StoreError> {
        let ids: Vec<Uuid> = items.iter().map(|item| item.id).collect();
        let mut by_event: HashMap<Uuid, Vec<Notification>> = HashMap::new();
        for delivery in notifications::of_events(&self.notifications(), &ids).await? {
            by_event
                .entry(delivery.event_id)
                .or_default()
                .push(delivery);
        }
        Ok(items
            .into_iter()
            .map(|item| {
                let mine = by_event.remove(&item.id).unwrap_or_default();
                (item, mine)
            })
            .collect())
    }
}
