//! How a rendered notification leaves the building: one [`Channel`] per [`ChannelKind`], each a
//! real protocol to a real server.
//!
//! - Email: SMTP with `lettre` ([`email`]); locally Mailpit started by `./dev`, in production a
//!   relay over `smtps://` or STARTTLS.
//! - SMS and WhatsApp: one HTTP provider adapter ([`http_provider`]) — a JSON POST with a bearer
//!   key, the notification id as `Idempotency-Key`.
//! - Push: an FCM-v1-shaped HTTP adapter ([`push`]). Without `NOTIFICATION_PUSH_URL` push is not
//!   configured and [`Channels::get`] answers `None`, which the caller records as "not available".
//!
//! Every send either returns a [`Receipt`] or a [`DeliveryError`] that says whether trying again
//! can help: the retry policy belongs to the caller, the classification to the channel that
//! knows its protocol. Each channel bounds every send with a timeout, so a provider that hangs
//! costs one attempt, not a worker.

mod config;
pub mod email;
pub mod http_provider;
pub mod push;
#[cfg(feature = "test-support")]
pub mod receiver;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{ChannelKind, Language};

pub use config::{ChannelsConfig, EmailConfig, HttpProviderConfig, PushConfig};

/// One notification, rendered for one channel, on its way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Stable across retries: providers see it as an idempotency key, email as `Message-ID` and
    /// `X-Tenor-Notification-Id`, so a send that is repeated after a crash can be recognised.
    pub notification_id: String,
    pub channel: ChannelKind,
    /// An email address, an E.164 phone number, or a device token, by channel.
    pub to: String,
    /// Email subject and push title; SMS and WhatsApp carry only the body.
    pub title: String,
    pub body: String,
    pub language: Language,
}

/// What the provider said when it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Which provider took it (`smtp`, `sms-http`, `fcm`, or the configured name).
    pub provider: String,
    /// The provider's id for the message when it gave one (for email: our `Message-ID`).
    pub provider_message_id: Option<String>,
    /// The provider's answer, truncated to [`RESPONSE_LIMIT`] bytes, for the attempt record.
    pub response: String,
}

/// Why a send did not go through, and whether another attempt can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The provider was down, slow, throttling or failing on its side: try again later.
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        response: Option<String>,
    },
    /// The provider refused this message (bad address, rejected content, bad credentials):
    /// the same request will be refused again.
    #[error("permanent: {reason}")]
    Permanent {
        reason: String,
        response: Option<String>,
    },
}

impl DeliveryError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }

    pub fn reason(&self) -> &str {
        match self {
            Self::Retryable { reason, .. } | Self::Permanent { reason, .. } => reason,
        }
    }

    /// The provider's answer (truncated), when there was one.
    pub fn response(&self) -> Option<&str> {
        match self {
            Self::Retryable { response, .. } | Self::Permanent { response, .. } => {
                response.as_deref()
            }
        }
    }

    pub(crate) fn retryable(reason: impl Into<String>, response: Option<String>) -> Self {
        Self::Retryable {
            reason: reason.into(),
            response,
        }
    }

    pub(crate) fn permanent(reason: impl Into<String>, response: Option<String>) -> Self {
        Self::Permanent {
            reason: reason.into(),
            response,
        }
    }
}

/// A way to reach a borrower.
#[async_trait]
pub trait Channel: Send + Sync {
    fn kind(&self) -> ChannelKind;
    /// The provider's name as recorded with each attempt.
    fn provider(&self) -> &str;
    async fn send(&self, message: &OutgoingMessage) -> Result<Receipt, DeliveryError>;
}

/// The configured channels, by kind. A kind without configuration is simply absent.
#[derive(Clone, Default)]
pub struct Channels {
    by_kind: HashMap<ChannelKind, Arc<dyn Channel>>,
}

impl Channels {
    /// Builds every configured channel. Fails on settings that cannot work (e.g. an SMTP URL
    /// lettre does not accept), never because a server is down: that is a per-send matter.
    /// Call inside a Tokio runtime (the SMTP connection pool spawns a task).
    pub fn from_config(config: &ChannelsConfig) -> anyhow::Result<Self> {
        let mut channels = Self::default();
        if let Some(email) = &config.email {
            channels = channels.with(Arc::new(email::EmailChannel::new(email)?));
        }
        if let Some(sms) = &config.sms {
            channels = channels.with(Arc::new(http_provider::HttpProviderChannel::new(
                ChannelKind::Sms,
                sms,
            )?));
        }
        if let Some(whatsapp) = &config.whatsapp {
            channels = channels.with(Arc::new(http_provider::HttpProviderChannel::new(
                ChannelKind::Whatsapp,
                whatsapp,
            )?));
        }
        if let Some(push) = &config.push {
            channels = channels.with(Arc::new(push::PushChannel::new(push)?));
        }
        Ok(channels)
    }

    /// `None`: this kind is not configured here.
    pub fn get(&self, kind: ChannelKind) -> Option<Arc<dyn Channel>> {
        self.by_kind.get(&kind).cloned()
    }

    /// Adds or replaces the channel for its kind (tests put a scripted channel in).
    pub fn with(mut self, channel: Arc<dyn Channel>) -> Self {
        self.by_kind.insert(channel.kind(), channel);
        self
    }

    /// The configured kinds, in [`ChannelKind::ALL`] order.
    pub fn kinds(&self) -> Vec<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .filter(|k| self.by_kind.contains_key(k))
            .collect()
    }
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for kind in self.kinds() {
            list.entry(&kind.as_str(), &self.by_kind[&kind].provider());
        }
        list.finish()
    }
}

/// How much of a provider's answer is kept with an attempt: enough to diagnose, not a whole
/// error page.
pub const RESPONSE_LIMIT: usize = 1024;

/// `text` cut to [`RESPONSE_LIMIT`] bytes on a character boundary, marked when cut.
pub(crate) fn truncate(text: &str) -> String {
    if text.len() <= RESPONSE_LIMIT {
        return text.to_owned();
    }
    let mut end = RESPONSE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_responses_are_cut_on_a_character_boundary() {
        let long = "é".repeat(RESPONSE_LIMIT);
        let cut = truncate(&long);
        assert!(cut.len() <= RESPONSE_LIMIT + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short"), "short");
    }
}
