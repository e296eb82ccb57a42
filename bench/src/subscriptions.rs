//! Subscriptions: how many live `loanStatusChanged` subscriptions one router and one loan replica
//! hold, what each costs in resident memory, and how fast a status change reaches them while
//! they are all open.
//!
//! 1. `--borrowers` eligible borrowers each apply for a loan (SUBMITTED), through the router.
//! 2. `--subscriptions` WebSockets are opened through the router (`--opening` at a time), spread
//!    evenly over the borrowers, each running the app's `WatchLoanStatus`; a socket counts as
//!    open once its first message (the loan's current status, `snapshot: true`) arrived. The
//!    router and a loan replica run as their own processes, so their resident memory (VmRSS)
//!    before and after is theirs alone.
//! 3. `--single` borrowers' loans are approved one at a time (credit's decision published to
//!    Kafka); each push to each of their sockets is timed from the publish.
//! 4. The other borrowers' loans are approved at once (a burst); each push is timed from the
//!    start of the burst.
//! 5. The same borrowers' status changes are published again straight to `loan.events` (as
//!    loan's outbox relay would), timed the same way: the fan-out alone, without loan's
//!    consumer applying the decisions.
//! 6. Every socket must still be open at the end.
//!
//! Needs the local stack (`./dev infra`) and release binaries:
//! `cargo build --release -p tenor-router -p tenor-loan --bins`. Raises its own open-file limit
//! (the router and loan processes inherit it).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::{Value, json};
use tenor_harness::{Router, RouterStack, Subgraphs, free_port, set, yaml};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::live::{publish_approval, subscribe, wait_until_loan_knows};
use crate::loan::{APPLY, Borrower};
use crate::process::rss_kib;
use crate::stats::{ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// Live subscriptions held at once (one WebSocket each).
    #[arg(long, default_value_t = 15_000)]
    subscriptions: usize,
    /// Borrowers the subscriptions are spread over; each gets one status change.
    #[arg(long, default_value_t = 1_000)]
    borrowers: usize,
    /// Status changes timed one at a time (the rest go out as one burst).
    #[arg(long, default_value_t = 20)]
    single: usize,
    /// WebSockets being opened at the same time.
    #[arg(long, default_value_t = 200)]
    opening: usize,
}

/// The app's subscription (schema/operations/WatchLoanStatus.graphql).
const WATCH: &str = include_str!("../../schema/operations/WatchLoanStatus.graphql");

const GOAL_SUBSCRIPTIONS: usize = 15_000;
const GOAL_KIB_PER_SUBSCRIPTION: f64 = 25.0;
const GOAL_SINGLE_P99: Duration = Duration::from_millis(100);
const GOAL_BURST_P99: Duration = Duration::from_secs(1);

