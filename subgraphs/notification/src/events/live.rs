//! New inbox items for subscribers: the hub the `notificationReceived` subscription
//! (`schema/subscriptions.rs`) listens to — [`tenor_events::live`], fed with
//! `notification.inbox.added` from `notification.events` and `auth.session.revoked` from
//! `auth.events`, as loan's `loanStatusChanged` is.

use rdkafka::message::BorrowedMessage;
use tenor_contracts::identity::SessionRevokedV1;
use tenor_events::Envelope;
use tenor_events::kafka::KafkaConfig;
use tenor_events::live::Live;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::publish::NotificationInboxAddedV1;

/// One new item as the hub hands it out: whose and which (a subscriber reads the item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemAdded {
    pub item_id: Uuid,
    pub user_id: Uuid,
}

impl tenor_events::live::Addressed for ItemAdded {
    fn recipient(&self) -> Uuid {
        self.user_id
    }
}

/// New inbox items and session revocations received by this process, for its subscribers.
pub type LiveHub = tenor_events::live::LiveHub<ItemAdded>;

/// Consume `topic` (notification's) and `auth_topic` until `shutdown`, forwarding new inbox
/// items and session revocations to `hub`.
pub async fn run(
    hub: LiveHub,
    kafka: KafkaConfig,
    topic: String,
    auth_topic: String,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    hub.run(
        kafka,
        "tenor-notification-live",
        &[&topic, &auth_topic],
        classify,
        shutdown,
    )
    .await
}

fn classify(_: &BorrowedMessage<'_>, envelope: &Envelope) -> Option<Live<ItemAdded>> {
    if envelope.is::<NotificationInboxAddedV1>() {
        match envelope.decode::<NotificationInboxAddedV1>() {
            Ok(event) => Some(Live::Item(ItemAdded {
                item_id: event.notification_id,
                user_id: event.user_id,
            })),
            Err(error) => {
                tracing::warn!(%error, "undecodable notification.inbox.added");
                None
            }
        }
    } else if envelope.is::<SessionRevokedV1>() {
        match envelope.decode::<SessionRevokedV1>() {
            Ok(event) => Some(Live::Revoked(event.session_id)),
            Err(error) => {
                tracing::warn!(%error, "undecodable auth.session.revoked");
                None
            }
        }
    } else {
        None
    }
}
