//! Hops: where the time goes between a credit decision and the borrower's WebSocket `next`.
//!
//! Like the first phase of `tenor-bench loan` (one decision at a time, each borrower holding a
//! `loanStatusChanged` subscription through the router), but every decision is also watched on
//! a second subscription straight to the loan subgraph, and split at the clocks the events
//! carry (all on this machine):
//!
//! 1. sent → acknowledged: the decision's producer (what credit's relay pays too);
//! 2. sent → change written: Kafka → loan's consumer → inbox transaction, up to the moment the
//!    `loan.status.changed` event is made (its CloudEvents `time`);
//! 3. written → handed to Kafka: the rest of the transaction, COMMIT, the NOTIFY waking loan's
//!    outbox relay, its round (lock, read) — until it calls the producer (the Kafka
//!    timestamp, which librdkafka sets at that call);
//! 4. handed to Kafka → loan subgraph's `next`: the producer's send, Kafka, the replica's live
//!    consumer, the broadcast, the subscription resolving the loan;
//! 5. loan subgraph's `next` → router's `next`: the router's subscription and its entity fetch
//!    (`user { fullname }` from user), the client's WebSocket.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::producer::FutureRecord;
use serde_json::json;
use tenor_contracts::loan::{LoanStatus, LoanStatusChangedV1};
use tenor_events::Envelope;
use tenor_events::testing::read_until;
use tenor_harness::journeys::{APPLY, eligible_customer};
use tenor_harness::{RouterStack, set, yaml};
use uuid::Uuid;

use crate::live::{Change, Changes, status_changes, subscribe, wait_until_loan_knows};
use crate::stats::{Summary, ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// Decisions timed, one at a time (one borrower each).
    #[arg(long, default_value_t = 30)]
    decisions: usize,
    /// Wait this long between SUBMITTED arriving and publishing the decision (0, as `tenor-bench
    /// loan` does; credit takes longer than 40 ms in production, so a phone's socket is idle by
    /// then — see docs/events.md § Nagle on the subgraphs' sockets).
    #[arg(long, default_value_t = 0)]
    pause_ms: u64,
}

const WATCH: &str =
    "subscription Watch { loanStatusChanged { status loan { id user { fullname } } } }";
/// What the loan subgraph itself can answer (the user's name is the user subgraph's).
const WATCH_LOAN: &str = "subscription Watch { loanStatusChanged { status loan { id } } }";
/// issue 15's goal and the reference measured before it.
const GOAL_P99: Duration = Duration::from_millis(20);
const REFERENCE_P99: Duration = Duration::from_micros(45_800);

/// One decision's clock readings.
struct Sample {
    loan: Uuid,
    sent: Instant,
    sent_at: DateTime<Utc>,
    acked: Instant,
    at_loan: DateTime<Utc>,
    at_router: Instant,
    at_router_utc: DateTime<Utc>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    println!(
        "hops benchmark — {} decisions, one at a time, each watched through the router and on the loan subgraph",
        options.decisions
    );
    let stack = RouterStack::start_with(|config| {
        // Every borrower comes from this one machine: lift the per-IP budget, keep the plugin.
        set(
            config,
            "plugins.tenor.config.rate_limit.config.per_ip",
            yaml(json!({ "capacity": 1_000_000, "refill_per_second": 1_000_000.0 })),
        );
    })
    .await;
    // One producer, connected before the clock starts: what credit's relay holds.
    let producer = crate::live::connected_producer(&stack.subgraphs.topics.credit).await?;
    let observed = observe(&stack.subgraphs.topics.loan).await?;
    let mut samples = Vec::with_capacity(options.decisions);
    for _ in 0..options.decisions {
        samples
            .push(one_decision(&stack, &producer, Duration::from_millis(options.pause_ms)).await?);
    }
    let seen = |s: &Sample| observed.lock().unwrap().get(&s.loan).copied();

