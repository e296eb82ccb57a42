//! Router: what do our plugins cost, compared with the stock hive-router on the same supergraph?
//!
//! Three workloads, each run with `--concurrency` clients (one borrower and token each, so the
//! routers' in-flight deduplication merges nothing) for `--seconds` against each target, after a
//! short warm-up; the seconds are split into `--rounds` in which the targets take turns, first
//! in one round and last in the next, and the ratio's range across rounds is printed beside it
//! (on a shared 2-core machine one run can differ from the next by 10 % or more):
//! - (a) a one-subgraph query: `me` (user);
//! - (b) the mobile dashboard: `me` with its KYC status and loans with installments and what is
//!   outstanding (user, kyc, loan);
//! - (c) a mutation: `updateProfile` (user; a row update and an outbox event per request).
//!
//! Targets: the subgraph called directly (workload a only), the stock hive-router
//! (`stock-hive-router`: hive-router's own `main`, same crate, build and config, no plugins), and
//! `tenor-router` with every plugin on (client IP, request id, JSON guard, syntax and operation
//! checks, JWT, directives, rate limit with its Redis round trip — limits raised so nothing is
//! refused — error codes). `--without-plugin` turns plugins off to see what each costs.
//!
//! Closed-loop clients keep the machine saturated, so there each latency is mostly queueing
//! behind the others' CPU work. The dashboard against `me` is therefore also measured paced:
//! `--paced-rate` requests a second through tenor-router (open loop, well below what either
//! sustains), where a latency is what one request costs, not the queue it waited in.
//!
//! Needs the local stack (`./dev infra`) and release router binaries:
//! `cargo build --release -p tenor-router --bins`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenor_harness::{Router, RouterStack, Subgraphs, free_port, set, workspace_binary, yaml};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::live::publish_approval;
use crate::process::cpu_time;
use crate::stats::{Summary, ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// Concurrent clients (one borrower each).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured seconds per target and workload.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Rounds the measured seconds are split into, the routers taking turns (first in one round,
    /// second in the next), so drift on a shared machine does not favour whichever runs first.
    #[arg(long, default_value_t = 4)]
    rounds: u32,
    /// Requests per second for the paced (open-loop) comparison of the dashboard with `me`.
    #[arg(long, default_value_t = 100)]
    paced_rate: u32,
    /// Turn this tenor-router plugin off (repeatable), to see what it costs; the goals assume
    /// every plugin on, so such a run is a diagnosis, not a result.
    #[arg(long = "without-plugin", value_name = "PLUGIN")]
    without_plugins: Vec<String>,
}

const ME: &str = "query Me { me { id fullname status preferences { language } } }";
/// What the app's home screen asks for in one request (schema/operations/Dashboard.graphql).
pub const DASHBOARD: &str = include_str!("../../schema/operations/Dashboard.graphql");
const UPDATE_PROFILE: &str = "mutation UpdateProfile($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id fullname } userErrors { code } } }";

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    OneSubgraph,
    Dashboard,
    Mutation,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::OneSubgraph => "(a) me — one subgraph",
            Workload::Dashboard => "(b) dashboard — user, kyc, loan",
            Workload::Mutation => "(c) updateProfile — mutation",
        }
    }

    fn body(self) -> Value {
        match self {
            Workload::OneSubgraph => json!({ "query": ME }),
            Workload::Dashboard => json!({ "query": DASHBOARD }),
            Workload::Mutation => json!({
                "query": UPDATE_PROFILE,
                "variables": { "input": { "fullname": format!("Siti {}", &Uuid::new_v4().simple().to_string()[..6]) } }
            }),
        }
    }

    /// Whether a response is the right answer (a failure under load stops the benchmark).
    fn answered(self, response: &Value) -> bool {
        response["errors"].is_null()
            && match self {
                Workload::OneSubgraph => !response["data"]["me"]["id"].is_null(),
                Workload::Dashboard => response["data"]["me"]["loans"][0]["installments"]
                    .as_array()
                    .is_some_and(|i| !i.is_empty()),
                Workload::Mutation => response["data"]["updateProfile"]["userErrors"] == json!([]),
            }
    }
}

struct Row {
    workload: Workload,
    target: &'static str,
    rps: f64,
    /// tenor-router's req/s over stock's, round by round (the same for both rows).
    round_ratios: Vec<f64>,
    summary: Summary,
    /// Redis script calls per request during this target's turns.
    script_calls_per_request: f64,
    /// The router process's CPU time per request during its turns (none for the subgraph
    /// called directly).
    cpu_per_request: Option<Duration>,
}

