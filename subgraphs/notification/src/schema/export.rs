//! Notification's part of the owner's data export (docs/conventions.md § Data-subject requests):
//! `myNotificationData` — the contact details and preferences this context was told, every inbox
//! item and every message sent or tried. One of the root fields the app's `MyDataExport` operation asks for in one
//! request, next to the user subgraph's `myDataExport`. The field takes no id: it reads the
//! caller's own, from the verified token, so nobody can ask for another person's data.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};

use super::service;
use super::types::{DeliveryStatusGql, Notification, NotificationChannelGql};
use crate::service::export::NotificationExport;
use crate::store::{Contact, Notification as StoredNotification};

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Contact details, preferences, inbox and messages of the signed-in owner (data export).
    /// Null for a deleted account.
    #[graphql(directive = authenticated::apply())]
    async fn my_notification_data(&self, ctx: &Context<'_>) -> Result<Option<NotificationsExport>> {
        let user_id = ctx.principal()?.user_id;
        let export = service(ctx)
            .export_of(user_id)
            .await
            .map_err(internal_error)?;
        Ok(export.map(NotificationsExport::from))
    }
}

#[derive(SimpleObject)]
pub struct NotificationsExport {
    /// What this context was told about how to reach the person (null before any user event).
    contact: Option<NotificationContactExport>,
    /// Every inbox item, newest first.
    inbox: Vec<Notification>,
    /// Every message sent or tried for those items, one per item and channel (one flat list:
    /// the router prices a list inside a list as 50 × 50 items).
    deliveries: Vec<ExportedDelivery>,
}

#[derive(SimpleObject)]
pub struct ExportedDelivery {
    /// The inbox item (and event) it belongs to.
    notification_id: ID,
    channel: NotificationChannelGql,
    status: DeliveryStatusGql,
    /// The address it went to.
    to: String,
    title: String,
    content: String,
    /// Provider calls made.
    attempt_count: i32,
    sent_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
    failure_reason: Option<String>,
    skip_reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct NotificationContactExport {
    email: Option<String>,
    phone_number: Option<String>,
    fullname: Option<String>,
    /// `id` or `en`.
    language: String,
    /// WIB, WITA or WIT: when reminders may be sent.
    time_zone: String,
    /// The channels chosen; null until the person chose.
    channels: Option<Vec<NotificationChannelGql>>,
    marketing_consent: bool,
}

impl From<Contact> for NotificationContactExport {
    fn from(c: Contact) -> Self {
        Self {
            email: c.email,
            phone_number: c.phone_number,
            fullname: c.fullname,
            language: c.language.as_str().to_owned(),
            time_zone: c.zone.as_str().to_owned(),
            channels: c
                .channels
                .map(|channels| channels.into_iter().map(Into::into).collect()),
            marketing_consent: c.marketing_consent,
        }
    }
}

impl From<NotificationExport> for NotificationsExport {
    fn from(e: NotificationExport) -> Self {
        let mut inbox = Vec::with_capacity(e.items.len());
        let mut deliveries = Vec::new();
        for (item, messages) in e.items {
            deliveries.extend(messages.into_iter().map(ExportedDelivery::from));
            inbox.push(Notification::from(item));
        }
        Self {
            contact: e.contact.map(NotificationContactExport::from),
            inbox,
            deliveries,
        }
    }
}

impl From<StoredNotification> for ExportedDelivery {
    fn from(n: StoredNotification) -> Self {
        Self {
            notification_id: ID(n.event_id.to_string()),
            channel: n.channel.into(),
            status: n.status.into(),
            to: n.to,
            title: n.title,
            content: n.content,
            attempt_count: i32::try_from(n.attempts.len()).unwrap_or(i32::MAX),
            sent_at: n.sent_at,
            failed_at: n.failed_at,
            failure_reason: n.failure_reason,
            skip_reason: n.skip_reason,
        }
    }
}
