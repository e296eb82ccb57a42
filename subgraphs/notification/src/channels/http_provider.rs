//! SMS and WhatsApp through an HTTP provider: `POST {url}` with
//! `{"to": "+62…", "text": "…", "reference": "<notification id>"}`, `Authorization: Bearer
//! <key>` and `Idempotency-Key: <notification id>`, so a provider that supports idempotency keys
//! drops the duplicate of a send we repeat after a crash.
//!
//! The answer decides: 2xx sent (the provider's message id from `id`, `message_id`, `messageId`
//! or `name` in a JSON body); 408, 429, 5xx, no answer within the timeout, or no connection are
//! retryable; any other 4xx is permanent (bad number, bad key, rejected text). The provider's
//! body, truncated, is kept either way for the attempt record.
//!
//! [`HttpPoster`] is the part push shares: the request, the timeout and the status mapping.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::{Value, json};
use tenor_platform::config::Secret;

use super::{Channel, DeliveryError, HttpProviderConfig, OutgoingMessage, Receipt, truncate};
use crate::domain::ChannelKind;

/// The header carrying the notification id on every provider request.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

pub struct HttpProviderChannel {
    kind: ChannelKind,
    poster: HttpPoster,
}

impl HttpProviderChannel {
    pub fn new(kind: ChannelKind, config: &HttpProviderConfig) -> anyhow::Result<Self> {
        Ok(Self {
            kind,
            poster: HttpPoster::new(config)?,
        })
    }
}

#[async_trait]
impl Channel for HttpProviderChannel {
    fn kind(&self) -> ChannelKind {
        self.kind
    }

    fn provider(&self) -> &str {
        &self.poster.provider
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Receipt, DeliveryError> {
        let body = json!({
            "to": message.to,
            "text": message.body,
            "reference": message.notification_id,
        });
        self.poster.post(&message.notification_id, &body).await
    }
}

/// One provider endpoint: a JSON POST with the bearer key, the idempotency key and a timeout,
/// its answer mapped to a [`Receipt`] or a [`DeliveryError`].
pub(crate) struct HttpPoster {
    provider: String,
    url: String,
    api_key: Option<Secret>,
    timeout: Duration,
    http: reqwest::Client,
}

impl HttpPoster {
    pub(crate) fn new(config: &HttpProviderConfig) -> anyhow::Result<Self> {
        tenor_platform::crypto::install_providers();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A provider that redirects a POST is misconfigured; following could resend the
            // message body somewhere unexpected.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        if let Some(key) = &config.api_key {
            HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                anyhow::anyhow!(
                    "the {} API key is not a valid header value",
                    config.provider
                )
            })?;
        }
        Ok(Self {
            provider: config.provider.clone(),
            url: config.url.clone(),
            api_key: config.api_key.clone(),
            timeout: config.timeout,
            http,
        })
    }

    pub(crate) fn provider(&self) -> &str {
        &self.provider
    }

    pub(crate) async fn post(
        &self,
        notification_id: &str,
        body: &Value,
    ) -> Result<Receipt, DeliveryError> {
        let mut request = self
            .http
            .post(&self.url)
            .header(IDEMPOTENCY_KEY_HEADER, notification_id)
            .json(body);
        if let Some(key) = &self.api_key {
            request = request.header(AUTHORIZATION, format!("Bearer {}", key.expose()));
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let text = match response.text().await {
            Ok(text) => text,
            // Accepted is accepted, even if the rest of the answer got lost.
            Err(_) if status.is_success() => String::new(),
            Err(e) => return Err(self.unreachable(&e)),
        };
        self.outcome(status, &text)
    }

    fn outcome(&self, status: StatusCode, text: &str) -> Result<Receipt, DeliveryError> {
        let response = truncate(text);
        if status.is_success() {
            return Ok(Receipt {
                provider: self.provider.clone(),
                provider_message_id: message_id(text),
                response,
            });
        }
        let reason = format!("{} answered {status}", self.provider);
        let retryable = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || !status.is_client_error();
        if retryable {
            Err(DeliveryError::retryable(reason, Some(response)))
        } else {
            Err(DeliveryError::permanent(reason, Some(response)))
        }
    }

    fn unreachable(&self, error: &reqwest::Error) -> DeliveryError {
        // reqwest's message names the URL, which may carry a key in its query: leave it out.
        let reason = if error.is_timeout() {
            format!("{} did not answer within {:?}", self.provider, self.timeout)
        } else if error.is_connect() {
            format!("{} unreachable (connection failed)", self.provider)
        } else {
            format!("{} request failed before an answer", self.provider)
        };
        DeliveryError::retryable(reason, None)
    }
}

/// The provider's id for the message, from the usual places in a JSON answer.
fn message_id(text: &str) -> Option<String> {
    let body: Value = serde_json::from_str(text).ok()?;
    ["id", "message_id", "messageId", "name"]
        .iter()
        .find_map(|field| match body.get(field)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poster() -> HttpPoster {
        HttpPoster::new(&HttpProviderConfig::new("sms-test", "http://127.0.0.1:9/")).unwrap()
    }

    #[test]
    fn statuses_map_to_sent_retryable_or_permanent() {
        let p = poster();
        let sent = p
            .outcome(StatusCode::ACCEPTED, r#"{"message_id":"m-1"}"#)
            .unwrap();
        assert_eq!(sent.provider_message_id.as_deref(), Some("m-1"));
        assert_eq!(sent.provider, "sms-test");
        for status in [500, 502, 503, 429, 408] {
            let e = p
                .outcome(StatusCode::from_u16(status).unwrap(), "busy")
                .unwrap_err();
            assert!(e.is_retryable(), "{status}: {e:?}");
            assert_eq!(e.response(), Some("busy"));
        }
        for status in [400, 401, 403, 404, 422] {
            let e = p
                .outcome(StatusCode::from_u16(status).unwrap(), "no")
                .unwrap_err();
            assert!(!e.is_retryable(), "{status}: {e:?}");
        }
    }

    #[test]
    fn provider_ids_come_from_the_usual_fields() {
        assert_eq!(message_id(r#"{"id": 42}"#).as_deref(), Some("42"));
        assert_eq!(
            message_id(r#"{"name": "projects/p/messages/7"}"#).as_deref(),
            Some("projects/p/messages/7")
        );
        assert_eq!(message_id("OK"), None);
    }
}
