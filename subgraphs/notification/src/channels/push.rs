//! Push in the shape of Firebase Cloud Messaging's HTTP v1 API: `POST {NOTIFICATION_PUSH_URL}`
//! (for FCM `https://fcm.googleapis.com/v1/projects/<project>/messages:send`) with
//!
//! ```json
//! {"message": {"token": "<device token>",
//!              "notification": {"title": "…", "body": "…"},
//!              "data": {"notification_id": "…"}}}
//! ```
//!
//! FCM answers `{"name": "projects/…/messages/…"}`, kept as the provider's message id. The
//! status mapping is the HTTP providers' (an unregistered token is FCM's 404: permanent).
//!
//! The bearer key is sent as configured. Real FCM wants a short-lived OAuth 2 access token
//! minted from a service account; that exchange belongs to a gateway or a later change, not to
//! this adapter.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http_provider::HttpPoster;
use super::{Channel, DeliveryError, OutgoingMessage, PushConfig, Receipt};
use crate::domain::ChannelKind;

pub struct PushChannel {
    poster: HttpPoster,
}

impl PushChannel {
    pub fn new(config: &PushConfig) -> anyhow::Result<Self> {
        Ok(Self {
            poster: HttpPoster::new(config)?,
        })
    }
}

/// The FCM v1 request body for one message.
pub fn fcm_body(message: &OutgoingMessage) -> Value {
    json!({
        "message": {
            "token": message.to,
            "notification": { "title": message.title, "body": message.body },
            "data": { "notification_id": message.notification_id },
        }
    })
}

#[async_trait]
impl Channel for PushChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Push
    }

    fn provider(&self) -> &str {
        self.poster.provider()
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Receipt, DeliveryError> {
        self.poster
            .post(&message.notification_id, &fcm_body(message))
            .await
    }
}