pub async fn run(options: Options) -> anyhow::Result<()> {
    anyhow::ensure!(
        options.single < options.borrowers,
        "--single must leave borrowers for the burst"
    );
    let open_files = raise_open_file_limit()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "subscriptions benchmark — {cores} cores, open files {open_files} per process; {} subscriptions over {} borrowers; {} single changes, a burst of {}",
        options.subscriptions,
        options.borrowers,
        options.single,
        options.borrowers - options.single
    );

    let subgraphs = Subgraphs::start().await;
    let replica = subgraphs.loan_replica().await;
    let mut config = subgraphs.router_config(free_port());
    lift_limits(&mut config, &options);
    set(
        &mut config,
        "override_subgraph_urls.subgraphs.loan.url",
        yaml(json!(replica.graphql_url())),
    );
    let router = Router::start(&config).await;
    let stack = RouterStack { subgraphs, router };

    let prepared = Instant::now();
    let borrowers = crate::loan::prepare(&stack, options.borrowers).await?;
    let loans = apply_all(&stack, &borrowers).await?;
    println!(
        "prepared {} borrowers with a SUBMITTED loan in {:.1} s",
        borrowers.len(),
        prepared.elapsed().as_secs_f64()
    );

    let router_pid = stack.router.pid().expect("router running");
    let loan_pid = replica.pid().expect("loan replica running");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = (rss_kib(router_pid)?, rss_kib(loan_pid)?);

    let (pushes_tx, mut pushes) = mpsc::unbounded_channel::<Push>();
    let closed = Arc::new(AtomicUsize::new(0));
    let opening = Instant::now();
    let opened = open_all(&stack, &borrowers, &options, &pushes_tx, &closed).await;
    let opened_in = opening.elapsed();
    let failed = options.subscriptions - opened;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = (rss_kib(router_pid)?, rss_kib(loan_pid)?);
    let per = |(b, a): (u64, u64)| (a.saturating_sub(b)) as f64 / opened.max(1) as f64;
    let router_kib = per((before.0, after.0));
    let loan_kib = per((before.1, after.1));

    // Connected before the clock starts, as credit's relay is.
    let producer = crate::live::connected_producer(&stack.subgraphs.topics.credit).await?;
    let sockets_of = |i: usize| sockets_for(i, options.borrowers, opened);

    // One change at a time, everyone connected.
    let mut single = Vec::new();
    // Which change was the slowest (its index and time): a slow first one is a cold path.
    let mut slowest = (0, Duration::ZERO, Duration::ZERO);
    for (i, (borrower, loan)) in borrowers
        .iter()
        .zip(&loans)
        .enumerate()
        .take(options.single)
    {
        let published = Instant::now();
        publish_approval(&producer, &stack, borrower.account.user_id, *loan).await?;
        let acked = published.elapsed();
        for push in receive(&mut pushes, sockets_of(i), Duration::from_secs(30)).await {
            let took = push.at - published;
            if took > slowest.1 {
                slowest = (i, took, acked);
            }
            single.push(took);
        }
    }

    // The burst: every other loan approved at once.
    let burst_started = Instant::now();
    let publishes = borrowers
        .iter()
        .zip(&loans)
        .skip(options.single)
        .map(|(borrower, loan)| {
            publish_approval(&producer, &stack, borrower.account.user_id, *loan)
        });
    for published in futures::future::join_all(publishes).await {
        published?;
    }
    let published_in = burst_started.elapsed();
    let expected: usize = (options.single..options.borrowers).map(sockets_of).sum();
    let burst: Vec<Duration> = receive(&mut pushes, expected, Duration::from_secs(60))
        .await
        .into_iter()
        .map(|push| push.at - burst_started)
        .collect();
    let burst_missing = expected - burst.len();

    // The same borrowers' changes once more, published straight to `loan.events` as loan's relay
    // would: the fan-out alone (live hub, subscription resolvers, router). The burst above also
    // waits behind loan's consumer applying the decisions one transaction at a time.
    let fan_out_started = Instant::now();
    let publishes = borrowers
        .iter()
        .zip(&loans)
        .skip(options.single)
        .map(|(borrower, loan)| {
            crate::live::publish_status_change(&producer, &stack, borrower.account.user_id, *loan)
        });
    for published in futures::future::join_all(publishes).await {
        published?;
    }
    let fan_out: Vec<Duration> = receive(&mut pushes, expected, Duration::from_secs(60))
        .await
        .into_iter()
        .map(|push| push.at - fan_out_started)
        .collect();
    let fan_out_missing = expected - fan_out.len();
    let single_missing: usize = (0..options.single).map(sockets_of).sum::<usize>() - single.len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still_open = opened - closed.load(Ordering::SeqCst);

    let single = summarise(single);
    let burst = summarise(burst);
    let fan_out = summarise(fan_out);
    println!();
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        "", "measured", "goal", "reference"
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        "subscriptions open (and still open at end)",
        format!("{opened} ({still_open})"),
        GOAL_SUBSCRIPTIONS,
        "9000"
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        "time to open them",
        format!("{:.1} s", opened_in.as_secs_f64()),
        "",
        "6.8 s"
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        "memory per subscription: router",
        format!("{router_kib:.1} KiB"),
        "",
        "33.4 KiB"
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        "memory per subscription: loan replica",
        format!("{loan_kib:.1} KiB"),
        "",
        "13.4 KiB"
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        "memory per subscription: together",
        format!("{:.1} KiB", router_kib + loan_kib),
        format!("≤ {GOAL_KIB_PER_SUBSCRIPTION} KiB"),
        "46.8 KiB"
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        format!("one change → its sockets, p99 (n={})", single.count),
        ms(single.p99),
        format!("≤ {}", ms(GOAL_SINGLE_P99)),
        ""
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        format!(
            "burst of {} changes, p99 (n={})",
            options.borrowers - options.single,
            burst.count
        ),
        ms(burst.p99),
        format!("≤ {}", ms(GOAL_BURST_P99)),
        ""
    );
    println!(
        "{:<44} {:>12} {:>12} {:>12}",
        format!("  the same, fan-out alone, p99 (n={})", fan_out.count),
        ms(fan_out.p99),
        format!("≤ {}", ms(GOAL_BURST_P99)),
        ""
    );
    println!(
        "single p50 {} max {} (change #{} of {}, its decision acked by Kafka in {}); burst p50 {} max {} (published in {}); refused or failed opens {failed}; pushes missing: single {single_missing}, burst {burst_missing}, fan-out alone {fan_out_missing}",
        ms(single.p50),
        ms(single.max),
        slowest.0 + 1,
        options.single,
        ms(slowest.2),
        ms(burst.p50),
        ms(burst.max),
        ms(published_in)
    );
    println!(
        "resident memory before → after: router {} → {} KiB, loan replica {} → {} KiB",
        before.0, after.0, before.1, after.1
    );
    println!(
        "ratios: router+loan KiB per subscription / goal {:.2}; single p99 / goal {:.2}; burst p99 / goal {:.2} (fan-out alone {:.2})",
        (router_kib + loan_kib) / GOAL_KIB_PER_SUBSCRIPTION,
        single.p99.as_secs_f64() / GOAL_SINGLE_P99.as_secs_f64(),
        burst.p99.as_secs_f64() / GOAL_BURST_P99.as_secs_f64(),
        fan_out.p99.as_secs_f64() / GOAL_BURST_P99.as_secs_f64()
    );
    drop(replica);
    Ok(())
}

