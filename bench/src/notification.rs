//! Notification: from a `loan.approved.v1` event acknowledged by Kafka to what the borrower
//! gets — (a) the email accepted by SMTP (the notification's `sent_at`, written when Mailpit
//! answered) and (b) the inbox item pushed on the subgraph's `notificationReceived` WebSocket —
//! with intake (acknowledged → the consumer taking the event in: the notification's
//! `created_at`, read when intake starts building it, just before it is stored) beside them so
//! the hops show.
//!
//! The notification subgraph runs in this process on its own MongoDB database and topics
//! (`tenor_notification::testing::TestService`) against the stack's MongoDB, Redis, Kafka and
//! Mailpit. One borrower, reached by email only, with the per-borrower rate limit lifted; events
//! are published at a fixed `--rate` for `--seconds` (open loop: each publish is sent on schedule
//! whether or not earlier ones were acknowledged) by one warm producer. The clock starts when
//! Kafka acknowledged the publish; `sent_at` and `created_at` are read on this machine's clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tenor_notification::domain::ChannelKind;
use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::{Borrower, TestService};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use uuid::Uuid;

use crate::stats::{Summary, ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// `loan.approved.v1` events per second.
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Length of the fixed-rate phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

const WATCH: &str = "subscription Watch { notificationReceived { id } }";
/// How long after the last publish the pushes may still arrive.
const PUSH_GRACE: Duration = Duration::from_secs(30);

/// One event as Kafka acknowledged it.
struct Published {
    event: Uuid,
    acked: Instant,
    acked_at: DateTime<Utc>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    anyhow::ensure!(options.rate > 0, "--rate must be at least 1");
    let n = (u64::from(options.rate) * options.seconds) as usize;
    println!(
        "notification benchmark — loan.approved.v1 at {}/s for {} s ({n} events), one borrower, email to Mailpit; starting the service…",
        options.rate, options.seconds
    );
    // One borrower gets every event: lift the per-borrower budget, keep everything else.
    let service =
        TestService::start_with(&[("NOTIFICATION_USER_RATE_LIMIT", "1000000")], None).await;
    let borrower = Borrower::new("Bench Borrower").channels(&["EMAIL"]);
    service.borrower(&borrower).await;
    let mut pushes = watch(&service.base_url, &service.token(borrower.id, "")).await?;
    let service = Arc::new(service);

    let started = Instant::now();
    let (published, publish_errors) = publish_at_rate(&service, borrower.id, n, options.rate).await;
    let elapsed = started.elapsed();
    anyhow::ensure!(!published.is_empty(), "no event was published");

    let pushed = collect_pushes(&mut pushes, published.len()).await;
    let stored = service
        .notifications_when(borrower.id, |found| {
            found.len() >= published.len()
                && found
                    .iter()
                    .all(|n| n.status != NotificationStatus::Pending)
        })
        .await;

    let by_event: HashMap<Uuid, &Published> = published.iter().map(|p| (p.event, p)).collect();
    let since_ack = |event: Uuid, at: DateTime<Utc>| {
        let from = by_event.get(&event)?.acked_at;
        Some((at - from).to_std().unwrap_or_default())
    };
    let emails: Vec<_> = stored
        .iter()
        .filter(|n| n.channel == ChannelKind::Email)
        .collect();
    let intake: Vec<Duration> = emails
        .iter()
        .filter_map(|n| since_ack(n.event_id, n.created_at))
        .collect();
    let email: Vec<Duration> = emails
        .iter()
        .filter(|n| n.status == NotificationStatus::Sent)
        .filter_map(|n| since_ack(n.event_id, n.sent_at?))
        .collect();
    let push: Vec<Duration> = published
        .iter()
        .filter_map(|p| Some(pushed.get(&p.event)?.duration_since(p.acked)))
        .collect();

    let not_sent = published.len() - email.len();
    let not_pushed = published.len() - push.len();
    let errors = publish_errors + not_sent + not_pushed;
    println!();
    println!(
        "loan.approved.v1 acknowledged by Kafka → …   n={:<4} (errors {errors}: {publish_errors} publishes failed, {not_sent} emails not sent, {not_pushed} items not pushed; {:.1} events/s achieved)",
        published.len(),
        published.len() as f64 / elapsed.as_secs_f64()
    );
    let intake = summary(intake);
    let email = summary(email);
    let push = summary(push);
    line("intake: event taken in (created_at)", intake.as_ref());
    line("email accepted by SMTP (sent_at)", email.as_ref());
    line("inbox item pushed on WebSocket", push.as_ref());
    println!(
        "ratios: p99/p50 intake {}, email {}, push {}; email p50 / intake p50 {}",
        ratio(intake.as_ref().map(|s| (s.p99, s.p50))),
        ratio(email.as_ref().map(|s| (s.p99, s.p50))),
        ratio(push.as_ref().map(|s| (s.p99, s.p50))),
        ratio(
            email
                .as_ref()
                .zip(intake.as_ref())
                .map(|(e, i)| (e.p50, i.p50))
        ),
    );
    Ok(())
}

/// Publishes `n` approvals for `borrower`, one per tick, each in a task of its own; the
/// acknowledged ones and how many failed.
async fn publish_at_rate(
    service: &Arc<TestService>,
    borrower: Uuid,
    n: usize,
    rate: u32,
) -> (Vec<Published>, usize) {
    let publishes = crate::open_loop::paced(rate, 0..n, None, |i| {
        let service = Arc::clone(service);
        async move {
            let envelope = service.approve_loan(borrower, 1_000_000 + i as i64).await;
            Published {
                event: envelope.id(),
                acked: Instant::now(),
                acked_at: Utc::now(),
            }
        }
    })
    .await;
    let mut published = Vec::with_capacity(n);
    let mut errors = 0;
    for publish in publishes {
        match publish {
            Ok(p) => published.push(p),
            // `TestService::publish` panics when Kafka refuses; the task's error says why.
            Err(e) => {
                errors += 1;
                eprintln!("  publishing: {e}");
            }
        }
    }
    (published, errors)
}

/// A graphql-transport-ws connection to the service running [`WATCH`] for `token`, read from
/// now on in a task of its own (so each push is timed when it arrives, not when the benchmark
/// gets round to it); hands over each pushed item id with its arrival time.
async fn watch(base_url: &str, token: &str) -> anyhow::Result<UnboundedReceiver<(Uuid, Instant)>> {
    let url = format!("{}/graphql", base_url.replacen("http", "ws", 1));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await?;
    let ack = tokio::time::timeout(Duration::from_secs(5), socket.next()).await;
    anyhow::ensure!(
        matches!(&ack, Ok(Some(Ok(Message::Text(text)))) if text.contains("connection_ack")),
        "no connection_ack: {ack:?}"
    );
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": WATCH } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await?;
    // The subscription is registered once the server has read the message; give it a moment
    // before the clock starts.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (sender, pushes) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            let at = Instant::now();
            let Message::Text(text) = frame else { continue };
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            match message["type"].as_str() {
                Some("next") => {
                    let id = message["payload"]["data"]["notificationReceived"]["id"]
                        .as_str()
                        .and_then(|id| id.parse().ok());
                    if let Some(id) = id
                        && sender.send((id, at)).is_err()
                    {
                        return;
                    }
                }
                Some("ping") => {
                    let pong = json!({ "type": "pong" }).to_string();
                    let _ = socket.send(Message::Text(pong.into())).await;
                }
                Some("error" | "complete") => {
                    eprintln!("  the subscription ended: {message}");
                    return;
                }
                _ => {}
            }
        }
    });
    Ok(pushes)
}

