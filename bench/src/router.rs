//! Router: what does a representative cross-subgraph query cost through our router, compared
//! with the stock hive-router on the same supergraph and with the app calling the two subgraphs
//! itself?
//!
//! The query (`me` from the user subgraph, `mySessions` from auth) runs with `--concurrency`
//! clients for `--seconds` against each target in turn, after a short warm-up:
//! 1. direct — the two subgraph calls made concurrently by the client (no router at all);
//! 2. stock hive-router — same build and profile, same config, no plugins;
//! 3. tenor-router — our plugins (client IP, request id, Redis rate limit with limits raised so
//!    nothing is refused but every request still pays its two Redis round trips, error codes).
//!
//! Needs the local stack (`./dev infra`) and release router binaries:
//! `cargo build --release -p tenor-router --bins`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenor_harness::{Router, Subgraphs, free_port, post_graphql, set, workspace_binary, yaml};
use tokio::sync::OnceCell;

use crate::stats::{ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured seconds per target.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

const QUERY: &str = "query MeAndSessions { me { id email fullname preferences { language } } mySessions(first: 5) { nodes { id deviceName lastUsedAt } } }";
const ME: &str = "query Me { me { id email fullname preferences { language } } }";
const SESSIONS: &str =
    "query MySessions { mySessions(first: 5) { nodes { id deviceName lastUsedAt } } }";

#[derive(Clone)]
enum Target {
    Direct { user: String, auth: String },
    Router(String),
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "router benchmark — {cores} cores, {} clients, {} s per target, query: me (user) + mySessions (auth)",
        options.concurrency, options.seconds
    );
    let subgraphs = Subgraphs::start().await;
    // One customer per client, as in production: identical requests carrying one token would
    // let the routers' in-flight deduplication merge them and flatter the router rows.
    let mut customers = Vec::with_capacity(options.concurrency);
    for _ in 0..options.concurrency {
        let customer = subgraphs.customer().await;
        let token = subgraphs.token(&customer).await;
        customers.push((customer, token));
    }
    // Profiles reach the user subgraph through Kafka.
    let user_graphql = format!("{}/graphql", subgraphs.user_url);
    for (_, token) in &customers {
        for _ in 0..200 {
            let me = post_graphql(&user_graphql, ME, json!({}), Some(token)).await;
            if !me["data"]["me"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let tokens: Vec<String> = customers.iter().map(|(_, t)| t.clone()).collect();
    let (customer, token) = &customers[0];

    let mut ours = subgraphs.router_config(free_port());
    for bucket in ["per_ip", "per_user"] {
        set(
            &mut ours,
            &format!("plugins.rate_limit.config.{bucket}"),
            yaml(json!({ "capacity": 10_000_000, "refill_per_second": 10_000_000.0 })),
        );
    }
    let mut stock = ours.clone();
    stock.as_mapping_mut().unwrap().remove("plugins");
    set(&mut stock, "http.port", yaml(json!(free_port())));
    let ours = Router::start_binary(&workspace_binary("tenor-router"), &ours).await;
    let stock = Router::start_binary(&workspace_binary("stock-hive-router"), &stock).await;

    let targets = [
        (
            "direct to subgraphs",
            Target::Direct {
                user: user_graphql.clone(),
                auth: format!("{}/graphql", subgraphs.auth_url),
            },
        ),
        ("stock hive-router", Target::Router(stock.graphql_url())),
        ("tenor-router", Target::Router(ours.graphql_url())),
    ];
    let mut rows = Vec::new();
    for (name, target) in targets {
        // Each target must answer correctly before it is timed.
        let sample = once(&target, token).await?;
        anyhow::ensure!(
            sample["data"]["me"]["id"] == customer.user_id.to_string(),
            "{name} answered wrongly: {sample}"
        );
        load(&target, &tokens, Duration::from_secs(2)).await?;
        let started = Instant::now();
        let samples = load(&target, &tokens, Duration::from_secs(options.seconds)).await?;
        let rps = samples.len() as f64 / started.elapsed().as_secs_f64();
        rows.push((name, rps, summarise(samples)));
    }

    let (_, base_rps, base) = &rows[0];
    let (base_p50, base_p99) = (base.p50.as_secs_f64(), base.p99.as_secs_f64());
    println!();
    println!(
        "{:<22} {:>9} {:>10} {:>10}   {:>9} {:>9} {:>9}",
        "target", "req/s", "p50", "p99", "rps ×", "p50 ×", "p99 ×"
    );
    for (name, rps, s) in &rows {
        println!(
            "{:<22} {:>9.0} {:>10} {:>10}   {:>9.2} {:>9.2} {:>9.2}",
            name,
            rps,
            ms(s.p50),
            ms(s.p99),
            rps / base_rps,
            s.p50.as_secs_f64() / base_p50,
            s.p99.as_secs_f64() / base_p99,
        );
    }
    let (_, stock_rps, stock_s) = &rows[1];
    let (_, ours_rps, ours_s) = &rows[2];
    println!();
    println!(
        "tenor-router against stock hive-router: {:.2}× throughput, p50 {:.2}×, p99 {:.2}×",
        ours_rps / stock_rps,
        ours_s.p50.as_secs_f64() / stock_s.p50.as_secs_f64(),
        ours_s.p99.as_secs_f64() / stock_s.p99.as_secs_f64(),
    );
    drop((ours, stock));
    Ok(())
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

async fn post(url: &str, query: &str, token: &str) -> anyhow::Result<Value> {
    Ok(client()
        .await
        .post(url)
        .header("content-type", "application/json")
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await?
        .json()
        .await?)
}

async fn once(target: &Target, token: &str) -> anyhow::Result<Value> {
    Ok(match target {
        Target::Router(url) => post(url, QUERY, token).await?,
        Target::Direct { user, auth } => {
            let (me, sessions) = tokio::join!(post(user, ME, token), post(auth, SESSIONS, token));
            let (me, sessions) = (me?, sessions?);
            json!({ "data": { "me": me["data"]["me"], "mySessions": sessions["data"]["mySessions"] } })
        }
    })
}

/// One client per token issuing the query back to back for `duration`; one latency per query.
async fn load(
    target: &Target,
    tokens: &[String],
    duration: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + duration;
    let clients = tokens.iter().map(|token| {
        let target = target.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let response = once(&target, &token).await?;
                anyhow::ensure!(
                    response["errors"].is_null() && !response["data"]["me"].is_null(),
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