/// Everything that would refuse a benchmark's many sockets from one machine and one IP is lifted;
/// every plugin still runs.
fn lift_limits(config: &mut tenor_harness::Yaml, options: &Options) {
    for bucket in ["per_ip", "per_user"] {
        set(
            config,
            &format!("plugins.tenor.config.rate_limit.config.{bucket}"),
            yaml(json!({ "capacity": 10_000_000, "refill_per_second": 10_000_000.0 })),
        );
    }
    if config["plugins"]["tenor"]["config"]["live_caps"].is_mapping() {
        set(
            config,
            "plugins.tenor.config.live_caps.config.max_connections",
            yaml(json!(options.subscriptions + 100)),
        );
        set(
            config,
            "plugins.tenor.config.live_caps.config.max_connections_per_user",
            yaml(json!(options.subscriptions.div_ceil(options.borrowers) + 1)),
        );
    }
}

/// Socket `k` belongs to borrower `k % borrowers`: how many of `opened` sockets borrower `i` has.
fn sockets_for(i: usize, borrowers: usize, opened: usize) -> usize {
    opened / borrowers + usize::from(i < opened % borrowers)
}

/// One APPROVED push and when it arrived.
struct Push {
    at: Instant,
}

/// Each borrower applies once (loan knows them as eligible first); their loans' ids.
async fn apply_all(stack: &RouterStack, borrowers: &[Borrower]) -> anyhow::Result<Vec<Uuid>> {
    let mut loans = Vec::with_capacity(borrowers.len());
    for chunk in borrowers.chunks(16) {
        let applied = futures::future::join_all(chunk.iter().map(|borrower| async {
            wait_until_loan_knows(stack, &borrower.token).await?;
            let applied = stack
                .gql(
                    APPLY,
                    json!({ "key": Uuid::new_v4().to_string() }),
                    Some(&borrower.token),
                )
                .await;
            let id: Uuid = applied["data"]["applyLoan"]["loan"]["id"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("applyLoan failed: {applied}"))?
                .parse()?;
            anyhow::Ok(id)
        }))
        .await;
        for loan in applied {
            loans.push(loan?);
        }
    }
    Ok(loans)
}

