//! The benchmark, as an ignored test (it loads the shared stack for ~15 s): events
//! published at a fixed rate; for each, the time from publishing to the email accepted by SMTP
//! (the notification's `sent_at`, written when Mailpit answered) and to the inbox item pushed on
//! `notificationReceived`. Prints p50/p99.
//!
//! `cargo test -p tenor-notification --test it -- --ignored latency --nocapture`
//! (`NOTIFICATION_BENCH_RATE` events per second, default 20; `NOTIFICATION_BENCH_SECONDS`,
//! default 10).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tenor_notification::domain::ChannelKind;
use tenor_notification::store::NotificationStatus;
use tenor_notification::testing::*;

use crate::support::WsClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on purpose"]
async fn latency_from_event_to_smtp_and_inbox_push() {
    let rate: u64 = env_or("NOTIFICATION_BENCH_RATE", 20);
    let seconds: u64 = env_or("NOTIFICATION_BENCH_SECONDS", 10);
    let env = [("NOTIFICATION_USER_RATE_LIMIT", "100000")];
    let service = TestService::start_with(&env, None).await;
    let borrower = Borrower::new("Bench Borrower").channels(&["EMAIL"]);
    service.borrower(&borrower).await;
    let mut live = WsClient::connect(&service.base_url, &service.token(borrower.id, "")).await;
    live.subscribe_notifications("bench").await;

    let total = rate * seconds;
    let mut published: HashMap<String, (Instant, chrono::DateTime<chrono::Utc>)> = HashMap::new();
    let mut pushed: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    for i in 0..total {
        tick.tick().await;
        let at = (Instant::now(), chrono::Utc::now());
        let envelope = service
            .approve_loan(borrower.id, 1_000_000 + i as i64)
            .await;
        published.insert(envelope.id().to_string(), at);
        while let Some(message) = live.next_message(Duration::from_millis(1)).await {
            record_push(&message, &mut pushed);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while pushed.len() < published.len() && Instant::now() < deadline {
        if let Some(message) = live.next_message(Duration::from_secs(1)).await {
            record_push(&message, &mut pushed);
        }
    }
    let sent = service
        .notifications_when(borrower.id, |n| {
            n.len() as u64 == total && n.iter().all(|n| n.status == NotificationStatus::Sent)
        })
        .await;

    let mut smtp: Vec<f64> = sent
        .iter()
        .filter(|n| n.channel == ChannelKind::Email)
        .filter_map(|n| {
            let (_, at) = published.get(&n.event_id.to_string())?;
            Some((n.sent_at? - *at).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    let mut intake: Vec<f64> = sent
        .iter()
        .filter_map(|n| {
            let (_, at) = published.get(&n.event_id.to_string())?;
            Some((n.created_at - *at).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    println!(
        "  of which intake (published → stored) p50 {:.0} ms p99 {:.0} ms",
        percentile(&mut intake, 0.50),
        percentile(&mut intake, 0.99)
    );
    let mut push: Vec<f64> = pushed
        .iter()
        .filter_map(|(id, got)| {
            let (at, _) = published.get(id)?;
            Some(got.duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    println!(
        "notification latency at {rate}/s for {seconds}s ({total} events): \
         email accepted by SMTP p50 {:.0} ms p99 {:.0} ms ({} sent); \
         inbox push p50 {:.0} ms p99 {:.0} ms ({} pushed)",
        percentile(&mut smtp, 0.50),
        percentile(&mut smtp, 0.99),
        smtp.len(),
        percentile(&mut push, 0.50),
        percentile(&mut push, 0.99),
        push.len(),
    );
    assert_eq!(smtp.len() as u64, total, "every email sent");
    assert_eq!(push.len() as u64, total, "every item pushed");
}

fn record_push(message: &serde_json::Value, pushed: &mut HashMap<String, Instant>) {
    if message["type"] == "next"
        && let Some(id) = message["payload"]["data"]["notificationReceived"]["id"].as_str()
    {
        pushed.entry(id.to_owned()).or_insert_with(Instant::now);
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[index]
}

fn env_or(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
