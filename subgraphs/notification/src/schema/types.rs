//! The object types, enums and payloads of the notification schema.

use async_graphql::{ComplexObject, Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::graphql::UserError;

use crate::domain::{Category, ChannelKind};
use crate::store::{self, InboxItem};

/// The channel a notification went out on (the same values as the user subgraph's).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "NotificationChannel", remote = "crate::domain::ChannelKind")]
pub enum NotificationChannelGql {
    Email,
    Sms,
    Whatsapp,
    Push,
}

/// What a notification is about.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "NotificationCategory", remote = "crate::domain::Category")]
pub enum NotificationCategoryGql {
    Loan,
    Kyc,
    Payment,
    Security,
    Collection,
    Other,
}

/// Where one delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "NotificationDeliveryStatus",
    remote = "crate::store::NotificationStatus"
)]
pub enum DeliveryStatusGql {
    /// Waiting for its (next) attempt.
    Pending,
    /// The provider accepted it.
    Sent,
    /// Given up: see `failureReason`.
    Failed,
    /// Never attempted: see `skipReason` (no address, channel not available).
    Skipped,
}

/// One item of the borrower's in-app inbox: one per event they hear about.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Notification {
    pub id: ID,
    pub category: NotificationCategoryGql,
    /// The event it tells about, e.g. `loan.approved.v1`.
    pub event_type: String,
    pub title: String,
    pub content: String,
    /// Where in the app it leads, e.g. `tenor://loans/<id>`.
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[ComplexObject]
impl Notification {
    async fn read(&self) -> bool {
        self.read_at.is_some()
    }
}

impl From<InboxItem> for Notification {
    fn from(item: InboxItem) -> Self {
        Self {
            id: ID(item.id.to_string()),
            category: category(item.category),
            event_type: item.event_type,
            title: item.title,
            content: item.content,
            link: item.link,
            created_at: item.created_at,
            read_at: item.read_at,
        }
    }
}

fn category(category: Category) -> NotificationCategoryGql {
    category.into()
}

#[derive(SimpleObject)]
pub struct MarkNotificationReadPayload {
    pub notification: Option<Notification>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct MarkAllNotificationsReadPayload {
    /// How many were unread.
    pub marked_count: Option<i32>,
    pub user_errors: Vec<UserError>,
}

/// Back office: one provider call and what came of it.
#[derive(SimpleObject)]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    pub provider: String,
    /// `sent`, `retryable`, `permanent`.
    pub outcome: String,
    /// The provider's answer, or the error.
    pub response: String,
}

/// Back office: one notification of an event over one channel.
#[derive(SimpleObject)]
pub struct NotificationDelivery {
    pub id: ID,
    pub channel: NotificationChannelGql,
    pub status: DeliveryStatusGql,
    /// The address it went to.
    pub to: String,
    pub title: String,
    pub content: String,
    pub attempts: Vec<DeliveryAttempt>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    pub skip_reason: Option<String>,
}

impl From<store::Notification> for NotificationDelivery {
    fn from(n: store::Notification) -> Self {
        let channel: ChannelKind = n.channel;
        Self {
            id: ID(n.id.to_string()),
            channel: channel.into(),
            status: n.status.into(),
            to: n.to,
            title: n.title,
            content: n.content,
            attempts: n
                .attempts
                .into_iter()
                .map(|a| DeliveryAttempt {
                    at: a.at,
                    provider: a.provider,
                    outcome: a.outcome,
                    response: a.response,
                })
                .collect(),
            next_attempt_at: n.next_attempt_at,
            sent_at: n.sent_at,
            failed_at: n.failed_at,
            failure_reason: n.failure_reason,
            skip_reason: n.skip_reason,
        }
    }
}

/// Back office: an inbox item of a borrower with its deliveries.
#[derive(SimpleObject)]
pub struct BorrowerNotification {
    pub notification: Notification,
    pub deliveries: Vec<NotificationDelivery>,
}
