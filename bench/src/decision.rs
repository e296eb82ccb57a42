//! Decision: from the borrower's `applyLoan` response to the decision pushed on their
//! `loanStatusChanged` subscription, with credit and risk deciding (no test producer): loan's
//! outbox relay → Kafka → risk (bureau, MongoDB outbox relay) → Kafka → credit (score, rules,
//! outbox relay) → Kafka → loan (apply, outbox relay) → live fan-out → router → WebSocket.
//!
//! Applications arrive at a fixed `--rate` for `--seconds` (open loop), one borrower each, every
//! borrower with a clean file at the simulated bureau (so each is approved automatically). Each
//! hop's latency comes from the events' own times (`time`, set when the event is written with
//! its change) and Kafka's timestamps (when a relay handed it to Kafka), all on this machine's
//! clock; the last hop ends when the push arrives.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use tenor_contracts::credit::CreditDecisionMadeV1;
use tenor_contracts::loan::{LoanStatus, LoanStatusChangedV1, LoanSubmittedV1};
use tenor_contracts::risk::RiskEvaluatedV1;
use tenor_events::testing::{Received, read_until};
use tenor_harness::deciders::bureau;
use tenor_harness::journeys::{APPLY, eligible_customer};
use tenor_harness::{RouterStack, set, yaml};
use uuid::Uuid;