    let approved = approved_events(&stack, samples.len()).await;
    let hop = |from: &dyn Fn(&Sample) -> Option<DateTime<Utc>>,
               to: &dyn Fn(&Sample) -> Option<DateTime<Utc>>| {
        summarise(
            samples
                .iter()
                .filter_map(|s| (to(s)? - from(s)?).to_std().ok())
                .collect(),
        )
    };
    let written = |s: &Sample| approved.iter().find(|a| a.0 == s.loan).map(|a| a.1);
    let in_kafka = |s: &Sample| approved.iter().find(|a| a.0 == s.loan).map(|a| a.2);
    let end_to_end = summarise(samples.iter().map(|s| s.at_router - s.sent).collect());

    println!();
    line("decision event → WebSocket next (router)", &end_to_end);
    println!("  per hop:");
    line(
        "  1 decision producer: send → acknowledged",
        &summarise(samples.iter().map(|s| s.acked - s.sent).collect()),
    );
    line(
        "  2 Kafka → loan consumer → change written",
        &hop(&|s| Some(s.sent_at), &written),
    );
    line(
        "  3 commit, NOTIFY, relay round → to Kafka",
        &hop(&written, &in_kafka),
    );
    line(
        "  4 Kafka → live hub → loan subgraph next",
        &hop(&in_kafka, &|s| Some(s.at_loan)),
    );
    line(
        "    4a relay's send → a bare consumer has it",
        &hop(&in_kafka, &seen),
    );
    line(
        "    4b bare consumer has it → loan next",
        &hop(&seen, &|s| Some(s.at_loan)),
    );
    line(
        "  5 loan subgraph next → router next",
        &hop(&|s| Some(s.at_loan), &|s| Some(s.at_router_utc)),
    );
    println!(
        "goal: p99 ≤ {} (reference {}): p99 {} — {}",
        ms(GOAL_P99),
        ms(REFERENCE_P99),
        ms(end_to_end.p99),
        if end_to_end.p99 <= GOAL_P99 {
            "met"
        } else {
            "missed"
        }
    );
    println!("(Kafka timestamps have millisecond resolution: a hop's figures are ±1 ms.)");
    Ok(())
}

fn line(name: &str, s: &Summary) {
    println!(
        "{name:<44} p50 {:>9}   p95 {:>9}   p99 {:>9}   max {:>9}",
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        ms(s.max)
    );
}