/// One target's samples and time across the rounds, its req/s in each, and the Redis script
/// calls made during its turns.
#[derive(Default)]
struct Measured {
    samples: Vec<Duration>,
    elapsed: Duration,
    rounds: Vec<f64>,
    script_calls: u64,
    cpu: Duration,
}

impl Measured {
    fn add(&mut self, samples: Vec<Duration>, elapsed: Duration) {
        self.rounds
            .push(samples.len() as f64 / elapsed.as_secs_f64());
        self.samples.extend(samples);
        self.elapsed += elapsed;
    }
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "router benchmark — {cores} cores, {} clients, {} s per target and workload; preparing borrowers…",
        options.concurrency, options.seconds
    );
    let subgraphs = Subgraphs::start().await;
    let mut ours = subgraphs.router_config(free_port());
    for bucket in ["per_ip", "per_user"] {
        set(
            &mut ours,
            &format!("plugins.tenor.config.rate_limit.config.{bucket}"),
            yaml(json!({ "capacity": 10_000_000, "refill_per_second": 10_000_000.0 })),
        );
    }
    for plugin in &options.without_plugins {
        anyhow::ensure!(
            ours["plugins"]["tenor"]["config"]
                .get(plugin.as_str())
                .is_some(),
            "--without-plugin {plugin}: tenor-router has no such plugin"
        );
        set(
            &mut ours,
            &format!("plugins.tenor.config.{plugin}.enabled"),
            yaml(json!(false)),
        );
    }
    if !options.without_plugins.is_empty() {
        println!(
            "diagnosis run: tenor-router without {} (the goals assume every plugin on)",
            options.without_plugins.join(", ")
        );
    }
    let redis_url = ours["plugins"]["tenor"]["config"]["rate_limit"]["config"]["redis_url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the router config names no rate-limit Redis"))?
        .to_owned();
    let mut stock = ours.clone();
    stock.as_mapping_mut().unwrap().remove("plugins");
    set(&mut stock, "http.port", yaml(json!(free_port())));
    let ours = Router::start_binary(&workspace_binary("tenor-router"), &ours).await;
    let stock = Router::start_binary(&workspace_binary("stock-hive-router"), &stock).await;
    let (ours_url, stock_url) = (ours.graphql_url(), stock.graphql_url());
    let (ours_pid, stock_pid) = (ours.pid(), stock.pid());
    let user_url = format!("{}/graphql", subgraphs.user_url);

    // Borrowers with verified KYC and a loan with its schedule, prepared through our router.
    let stack = RouterStack {
        subgraphs,
        router: ours,
    };
    // Approved (by a published credit decision), so each loan has its schedule.
    let borrowers = crate::loan::prepare(&stack, options.concurrency).await?;
    let producer = tenor_events::kafka::producer(&tenor_events::testing::kafka_config())?;
    for borrower in &borrowers {
        let applied = stack
            .gql(
                crate::loan::APPLY,
                json!({ "key": Uuid::new_v4().to_string() }),
                Some(&borrower.token),
            )
            .await;
        let loan: Uuid = applied["data"]["applyLoan"]["loan"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("applyLoan failed: {applied}"))?
            .parse()?;
        publish_approval(&producer, &stack, borrower.account.user_id, loan).await?;
    }
    let tokens: Vec<String> = borrowers.iter().map(|b| b.token.clone()).collect();
    for token in &tokens {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !Workload::Dashboard
            .answered(&post(&ours_url, &Workload::Dashboard.body(), token).await?)
        {
            anyhow::ensure!(
                Instant::now() < deadline,
                "a loan was not approved within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let mut script_calls = crate::script_calls::ScriptCalls::connect(&redis_url).await?;
    let mut rows = Vec::new();
    for workload in WORKLOADS {
        // On stderr with the wall clock, so a system-wide profile (`perf record -a -k
        // CLOCK_REALTIME`) can be cut to one workload (`perf report --time`).
        eprintln!("{:.3} measuring {}", unix_seconds(), workload.name());
        let mut targets = vec![
            ("stock hive-router", &stock_url, stock_pid),
            ("tenor-router", &ours_url, ours_pid),
        ];
        if workload == Workload::OneSubgraph {
            targets.insert(0, ("direct to user subgraph", &user_url, None));
        }
        for (target, url, _) in &targets {
            let sample = post(url, &workload.body(), &tokens[0]).await?;
            anyhow::ensure!(
                workload.answered(&sample),
                "{target} answered {} wrongly: {sample}",
                workload.name()
            );
            load(url, workload, &tokens, Duration::from_secs(2)).await?;
        }
        let rounds = options.rounds.max(1);
        let slice = Duration::from_secs(options.seconds) / rounds;
        let mut measured: Vec<Measured> = targets.iter().map(|_| Measured::default()).collect();
        for round in 0..rounds {
            let mut order: Vec<usize> = (0..targets.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let (target, url, pid) = targets[i];
                eprintln!("{:.3}   {target}, round {}", unix_seconds(), round + 1);
                let calls_before = script_calls.so_far().await?;
                let cpu_before = pid.map(cpu_time).transpose()?;
                let started = Instant::now();
                let samples = load(url, workload, &tokens, slice).await?;
                measured[i].add(samples, started.elapsed());
                if let (Some(pid), Some(before)) = (pid, cpu_before) {
                    measured[i].cpu += cpu_time(pid)?.saturating_sub(before);
                }
                measured[i].script_calls += script_calls.so_far().await? - calls_before;
            }
        }
        let per_round = |target: &str| {
            let i = targets.iter().position(|(t, _, _)| *t == target);
            i.map(|i| measured[i].rounds.clone()).unwrap_or_default()
        };
        let round_ratios: Vec<f64> = per_round("tenor-router")
            .iter()
            .zip(per_round("stock hive-router"))
            .map(|(ours, stock)| ours / stock)
            .collect();
        for ((target, _, pid), measured) in targets.into_iter().zip(measured) {
            let requests = measured.samples.len().max(1) as u32;
            rows.push(Row {
                cpu_per_request: pid.map(|_| measured.cpu / requests),
                workload,
                target,
                rps: measured.samples.len() as f64 / measured.elapsed.as_secs_f64(),
                round_ratios: round_ratios.clone(),
                script_calls_per_request: measured.script_calls as f64
                    / measured.samples.len().max(1) as f64,
                summary: summarise(measured.samples),
            });
        }
    }

    eprintln!("{:.3} measured", unix_seconds());
    println!();
    println!(
        "{:<34} {:<24} {:>8} {:>10} {:>10}",
        "workload", "target", "req/s", "p50", "p99"
    );
    for row in &rows {
        println!(
            "{:<34} {:<24} {:>8.0} {:>10} {:>10}",
            row.workload.name(),
            row.target,
            row.rps,
            ms(row.summary.p50),
            ms(row.summary.p99)
        );
    }
    println!();
    println!(
        "{:<34} {:>12} {:>8} {:>14} {:>8} {:>18}   (reference: 0.85× before the single round trip)",
        "tenor-router against stock",
        "throughput",
        "goal",
        "p99 difference",
        "goal",
        "rounds (min–max)"
    );
    for workload in WORKLOADS {
        let (ours, stock) = routers(&rows, workload);
        let p99_delta = ours.summary.p99.as_secs_f64() - stock.summary.p99.as_secs_f64();
        let low = ours
            .round_ratios
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let high = ours.round_ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "{:<34} {:>11.2}× {:>8} {:>11.1} ms {:>8} {:>12.2}–{:.2}×",
            workload.name(),
            ours.rps / stock.rps,
            "≥ 1.00×",
            p99_delta * 1000.0,
            "≤ 1 ms",
            low,
            high
        );
    }
    println!();
    println!(
        "{:<34} {:>14} {:>14} {:>8}   (each router process's own CPU, all threads, during its turns)",
        "router CPU per request", "tenor-router", "stock", "ratio"
    );
    for workload in WORKLOADS {
        let (ours, stock) = routers(&rows, workload);
        let cpu = |row: &Row| row.cpu_per_request.expect("a router's CPU is measured");
        let (ours, stock) = (cpu(ours), cpu(stock));
        println!(
            "{:<34} {:>11.0} µs {:>11.0} µs {:>7.2}×",
            workload.name(),
            ours.as_secs_f64() * 1e6,
            stock.as_secs_f64() * 1e6,
            ours.as_secs_f64() / stock.as_secs_f64()
        );
    }
    let per_request: Vec<String> = rows
        .iter()
        .filter(|row| row.target == "tenor-router")
        .map(|row| format!("{:.3}", row.script_calls_per_request))
        .collect();
    println!(
        "Redis script calls per tenor-router request (me, dashboard, mutation): {} (goal ≤ 1; without leases 1, less when calls are shared)",
        per_request.join(" / ")
    );
    let (me, dashboard) = (
        rows.iter()
            .find(|r| r.workload == Workload::OneSubgraph && r.target == "tenor-router")
            .expect("me ran"),
        rows.iter()
            .find(|r| r.workload == Workload::Dashboard && r.target == "tenor-router")
            .expect("dashboard ran"),
    );
    println!(
        "dashboard p99 / me p99 through tenor-router, saturated: {:.2} (goal ≤ 2.00)",
        dashboard.summary.p99.as_secs_f64() / me.summary.p99.as_secs_f64()
    );

    let pace = Duration::from_secs(options.seconds);
    let me = summarise(
        paced(
            &ours_url,
            Workload::OneSubgraph,
            &tokens,
            options.paced_rate,
            pace,
        )
        .await?,
    );
    let dashboard = summarise(
        paced(
            &ours_url,
            Workload::Dashboard,
            &tokens,
            options.paced_rate,
            pace,
        )
        .await?,
    );
    for (workload, summary) in [
        (Workload::OneSubgraph, &me),
        (Workload::Dashboard, &dashboard),
    ] {
        println!(
            "{:<34} paced at {:>4}/s          p50 {:>9}   p99 {:>9}   n={}",
            workload.name(),
            options.paced_rate,
            ms(summary.p50),
            ms(summary.p99),
            summary.count
        );
    }
    println!(
        "dashboard p99 / me p99 through tenor-router, paced at {}/s: {:.2} (goal ≤ 2.00)",
        options.paced_rate,
        dashboard.p99.as_secs_f64() / me.p99.as_secs_f64()
    );
    drop((stack, stock));
    Ok(())
}

const WORKLOADS: [Workload; 3] = [
    Workload::OneSubgraph,
    Workload::Dashboard,
    Workload::Mutation,
];

/// Seconds since the Unix epoch, as `perf report --time` reads a `CLOCK_REALTIME` profile.
fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// tenor-router's and stock's rows for `workload`.
fn routers(rows: &[Row], workload: Workload) -> (&Row, &Row) {
    let of = |target: &str| {
        rows.iter()
            .find(|r| r.workload == workload && r.target == target)
            .expect("every workload ran on both routers")
    };
    (of("tenor-router"), of("stock hive-router"))
}

/// One HTTP client with a connection pool for every request, as an app would keep.
async fn client() -> &'static reqwest::Client {
    static CLIENT: OnceCell<reqwest::Client> = OnceCell::const_new();
    CLIENT
        .get_or_init(|| async {
            reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .expect("an HTTP client")
        })
        .await
}