/// The first arrival of each pushed item, once `expected` have arrived or [`PUSH_GRACE`] passed.
async fn collect_pushes(
    pushes: &mut UnboundedReceiver<(Uuid, Instant)>,
    expected: usize,
) -> HashMap<Uuid, Instant> {
    let deadline = tokio::time::Instant::now() + PUSH_GRACE;
    let mut pushed = HashMap::new();
    while pushed.len() < expected {
        match tokio::time::timeout_at(deadline, pushes.recv()).await {
            Ok(Some((id, at))) => {
                pushed.entry(id).or_insert(at);
            }
            Ok(None) | Err(_) => break,
        }
    }
    pushed
}

fn summary(samples: Vec<Duration>) -> Option<Summary> {
    (!samples.is_empty()).then(|| summarise(samples))
}

fn line(name: &str, s: Option<&Summary>) {
    match s {
        Some(s) => println!(
            "{name:<44} n={:<4} p50 {:>9}   p95 {:>9}   p99 {:>9}   max {:>9}",
            s.count,
            ms(s.p50),
            ms(s.p95),
            ms(s.p99),
            ms(s.max)
        ),
        None => println!("{name:<44} n=0"),
    }
}

fn ratio(pair: Option<(Duration, Duration)>) -> String {
    match pair {
        Some((a, b)) if !b.is_zero() => format!("{:.2}", a.as_secs_f64() / b.as_secs_f64()),
        _ => "n/a".to_owned(),
    }
}
