//! Email over SMTP with `lettre`: a text part and an HTML part made from the same text, a
//! `Message-ID` derived from the notification id and an `X-Tenor-Notification-Id` header, so a
//! message sent twice (a crash between "accepted" and "recorded") is recognisable as one.
//!
//! SMTP answers decide retries: 4xx (greylisting, mailbox busy, server overloaded), refused or
//! dropped connections, TLS trouble and timeouts are retryable; 5xx (no such user, rejected
//! content, bad credentials) is permanent.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::response::Response;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Channel, DeliveryError, EmailConfig, OutgoingMessage, Receipt, truncate};
use crate::domain::{ChannelKind, Language};

/// The header carrying the notification id on every email.
pub const NOTIFICATION_ID_HEADER: &str = "X-Tenor-Notification-Id";

const PROVIDER: &str = "smtp";

pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl EmailChannel {
    /// Call inside a Tokio runtime: the SMTP connection pool starts its idle-connection reaper.
    pub fn new(config: &EmailConfig) -> anyhow::Result<Self> {
        // smtps:// and STARTTLS use rustls with the process-wide `ring` provider.
        tenor_platform::crypto::install_providers();
        // lettre's error could quote the URL, and the URL may hold a password: say which
        // variable, not what it holds.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.smtp_url.expose())
            .map_err(|_| anyhow::anyhow!("NOTIFICATION_SMTP_URL: not usable by the SMTP client"))?
            .timeout(Some(config.timeout))
            .build();
        let from = config
            .from
            .parse()
            .map_err(|_| anyhow::anyhow!("NOTIFICATION_EMAIL_FROM: not an email address"))?;
        Ok(Self {
            transport,
            from,
            timeout: config.timeout,
        })
    }

    /// `<id@sender-domain>`: stable across retries of one notification.
    fn message_id(&self, notification_id: &str) -> String {
        let local: String = notification_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("<{local}@{}>", self.from.email.domain())
    }

    fn compose(
        &self,
        message: &OutgoingMessage,
        message_id: &str,
    ) -> Result<Message, DeliveryError> {
        let to: Mailbox = message.to.parse().map_err(|_| {
            DeliveryError::permanent(format!("not an email address: {:?}", message.to), None)
        })?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.title.clone())
            .message_id(Some(message_id.to_owned()))
            .header(NotificationId(message.notification_id.clone()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(message.body.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html_body(&message.title, &message.body, message.language)),
                    ),
            )
            .map_err(|e| DeliveryError::permanent(format!("could not build the email: {e}"), None))
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn provider(&self) -> &str {
        PROVIDER
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Receipt, DeliveryError> {
        let message_id = self.message_id(&message.notification_id);
        let email = self.compose(message, &message_id)?;
        // lettre's timeout bounds each SMTP command; this bounds the whole conversation.
        let sent = tokio::time::timeout(self.timeout, self.transport.send(email))
            .await
            .map_err(|_| {
                DeliveryError::retryable(
                    format!("SMTP server did not finish within {:?}", self.timeout),
                    None,
                )
            })?;
        match sent {
            Ok(response) => Ok(Receipt {
                provider: PROVIDER.to_owned(),
                provider_message_id: Some(message_id),
                response: truncate(&reply_text(&response)),
            }),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// 5xx is permanent; 4xx and everything that is not an SMTP answer (refused connection,
/// timeout, TLS, a dropped line) may work next time.
fn classify(error: &lettre::transport::smtp::Error) -> DeliveryError {
    let text = error.to_string();
    let response = error.status().map(|_| truncate(&text));
    if error.is_permanent() {
        DeliveryError::permanent(format!("SMTP refused the message: {text}"), response)
    } else if error.is_transient() {
        DeliveryError::retryable(format!("SMTP deferred the message: {text}"), response)
    } else if error.is_timeout() {
        DeliveryError::retryable(format!("SMTP timed out: {text}"), None)
    } else {
        DeliveryError::retryable(format!("SMTP unavailable: {text}"), response)
    }
}

fn reply_text(response: &Response) -> String {
    let lines: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), lines.join(" "))
}

/// The HTML part: the text escaped, blank lines as paragraph breaks, line breaks kept. The
/// text is the source of truth; HTML only makes it read well in mail clients.
fn html_body(title: &str, text: &str, language: Language) -> String {
    let paragraphs: String = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(escape).collect();
            format!("<p>{}</p>\n", lines.join("<br>\n"))
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n{paragraphs}</body>\n</html>\n",
        lang = language.as_str(),
        title = escape(title),
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone)]
struct NotificationId(String);

impl Header for NotificationId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(NOTIFICATION_ID_HEADER)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_text_in_paragraphs() {
        let html = html_body(
            "Cicilan <segera>",
            "Halo Budi & Sari,\nbaris dua\n\n<script>alert(1)</script>",
            Language::Id,
        );
        assert!(html.contains("<html lang=\"id\">"), "{html}");
        assert!(
            html.contains("<title>Cicilan &lt;segera&gt;</title>"),
            "{html}"
        );
        assert!(
            html.contains("<p>Halo Budi &amp; Sari,<br>\nbaris dua</p>"),
            "{html}"
        );
        assert!(
            html.contains("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
    }

    #[tokio::test]
    async fn tls_urls_build_a_client_and_credentials_do_not_leak_into_errors() {
        for url in [
            "smtps://user:pass@mail.example.id:465",
            "smtp://user:pass@mail.example.id:587?tls=required",
        ] {
            assert!(EmailChannel::new(&EmailConfig::new(url)).is_ok(), "{url}");
        }
        let error = EmailChannel::new(&EmailConfig::new("imap://user:hunter2@mail.example.id"))
            .err()
            .expect("not an SMTP URL");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[tokio::test]
    async fn message_ids_are_stable_and_well_formed() {
        let channel = EmailChannel::new(&EmailConfig {
            from: "Tenor <no-reply@tenor.example.id>".into(),
            ..EmailConfig::new("smtp://127.0.0.1:1")
        })
        .unwrap();
        assert_eq!(
            channel.message_id("65f0c0ffee/email"),
            "<65f0c0ffee-email@tenor.example.id>"
        );
        assert_eq!(channel.message_id("a"), channel.message_id("a"));
    }
}