async fn post(url: &str, body: &Value, token: &str) -> anyhow::Result<Value> {
    Ok(client()
        .await
        .post(url)
        .header("content-type", "application/json")
        .bearer_auth(token)
        .json(body)
        .send()
        .await?
        .json()
        .await?)
}

/// One request per tick at `rate` for `duration` (open loop: a slow answer delays no later
/// request), taking the tokens in turn; one latency each.
async fn paced(
    url: &str,
    workload: Workload,
    tokens: &[String],
    rate: u32,
    duration: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + duration;
    let requests = crate::open_loop::paced(rate, tokens.iter().cycle(), Some(deadline), |token| {
        let (url, token) = (url.to_owned(), token.clone());
        async move {
            let started = Instant::now();
            let response = post(&url, &workload.body(), &token).await?;
            anyhow::ensure!(
                workload.answered(&response),
                "a paced request failed: {response}"
            );
            Ok(started.elapsed())
        }
    })
    .await;
    let mut samples = Vec::with_capacity(requests.len());
    for request in requests {
        samples.push(request??);
    }
    Ok(samples)
}

/// One client per token issuing the workload back to back for `duration`; one latency each.
async fn load(
    url: &str,
    workload: Workload,
    tokens: &[String],
    duration: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + duration;
    let clients = tokens.iter().map(|token| {
        let (url, token) = (url.to_owned(), token.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let body = workload.body();
                let started = Instant::now();
                let response = post(&url, &body, &token).await?;
                anyhow::ensure!(
                    workload.answered(&response),
                    "a request failed under load: {response}"
                );
                samples.push(started.elapsed());
            }
            Ok(samples)
        })
    });
    let mut all = Vec::new();
    for client in futures::future::join_all(clients).await {
        all.extend(client??);
    }
    Ok(all)
}