use crate::live::{Changes, status_changes, subscribe, wait_until_loan_knows};
use crate::stats::{Summary, ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// Applications per second.
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Length of the fixed-rate phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Leave notification out of the stack (by default it runs, telling every borrower by email
    /// and inbox as in production, and takes its share of the machine).
    #[arg(long)]
    without_notification: bool,
}

const WATCH: &str = "subscription Watch { loanStatusChanged { status loan { id } } }";
/// The goal on the 2-core development machine (issue: credit scoring and risk engine).
const GOAL_P99: Duration = Duration::from_millis(300);

/// One application's clock readings.
struct Sample {
    loan: Uuid,
    applied: Instant,
    pushed: Instant,
    pushed_at: DateTime<Utc>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let n = (options.rate as u64 * options.seconds) as usize;
    println!(
        "decision benchmark — applyLoan at {}/s for {} s, credit and risk deciding; preparing {n} borrowers…",
        options.rate, options.seconds
    );
    // Every borrower comes from this one machine: lift the per-IP budget, keep the plugin.
    let adjust = |config: &mut tenor_harness::Yaml| {
        set(
            config,
            "plugins.tenor.config.rate_limit.config.per_ip",
            yaml(json!({ "capacity": 1_000_000, "refill_per_second": 1_000_000.0 })),
        );
    };
    let stack = if options.without_notification {
        RouterStack::start_deciding_without_notification_with(adjust).await
    } else {
        RouterStack::start_deciding_with(adjust).await
    };
    println!(
        "  notification {}",
        if options.without_notification {
            "left out (--without-notification)"
        } else {
            "running (emails and inbox items for every decision)"
        }
    );
    let borrowers = prepare(&stack, n).await?;
    // Preparing told every borrower their KYC result: let notification deliver that backlog
    // first, so the clock measures the steady state, not a queue left over from the set-up.
    if let Some(notification) = &stack.subgraphs.notification {
        notification.settle().await;
    }

    // One HTTP client, as the app holds one: building a client per request would tax the
    // machine the services share.
    let http = reqwest::Client::new();
    let started = Instant::now();
    let runs = crate::open_loop::paced(options.rate, borrowers, None, |(token, socket)| {
        one_application(http.clone(), stack.router.graphql_url(), token, socket)
    })
    .await;
    let mut samples = Vec::new();
    let mut errors = 0;
    for run in runs {
        match run {
            Ok(Ok(sample)) => samples.push(sample),
            Ok(Err(e)) => {
                errors += 1;
                eprintln!("  {e}");
            }
            Err(e) => {
                errors += 1;
                eprintln!("  {e}");
            }
        }
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(!samples.is_empty(), "no application was decided");

    let end_to_end = summarise(samples.iter().map(|s| s.pushed - s.applied).collect());
    let hops = hops(&stack, &samples).await;

    println!();
    println!(
        "applyLoan response → decision pushed   n={:<4} (errors {errors}, {:.1} applications/s achieved)",
        end_to_end.count,
        samples.len() as f64 / elapsed.as_secs_f64()
    );
    line("end to end", &end_to_end);
    println!("  per hop (event times and Kafka timestamps):");
    for (name, summary) in &hops {
        line(&format!("  {name}"), summary);
    }
    let hop_p50_sum: Duration = hops.iter().map(|(_, s)| s.p50).sum();
    println!(
        "ratios: end-to-end p99 / goal ({} ms) {:.2}; p99/p50 {:.2}; sum of hop p50s / end-to-end p50 {:.2}",
        GOAL_P99.as_millis(),
        end_to_end.p99.as_secs_f64() / GOAL_P99.as_secs_f64(),
        end_to_end.p99.as_secs_f64() / end_to_end.p50.as_secs_f64(),
        hop_p50_sum.as_secs_f64() / end_to_end.p50.as_secs_f64(),
    );
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

/// Borrowers with verified KYC that loan knows about, a clean bureau file, and a live
/// subscription each (opened before the clock starts, as a phone holds one).
async fn prepare(stack: &RouterStack, n: usize) -> anyhow::Result<Vec<(String, Changes)>> {
    let deciders = stack.subgraphs.deciders.as_ref().expect("a deciding stack");
    let mut borrowers = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let batch = futures::future::join_all(chunk.iter().map(|_| async {
            let (account, token) = eligible_customer(stack).await;
            deciders
                .bureau_file(account.user_id, &bureau::clean())
                .await;
            token
        }))
        .await;
        for token in batch {
            wait_until_loan_knows(stack, &token).await?;
            let socket = subscribe(stack, &token, WATCH).await?;
            borrowers.push((token, status_changes(socket)));
        }
    }
    Ok(borrowers)
}

async fn one_application(
    http: reqwest::Client,
    url: String,
    token: String,
    mut changes: Changes,
) -> anyhow::Result<Sample> {
    let response = tenor_harness::post_graphql_via(
        &http,
        &url,
        APPLY,
        json!({ "amount": 5_000_000, "tenor": 6, "key": Uuid::new_v4().to_string() }),
        Some(&token),
    )
    .await;
    let applied = Instant::now();
    let loan: Uuid = response["data"]["applyLoan"]["loan"]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("applyLoan failed: {response}"))?
        .parse()?;
    loop {
        let change = tokio::time::timeout(Duration::from_secs(60), changes.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no decision within 60 s"))?
            .ok_or_else(|| anyhow::anyhow!("the subscription ended"))?;
        if change.value["status"] != "SUBMITTED" {
            anyhow::ensure!(
                change.value["status"] == "APPROVED",
                "decided: {}",
                change.value
            );
            return Ok(Sample {
                loan,
                applied,
                pushed: change.at,
                pushed_at: change.at_utc,
            });
        }
    }
}

/// An event's own time and the moment its relay handed it to Kafka, per loan.
#[derive(Default, Clone, Copy)]
struct Stamps {
    written: Option<DateTime<Utc>>,
    in_kafka: Option<DateTime<Utc>>,
}

fn stamps(message: &Received) -> Stamps {
    Stamps {
        written: message.envelope.as_ref().and_then(|e| e.time()),
        in_kafka: message
            .timestamp_ms
            .and_then(DateTime::<Utc>::from_timestamp_millis),
    }
}

/// Reads each topic once and times every hop of every sampled loan.
async fn hops(stack: &RouterStack, samples: &[Sample]) -> Vec<(&'static str, Summary)> {
    let topics = &stack.subgraphs.topics;
    let wanted = samples.len();
    let read = |topic: String, count: fn(&[Received]) -> usize| async move {
        read_until(&topic, Duration::from_secs(20), |r| count(r) >= wanted).await
    };
    let loan_events = read(topics.loan.clone(), |r| {
        r.iter()
            .filter(|m| {
                m.envelope.as_ref().is_some_and(|e| {
                    e.decode::<LoanStatusChangedV1>()
                        .is_ok_and(|c| c.status == LoanStatus::Approved)
                })
            })
            .count()
    })
    .await;
    let risk_events = read(topics.risk.clone(), |r| r.len()).await;
    let credit_events = read(topics.credit.clone(), |r| r.len()).await;

    let mut submitted: HashMap<Uuid, Stamps> = HashMap::new();
    let mut approved: HashMap<Uuid, Stamps> = HashMap::new();
    for message in &loan_events {
        let Some(envelope) = &message.envelope else {
            continue;
        };
        if let Ok(event) = envelope.decode::<LoanSubmittedV1>() {
            submitted.insert(event.loan_id, stamps(message));
        } else if let Ok(change) = envelope.decode::<LoanStatusChangedV1>()
            && change.status == LoanStatus::Approved
        {
            approved.insert(change.loan_id, stamps(message));
        }
    }
    let by_loan = |messages: &[Received], loan_of: fn(&tenor_events::Envelope) -> Option<Uuid>| {
        messages
            .iter()
            .filter_map(|m| Some((loan_of(m.envelope.as_ref()?)?, stamps(m))))
            .collect::<HashMap<Uuid, Stamps>>()
    };
    let evaluated = by_loan(&risk_events, |e| {
        e.decode::<RiskEvaluatedV1>().ok().map(|r| r.loan_id)
    });
    let decided = by_loan(&credit_events, |e| {
        e.decode::<CreditDecisionMadeV1>().ok().map(|d| d.loan_id)
    });

    let between = |from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>| {
        Some((to? - from?).to_std().unwrap_or_default())
    };
    type Hop = fn(
        &Stamps,
        &Stamps,
        &Stamps,
        &Stamps,
        DateTime<Utc>,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let hops: [(&'static str, Hop); 8] = [
        ("loan outbox relay (loan.submitted)", |s, _, _, _, _| {
            (s.written, s.in_kafka)
        }),
        ("risk: consume, bureau, store", |s, r, _, _, _| {
            (s.in_kafka, r.written)
        }),
        ("risk MongoDB outbox relay", |_, r, _, _, _| {
            (r.written, r.in_kafka)
        }),
        ("credit: consume, score, decide", |_, r, d, _, _| {
            (r.in_kafka, d.written)
        }),
        ("credit outbox relay", |_, _, d, _, _| {
            (d.written, d.in_kafka)
        }),
        ("loan: consume decision, apply", |_, _, d, a, _| {
            (d.in_kafka, a.written)
        }),
        ("loan outbox relay (status changed)", |_, _, _, a, _| {
            (a.written, a.in_kafka)
        }),
        ("live fan-out, router, WebSocket", |_, _, _, a, pushed| {
            (a.in_kafka, Some(pushed))
        }),
    ];
    hops.iter()
        .filter_map(|(name, hop)| {
            let latencies: Vec<Duration> = samples
                .iter()
                .filter_map(|sample| {
                    let loan = sample.loan;
                    let (from, to) = hop(
                        submitted.get(&loan)?,
                        evaluated.get(&loan)?,
                        decided.get(&loan)?,
                        approved.get(&loan)?,
                        sample.pushed_at,
                    );
                    between(from, to)
                })
                .collect();
            (!latencies.is_empty()).then(|| (*name, summarise(latencies)))
        })
        .collect()
}