/// Opens the sockets (socket `k` for borrower `k % borrowers`), `--opening` at a time; each is
/// read in a task of its own from then on (answering the router's pings), sending every
/// APPROVED push to `pushes` and counting itself in `closed` when it ends. Returns how many
/// opened: a refused or failed open is counted, not retried.
async fn open_all(
    stack: &RouterStack,
    borrowers: &[Borrower],
    options: &Options,
    pushes: &mpsc::UnboundedSender<Push>,
    closed: &Arc<AtomicUsize>,
) -> usize {
    let opens = futures::stream::iter(0..options.subscriptions)
        .map(|k| {
            let borrower = &borrowers[k % borrowers.len()];
            async move { open_one(stack, &borrower.token, pushes.clone(), closed.clone()).await }
        })
        .buffer_unordered(options.opening);
    let results: Vec<anyhow::Result<()>> = opens.collect().await;
    let mut first_error = None;
    let opened = results
        .into_iter()
        .filter(|r| {
            if let Err(e) = r {
                first_error.get_or_insert_with(|| e.to_string());
            }
            r.is_ok()
        })
        .count();
    if let Some(error) = first_error {
        println!("first failed open: {error}");
    }
    opened
}

async fn open_one(
    stack: &RouterStack,
    token: &str,
    pushes: mpsc::UnboundedSender<Push>,
    closed: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let mut socket = subscribe(stack, token, WATCH).await?;
    // Open once the snapshot (the loan's current status) arrived: the subscription is live.
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("no snapshot within 60 s"))?;
        let Some(Ok(Message::Text(text))) = frame else {
            anyhow::bail!("the subscription ended before its snapshot: {frame:?}");
        };
        let message: Value = serde_json::from_str(&text)?;
        match message["type"].as_str() {
            Some("next") if message["payload"]["data"]["loanStatusChanged"]["snapshot"] == true => {
                break;
            }
            Some("error") => anyhow::bail!("refused: {message}"),
            _ => {}
        }
    }
    tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            let at = Instant::now();
            let Message::Text(text) = frame else { continue };
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                break;
            };
            let change = &message["payload"]["data"]["loanStatusChanged"];
            if message["type"] == "next" && change["status"] == "APPROVED" {
                let _ = pushes.send(Push { at });
            }
        }
        closed.fetch_add(1, Ordering::SeqCst);
    });
    Ok(())
}

/// Up to `n` pushes, waiting at most `patience` after the last one arrived.
async fn receive(
    pushes: &mut mpsc::UnboundedReceiver<Push>,
    n: usize,
    patience: Duration,
) -> Vec<Push> {
    let mut received = Vec::with_capacity(n);
    while received.len() < n {
        match tokio::time::timeout(patience, pushes.recv()).await {
            Ok(Some(push)) => received.push(push),
            _ => break,
        }
    }
    received
}

/// A process's resident memory, KiB (VmRSS).
/// Soft open-file limit up to the hard limit, for this process and the router and loan it
/// starts (children inherit it); the limit in force.
fn raise_open_file_limit() -> anyhow::Result<u64> {
    let (_, hard) = rlimit::Resource::NOFILE.get()?;
    rlimit::Resource::NOFILE.set(hard, hard)?;
    Ok(hard)
}
