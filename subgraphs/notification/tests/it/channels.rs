//! The channels against real servers: email to the Mailpit that `./dev` runs (read back through
//! its HTTP API), SMTP failures from a scripted SMTP server on a loopback port, and SMS,
//! WhatsApp and push through the local HTTP receiver.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenor_notification::channels::email::NOTIFICATION_ID_HEADER;
use tenor_notification::channels::receiver::{Receiver, Reply};
use tenor_notification::channels::{
    Channel, Channels, ChannelsConfig, DeliveryError, EmailConfig, HttpProviderConfig,
    OutgoingMessage,
};
use tenor_notification::domain::{ChannelKind, Language};
use tenor_platform::config::Env;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Set by `./dev env`; the defaults are `./dev`'s ports.
fn smtp_url() -> String {
    std::env::var("NOTIFICATION_SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:21025".into())
}

fn mailpit_api() -> String {
    std::env::var("MAILPIT_API_URL").unwrap_or_else(|_| "http://127.0.0.1:28025".into())
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn message(channel: ChannelKind, to: &str) -> OutgoingMessage {
    OutgoingMessage {
        notification_id: format!("ntf-{}", unique()),
        channel,
        to: to.to_owned(),
        title: "Pinjaman Anda disetujui".into(),
        body: "Halo Budi, pinjaman Rp1.250.000 Anda disetujui.".into(),
        language: Language::Id,
    }
}

fn channels(config: ChannelsConfig) -> Channels {
    Channels::from_config(&config).expect("channels from config")
}

fn email_channel(url: &str, timeout: Duration) -> Arc<dyn Channel> {
    channels(ChannelsConfig {
        email: Some(EmailConfig {
            timeout,
            ..EmailConfig::new(url)
        }),
        ..Default::default()
    })
    .get(ChannelKind::Email)
    .expect("email configured")
}

fn provider_channel(kind: ChannelKind, config: HttpProviderConfig) -> Arc<dyn Channel> {
    let config = match kind {
        ChannelKind::Sms => ChannelsConfig {
            sms: Some(config),
            ..Default::default()
        },
        ChannelKind::Whatsapp => ChannelsConfig {
            whatsapp: Some(config),
            ..Default::default()
        },
        ChannelKind::Push => ChannelsConfig {
            push: Some(config),
            ..Default::default()
        },
        ChannelKind::Email => unreachable!("email is not an HTTP provider"),
    };
    channels(config).get(kind).expect("channel configured")
}

// ---------------------------------------------------------------------------------------------
// email through Mailpit

fn http() -> reqwest::Client {
    tenor_platform::crypto::install_providers();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn get_json(path: &str) -> Value {
    http()
        .get(format!("{}{path}", mailpit_api()))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("Mailpit API {path}: {e} (is ./dev infra up?)"))
        .json()
        .await
        .unwrap()
}

/// The one message Mailpit holds for `to`, waiting for it to be stored.
async fn mailpit_message_to(to: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = get_json(&format!("/api/v1/search?query=to:{to}")).await;
        let messages = found["messages"].as_array().cloned().unwrap_or_default();
        if let Some(summary) = messages.first() {
            assert_eq!(messages.len(), 1, "one message for {to}: {found}");
            return summary.clone();
        }
        assert!(Instant::now() < deadline, "no message to {to} in Mailpit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn email_reaches_mailpit_with_subject_text_html_and_notification_id() {
    let to = format!("budi.{}@example.id", unique());
    let mut msg = message(ChannelKind::Email, &to);
    msg.title = format!(
        "Pinjaman Rp1.250.000 disetujui — {}",
        &msg.notification_id[4..12]
    );
    msg.body = "Halo Budi & Sari,\npinjaman Rp1.250.000 Anda disetujui.\n\nSalam, Tenor".into();

    let receipt = email_channel(&smtp_url(), Duration::from_secs(10))
        .send(&msg)
        .await
        .expect("Mailpit accepts the email");
    assert_eq!(receipt.provider, "smtp");
    assert!(receipt.response.starts_with("250"), "{receipt:?}");
    let message_id = format!("<{}@tenor.local>", msg.notification_id);
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some(message_id.as_str())
    );

    let summary = mailpit_message_to(&to).await;
    assert_eq!(summary["Subject"], msg.title.as_str());
    assert_eq!(summary["To"][0]["Address"], to.as_str());
    assert_eq!(summary["From"]["Address"], "no-reply@tenor.local");
    let id = summary["ID"].as_str().unwrap();

    let full = get_json(&format!("/api/v1/message/{id}")).await;
    // SMTP carries lines as CRLF; Mailpit hands them back that way.
    let text = full["Text"].as_str().unwrap().replace("\r\n", "\n");
    assert_eq!(text.trim_end(), msg.body);
    let html = full["HTML"].as_str().unwrap().replace("\r\n", "\n");
    assert!(html.contains("Halo Budi &amp; Sari,<br>"), "{html}");
    assert!(html.contains("<p>Salam, Tenor</p>"), "{html}");
    assert_eq!(
        full["MessageID"],
        format!("{}@tenor.local", msg.notification_id)
    );

    let headers = get_json(&format!("/api/v1/message/{id}/headers")).await;
    assert_eq!(
        headers[NOTIFICATION_ID_HEADER],
        json!([msg.notification_id]),
        "{headers}"
    );
}

#[tokio::test]
async fn email_to_an_unreachable_smtp_server_is_retryable() {
    let port = free_port().await;
    let error = email_channel(&format!("smtp://127.0.0.1:{port}"), Duration::from_secs(5))
        .send(&message(ChannelKind::Email, "budi@example.id"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(error.reason().contains("SMTP"), "{error:?}");
}

#[tokio::test]
async fn an_address_that_is_not_one_is_permanent_without_contacting_the_server() {
    let error = email_channel(&smtp_url(), Duration::from_secs(5))
        .send(&message(ChannelKind::Email, "budi at example dot id"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DeliveryError::Permanent { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn smtp_5xx_is_permanent_and_4xx_retryable() {
    let refusing = FakeSmtp::start("550 5.1.1 mailbox unavailable").await;
    let error = email_channel(&refusing.url(), Duration::from_secs(5))
        .send(&message(ChannelKind::Email, "nobody@example.id"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DeliveryError::Permanent { .. }),
        "{error:?}"
    );
    assert!(error.response().unwrap().contains("550"), "{error:?}");

    let greylisting = FakeSmtp::start("451 4.7.1 greylisted, try later").await;
    let error = email_channel(&greylisting.url(), Duration::from_secs(5))
        .send(&message(ChannelKind::Email, "budi@example.id"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(error.response().unwrap().contains("451"), "{error:?}");
}

#[tokio::test]
async fn an_smtp_server_that_never_answers_is_a_retryable_timeout() {
    // Accepts connections and says nothing: no greeting ever comes.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let error = email_channel(&url, Duration::from_millis(300))
        .send(&message(ChannelKind::Email, "budi@example.id"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    drop(silent);
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// An SMTP server on a loopback port that accepts everything but answers `RCPT TO` with a fixed
/// reply: lettre's real conversation against a refusal we choose.
struct FakeSmtp {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl FakeSmtp {
    async fn start(rcpt_reply: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(Self::converse(stream, rcpt_reply));
            }
        });
        Self { addr, task }
    }

    fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    async fn converse(stream: tokio::net::TcpStream, rcpt_reply: &'static str) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let _ = write.write_all(b"220 fake.test ESMTP\r\n").await;
        while let Ok(Some(line)) = lines.next_line().await {
            let command = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let reply = match command.as_str() {
                "EHLO" | "HELO" => "250 fake.test".to_owned(),
                "RCPT" => rcpt_reply.to_owned(),
                "QUIT" => {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => "250 ok".to_owned(),
            };
            if write
                .write_all(format!("{reply}\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// SMS, WhatsApp and push through the local receiver

#[tokio::test]
async fn sms_is_posted_as_json_with_bearer_key_and_idempotency_key() {
    let provider = Receiver::answering([200]).await;
    let sms = provider_channel(
        ChannelKind::Sms,
        HttpProviderConfig::new("sms-test", provider.url()).with_api_key("k-123"),
    );
    let msg = message(ChannelKind::Sms, "+6281234567890");

    let receipt = sms.send(&msg).await.expect("sent");
    assert_eq!(receipt.provider, "sms-test");
    assert_eq!(receipt.provider_message_id.as_deref(), Some("msg-1"));
    assert_eq!(receipt.response, r#"{"id":"msg-1"}"#);

    let requests = provider.received();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.json,
        json!({"to": "+6281234567890", "text": msg.body, "reference": msg.notification_id})
    );
    assert_eq!(request.header("authorization"), Some("Bearer k-123"));
    assert_eq!(
        request.header("idempotency-key"),
        Some(msg.notification_id.as_str())
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn provider_5xx_and_429_are_retryable_with_the_body_kept() {
    let provider = Receiver::start([
        Reply::status(500).with_body("gateway exploded"),
        Reply::status(429).with_body(r#"{"error":"slow down"}"#),
    ])
    .await;
    let sms = provider_channel(
        ChannelKind::Sms,
        HttpProviderConfig::new("sms-test", provider.url()),
    );
    let msg = message(ChannelKind::Sms, "+6281234567890");

    let error = sms.send(&msg).await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(error.reason().contains("500"), "{error:?}");
    assert_eq!(error.response(), Some("gateway exploded"));

    let error = sms.send(&msg).await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert_eq!(error.response(), Some(r#"{"error":"slow down"}"#));
}

#[tokio::test]
async fn provider_4xx_is_permanent() {
    let provider =
        Receiver::start([Reply::status(400).with_body(r#"{"error":"invalid number"}"#)]).await;
    let sms = provider_channel(
        ChannelKind::Sms,
        HttpProviderConfig::new("sms-test", provider.url()),
    );
    let error = sms
        .send(&message(ChannelKind::Sms, "+62-not-a-number"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DeliveryError::Permanent { .. }),
        "{error:?}"
    );
    assert_eq!(error.response(), Some(r#"{"error":"invalid number"}"#));
}

#[tokio::test]
async fn retries_of_one_notification_carry_the_same_idempotency_key_until_it_goes_through() {
    let provider = Receiver::answering([500, 500, 200]).await;
    let sms = provider_channel(
        ChannelKind::Sms,
        HttpProviderConfig::new("sms-test", provider.url()),
    );
    let msg = message(ChannelKind::Sms, "+6281234567890");

    assert!(sms.send(&msg).await.unwrap_err().is_retryable());
    assert!(sms.send(&msg).await.unwrap_err().is_retryable());
    let receipt = sms.send(&msg).await.expect("third attempt goes through");
    assert_eq!(receipt.provider_message_id.as_deref(), Some("msg-3"));

    let keys: Vec<_> = provider
        .received()
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys, vec![msg.notification_id.clone(); 3]);
}

#[tokio::test]
async fn a_slow_provider_is_a_retryable_timeout() {
    let provider = Receiver::start([Reply::status(200).after(Duration::from_secs(3))]).await;
    let sms = provider_channel(
        ChannelKind::Sms,
        HttpProviderConfig::new("sms-test", provider.url())
            .with_timeout(Duration::from_millis(200)),
    );
    let started = Instant::now();
    let error = sms
        .send(&message(ChannelKind::Sms, "+6281234567890"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(error.reason().contains("did not answer"), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_retryable() {
    let port = free_port().await;
    let sms = provider_channel(
        ChannelKind::Sms,
        HttpProviderConfig::new("sms-test", format!("http://127.0.0.1:{port}/send")),
    );
    let error = sms
        .send(&message(ChannelKind::Sms, "+6281234567890"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn whatsapp_goes_through_the_same_adapter() {
    let provider = Receiver::answering([201]).await;
    let whatsapp = provider_channel(
        ChannelKind::Whatsapp,
        HttpProviderConfig::new("whatsapp-test", provider.url()).with_api_key("wa-key"),
    );
    assert_eq!(whatsapp.kind(), ChannelKind::Whatsapp);
    let msg = message(ChannelKind::Whatsapp, "+6281298765432");
    let receipt = whatsapp.send(&msg).await.expect("sent");
    assert_eq!(receipt.provider, "whatsapp-test");

    let request = &provider.received()[0];
    assert_eq!(request.json["to"], "+6281298765432");
    assert_eq!(request.json["text"], msg.body.as_str());
    assert_eq!(request.header("authorization"), Some("Bearer wa-key"));
}

#[tokio::test]
async fn push_has_the_fcm_v1_shape_and_keeps_fcms_message_name() {
    let provider = Receiver::start([
        Reply::status(200).with_body(r#"{"name":"projects/tenor/messages/0:1234"}"#)
    ])
    .await;
    let push = provider_channel(
        ChannelKind::Push,
        HttpProviderConfig::new("fcm", provider.url()).with_api_key("ya29.token"),
    );
    let msg = message(ChannelKind::Push, "device-token-abc");

    let receipt = push.send(&msg).await.expect("sent");
    assert_eq!(receipt.provider, "fcm");
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some("projects/tenor/messages/0:1234")
    );
    let request = &provider.received()[0];
    assert_eq!(
        request.json,
        json!({"message": {
            "token": "device-token-abc",
            "notification": {"title": msg.title, "body": msg.body},
            "data": {"notification_id": msg.notification_id},
        }})
    );
    assert_eq!(request.header("authorization"), Some("Bearer ya29.token"));
}

#[tokio::test]
async fn channels_from_env_configure_only_what_is_set() {
    let provider = Receiver::answering([200]).await;
    let mut env = Env::from_pairs([
        ("NOTIFICATION_SMTP_URL", smtp_url()),
        ("NOTIFICATION_SMS_URL", provider.url()),
    ]);
    let config = ChannelsConfig::from_env(&mut env);
    let config = env.finish(config).expect("valid configuration");
    let channels = channels(config);
    assert_eq!(channels.kinds(), [ChannelKind::Email, ChannelKind::Sms]);
    assert!(
        channels.get(ChannelKind::Push).is_none(),
        "push not configured"
    );
    assert!(channels.get(ChannelKind::Whatsapp).is_none());
    assert_eq!(
        channels.get(ChannelKind::Sms).unwrap().provider(),
        "sms-http"
    );
}