/// A borrower with a SUBMITTED loan watched on both subscriptions, then its decision, timed.
async fn one_decision(
    stack: &RouterStack,
    producer: &rdkafka::producer::FutureProducer,
    pause: Duration,
) -> anyhow::Result<Sample> {
    let (account, token) = eligible_customer(stack).await;
    wait_until_loan_knows(stack, &token).await?;
    let mut through_router = status_changes(subscribe(stack, &token, WATCH).await?);
    let mut on_loan = status_changes(subscribe_to_loan(stack, &token).await?);
    let loan = apply(stack, &token).await?;
    wait_for(&mut through_router, "SUBMITTED").await?;
    wait_for(&mut on_loan, "SUBMITTED").await?;
    tokio::time::sleep(pause).await;

    let envelope = crate::live::approval(account.user_id, loan)?;
    let payload = envelope.to_bytes();
    let key = loan.to_string();
    let (sent, sent_at) = (Instant::now(), Utc::now());
    producer
        .send(
            FutureRecord::to(&stack.subgraphs.topics.credit)
                .key(&key)
                .payload(&payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| anyhow::anyhow!("publishing the decision: {e}"))?;
    let acked = Instant::now();
    let at_router = wait_for(&mut through_router, "APPROVED").await?;
    let at_loan = wait_for(&mut on_loan, "APPROVED").await?;
    Ok(Sample {
        loan,
        sent,
        sent_at,
        acked,
        at_loan: at_loan.at_utc,
        at_router: at_router.at,
        at_router_utc: at_router.at_utc,
    })
}

/// A graphql-transport-ws subscription straight to the loan subgraph (which verifies the token
/// itself, from `connection_init`).
async fn subscribe_to_loan(
    stack: &RouterStack,
    token: &str,
) -> anyhow::Result<crate::live::Socket> {
    let url = format!(
        "{}/graphql",
        stack.subgraphs.loan_url.replacen("http", "ws", 1)
    );
    crate::live::subscribe_at(&url, token, WATCH_LOAN).await
}

async fn wait_for(changes: &mut Changes, status: &str) -> anyhow::Result<Change> {
    loop {
        let change = tokio::time::timeout(Duration::from_secs(30), changes.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no {status} within 30 s"))?
            .ok_or_else(|| anyhow::anyhow!("the subscription ended"))?;
        if change.value["status"] == status {
            return Ok(change);
        }
        anyhow::ensure!(
            change.value["status"] == "SUBMITTED",
            "expected {status}: {}",
            change.value
        );
    }
}

/// Each APPROVED change on loan's topic: (loan, the event's own time, its Kafka timestamp).
async fn approved_events(
    stack: &RouterStack,
    wanted: usize,
) -> Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> {
    let approved = |message: &tenor_events::testing::Received| {
        let envelope = message.envelope.as_ref()?;
        let change = envelope.decode::<LoanStatusChangedV1>().ok()?;
        (change.status == LoanStatus::Approved).then_some((
            change.loan_id,
            envelope.time()?,
            DateTime::<Utc>::from_timestamp_millis(message.timestamp_ms?)?,
        ))
    };
    read_until(&stack.subgraphs.topics.loan, Duration::from_secs(20), |r| {
        r.iter().filter_map(approved).count() >= wanted
    })
    .await
    .iter()
    .filter_map(approved)
    .collect()
}

/// `applyLoan` through the router, tried again while loan has not yet heard of the borrower's
/// verified KYC (its consumer may still be catching up); the loan's id.
pub async fn apply(stack: &RouterStack, token: &str) -> anyhow::Result<Uuid> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let applied = stack
            .gql(
                APPLY,
                json!({ "amount": 5_000_000, "tenor": 6, "key": Uuid::new_v4().to_string() }),
                Some(token),
            )
            .await;
        if let Some(id) = applied["data"]["applyLoan"]["loan"]["id"].as_str() {
            return Ok(id.parse()?);
        }
        anyhow::ensure!(
            applied.to_string().contains("KYC_NOT_VERIFIED") && Instant::now() < deadline,
            "applyLoan failed: {applied}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// When each APPROVED change on `topic` reached a consumer of the bench's own (the live hub's
/// settings, none of its work): splits hop 4 into Kafka and what loan does after.
async fn observe(
    topic: &str,
) -> anyhow::Result<std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Uuid, DateTime<Utc>>>>>
{
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Message;
    let consumer: StreamConsumer =
        tenor_events::kafka::client_config(&tenor_events::testing::kafka_config())
            .set("group.id", format!("bench-hops-{}", Uuid::new_v4()))
            .set("auto.offset.reset", "latest")
            .set("enable.auto.commit", "false")
            .create()?;
    consumer.subscribe(&[topic])?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while consumer.assignment().map(|a| a.count()).unwrap_or(0) == 0 {
        anyhow::ensure!(Instant::now() < deadline, "the observer got no partition");
        // Polling serves the group join.
        let _ = tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await;
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok(message) = consumer.recv().await {
            let at = Utc::now();
            let Ok(envelope) = Envelope::from_slice(message.payload().unwrap_or_default()) else {
                continue;
            };
            if let Ok(change) = envelope.decode::<LoanStatusChangedV1>()
                && change.status == LoanStatus::Approved
            {
                record.lock().unwrap().insert(change.loan_id, at);
            }
        }
    });
    Ok(seen)
}
