//! Loan: how long from a credit decision to the borrower's phone, and what an application costs
//! at a steady rate — both through the router, as the app sees them.
//!
//! 1. decision → `next`: `--decisions` borrowers each hold a `loanStatusChanged` WebSocket
//!    subscription through the router; for each, a `credit.decision.made` event is published to
//!    Kafka and the time until the APPROVED `next` frame arrives is recorded (consumer, database
//!    transaction, outbox relay, Kafka, live consumer, fan-out, router, entity fields).
//! 2. `applyLoan` at `--rate` requests/s for `--seconds` (open loop: requests are sent on
//!    schedule whether or not earlier ones finished), each from a different eligible borrower
//!    (one open loan per person), through the router; then every `loan.submitted` event is read
//!    back from Kafka and its outbox relay lag (event time → Kafka timestamp) summarised.
//!
//! Borrowers are prepared first through the router (account, KYC verified by the simulated
//! vendor, eligibility projected into loan). Needs the local stack (`./dev infra`) and release
//! router binaries: `cargo build --release -p tenor-router --bins`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde_json::{Value, json};
use tenor_contracts::loan::LoanSubmittedV1;
use tenor_events::testing::{Received, read_until};
use tenor_harness::journeys::{fresh_nik, verified_customer};
use tenor_harness::{Account, RouterStack, set, yaml};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::live::{Socket, publish_approval, subscribe, wait_until_loan_knows};
use crate::stats::{ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// Decisions timed end to end (one borrower each).
    #[arg(long, default_value_t = 30)]
    decisions: usize,
    /// applyLoan requests per second in the fixed-rate phase.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Length of the fixed-rate phase.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

pub const APPLY: &str = "mutation ApplyLoan($key: String!) { applyLoan(amount: 5000000, tenorMonths: 6, purpose: \"Modal usaha\", idempotencyKey: $key) { loan { id } userErrors { code } } }";
const WATCH: &str =
    "subscription Watch { loanStatusChanged { status loan { id user { fullname } } } }";

pub async fn run(options: Options) -> anyhow::Result<()> {
    let borrowers_needed = options.decisions + (options.rate as u64 * options.seconds) as usize;
    println!(
        "loan benchmark — {} decisions timed; applyLoan at {}/s for {} s; preparing {borrowers_needed} borrowers…",
        options.decisions, options.rate, options.seconds
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
    let borrowers = prepare(&stack, borrowers_needed).await?;
    let (timed, applying) = borrowers.split_at(options.decisions);

    let latencies = decision_latencies(&stack, timed).await?;
    let decision = summarise(latencies);
    let (applied, errors, elapsed) = fixed_rate(&stack, applying, options.rate).await;
    let achieved = applied.len() as f64 / elapsed.as_secs_f64();
    let relayed = relay_lags(&stack, applied.len()).await;
    let apply = summarise(applied);
    let relay = summarise(relayed);

    println!();
    println!(
        "decision event → WebSocket next   n={:<5} p50 {:>9}   p99 {:>9}   max {:>9}",
        decision.count,
        ms(decision.p50),
        ms(decision.p99),
        ms(decision.max)
    );
    println!(
        "applyLoan at {:>3}/s (got {:>5.1}/s)  n={:<5} p50 {:>9}   p99 {:>9}   max {:>9}   errors {errors}",
        options.rate,
        achieved,
        apply.count,
        ms(apply.p50),
        ms(apply.p99),
        ms(apply.max)
    );
    println!(
        "loan.submitted: written → in Kafka (outbox relay lag)  n={:<5} p50 {:>9}   p99 {:>9}   max {:>9}",
        relay.count,
        ms(relay.p50),
        ms(relay.p99),
        ms(relay.max)
    );
    println!(
        "goals: decision p99 {} ≤ 20 ms (reference 45.8 ms); applyLoan p99 {} ≤ 50 ms at 200/s with 0 errors (got {errors} errors at {achieved:.1}/s)",
        ms(decision.p99),
        ms(apply.p99)
    );
    println!(
        "ratios: decision p99/p50 {:.2}, applyLoan p99/p50 {:.2}, applyLoan p50 / decision p50 {:.2}",
        decision.p99.as_secs_f64() / decision.p50.as_secs_f64(),
        apply.p99.as_secs_f64() / apply.p50.as_secs_f64(),
        apply.p50.as_secs_f64() / decision.p50.as_secs_f64(),
    );
    Ok(())
}

pub struct Borrower {
    pub account: Account,
    pub token: String,
}

/// Accounts with verified KYC, eligible in loan (a refused probe tells: tenor 0 is refused by
/// its own rule only once KYC is known).
pub async fn prepare(stack: &RouterStack, n: usize) -> anyhow::Result<Vec<Borrower>> {
    let mut borrowers = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
        let batch = futures::future::join_all(chunk.iter().map(|_| async {
            let (account, token) = verified_customer(stack, &fresh_nik()).await;
            Borrower { account, token }
        }))
        .await;
        borrowers.extend(batch);
    }
    for borrower in &borrowers {
        wait_until_loan_knows(stack, &borrower.token).await?;
    }
    Ok(borrowers)
}

async fn decision_latencies(
    stack: &RouterStack,
    borrowers: &[Borrower],
) -> anyhow::Result<Vec<Duration>> {
    // One producer, connected before the clock starts: what credit would hold.
    let producer = crate::live::connected_producer(&stack.subgraphs.topics.credit).await?;
    let mut samples = Vec::with_capacity(borrowers.len());
    for borrower in borrowers {
        let mut socket = subscribe(stack, &borrower.token, WATCH).await?;
        let applied = stack
            .gql(
                APPLY,
                json!({ "key": Uuid::new_v4().to_string() }),
                Some(&borrower.token),
            )
            .await;
        let loan_id: Uuid = applied["data"]["applyLoan"]["loan"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("applyLoan failed: {applied}"))?
            .parse()?;
        expect_status(&mut socket, "SUBMITTED").await?;
        let started = Instant::now();
        publish_approval(&producer, stack, borrower.account.user_id, loan_id).await?;
        expect_status(&mut socket, "APPROVED").await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// For every `loan.submitted` on the stack's loan topic (the fixed-rate applications and the
/// timed ones): from the event's own time (written with the loan, in its transaction) to Kafka's
/// timestamp (when the relay handed it over).
async fn relay_lags(stack: &RouterStack, at_least: usize) -> Vec<Duration> {
    let submitted = |m: &Received| {
        m.envelope
            .as_ref()
            .is_some_and(|e| e.decode::<LoanSubmittedV1>().is_ok())
    };
    let messages = read_until(&stack.subgraphs.topics.loan, Duration::from_secs(20), |r| {
        r.iter().filter(|m| submitted(m)).count() >= at_least
    })
    .await;
    messages
        .iter()
        .filter(|m| submitted(m))
        .filter_map(|m| {
            let written = m.envelope.as_ref()?.time()?;
            let in_kafka = DateTime::<Utc>::from_timestamp_millis(m.timestamp_ms?)?;
            Some((in_kafka - written).to_std().unwrap_or_default())
        })
        .collect()
}

async fn expect_status(socket: &mut Socket, status: &str) -> anyhow::Result<()> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("no {status} within 30 s"))?;
        let Some(Ok(Message::Text(text))) = frame else {
            anyhow::bail!("the subscription ended: {frame:?}");
        };
        let message: Value = serde_json::from_str(&text)?;
        if message["type"] == "next" {
            let change = &message["payload"]["data"]["loanStatusChanged"];
            anyhow::ensure!(change["status"] == status, "expected {status}: {message}");
            return Ok(());
        }
    }
}

/// Sends one application per tick from the next borrower; returns latencies, the error count
/// and the wall time.
async fn fixed_rate(
    stack: &RouterStack,
    borrowers: &[Borrower],
    rate: u32,
) -> (Vec<Duration>, usize, Duration) {
    // One HTTP client, as the app holds one: building a client per request (its TLS
    // configuration) would tax the machine the router and loan share with this generator.
    let http = reqwest::Client::new();
    let started = Instant::now();
    let requests = crate::open_loop::paced(rate, borrowers, None, |borrower| {
        let url = stack.router.graphql_url();
        let token = borrower.token.clone();
        let http = http.clone();
        async move {
            let sent = Instant::now();
            let response = tenor_harness::post_graphql_via(
                &http,
                &url,
                APPLY,
                json!({ "key": Uuid::new_v4().to_string() }),
                Some(&token),
            )
            .await;
            let ok = !response["data"]["applyLoan"]["loan"].is_null();
            (sent.elapsed(), ok)
        }
    })
    .await;
    let mut latencies = Vec::new();
    let mut errors = 0;
    for request in requests {
        match request {
            Ok((latency, true)) => latencies.push(latency),
            _ => errors += 1,
        }
    }
    (latencies, errors, started.elapsed())
}
