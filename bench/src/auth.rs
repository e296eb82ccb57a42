//! Auth: what does a login cost compared with the argon2id verify at its heart, and does login
//! load (CPU-bound hashing on the blocking pool) hurt everything else the service answers?
//!
//! 1. raw argon2id verify with the production parameters, on one thread, then on as many
//!    threads as cores: the machine's ceiling in verifies/s;
//! 2. logins through HTTP + GraphQL with `--concurrency` clients for `--seconds`;
//! 3. a cheap authenticated query (`mySessions(first: 1)`), first on an idle service, then while
//!    (2) runs again;
//! 4. one access-token (ES256) signature check with each jsonwebtoken backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenor_events::kafka::ensure_topics;
use tenor_platform::config::Env;
use tenor_platform::testing::{TestDatabase, kafka_brokers};
use tokio_util::sync::CancellationToken;

use crate::stats::{ms, summarise};

#[derive(clap::Args)]
pub struct Options {
    /// Concurrent login clients.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Length of each load phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Raw argon2 verifications per thread.
    #[arg(long, default_value_t = 40)]
    verifies: usize,
}

const PASSWORD: &str = "kopi susu di pagi hari";

pub async fn run(options: Options) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "auth benchmark — {cores} cores, {} concurrent login clients, {} s per phase",
        options.concurrency, options.seconds
    );

    // 1. raw argon2id
    let phc = tenor_auth::domain::password::hash(PASSWORD);
    let single = verify_samples(&phc, options.verifies, 1).await;
    let parallel_started = Instant::now();
    let parallel = verify_samples(&phc, options.verifies, cores).await;
    let ceiling = parallel.len() as f64 / parallel_started.elapsed().as_secs_f64();
    let raw = summarise(single);
    let tokens = crate::token_verify::measure(options.verifies * 50);

    // 2. the service
    let service = Service::start().await?;
    let users = service.users(options.concurrency.max(4)).await?;
    let login = service
        .login_load(&users, options.concurrency, options.seconds)
        .await;
    let login_rate = login.len() as f64 / options.seconds as f64;
    let login = summarise(login);

    // 3. a cheap query, idle and under login load
    let token = service.token(&users[0]).await?;
    let idle = summarise(
        service
            .cheap_queries(&token, Duration::from_secs(options.seconds.min(5)))
            .await,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (service, users, stop) = (service.clone(), users.clone(), stop.clone());
        tokio::spawn(async move { service.login_until(&users, options.concurrency, stop).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await; // let the load ramp up
    let loaded = summarise(
        service
            .cheap_queries(&token, Duration::from_secs(options.seconds))
            .await,
    );
    stop.store(true, Ordering::Relaxed);
    let logins_during = load.await?;

    println!();
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>12}",
        "measurement", "p50", "p99", "max", "rate"
    );
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>12}",
        "argon2id verify, 1 thread",
        ms(raw.p50),
        ms(raw.p99),
        ms(raw.max),
        format!("{:.1}/s", 1.0 / raw.p50.as_secs_f64())
    );
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>12}",
        format!("argon2id verify, {cores} threads (ceiling)"),
        "",
        "",
        "",
        format!("{ceiling:.1}/s")
    );
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>12}",
        format!("login over HTTP, {} clients", options.concurrency),
        ms(login.p50),
        ms(login.p99),
        ms(login.max),
        format!("{login_rate:.1}/s")
    );
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>12}",
        "cheap query, idle",
        ms(idle.p50),
        ms(idle.p99),
        ms(idle.max),
        format!("n={}", idle.count)
    );
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>12}",
        "cheap query, during login load",
        ms(loaded.p50),
        ms(loaded.p99),
        ms(loaded.max),
        format!("n={}", loaded.count)
    );
    println!();
    println!(
        "login throughput / argon2 ceiling:      {:.2}",
        login_rate / ceiling
    );
    println!(
        "login p50 / raw verify p50:             {:.2}",
        login.p50.as_secs_f64() / raw.p50.as_secs_f64()
    );
    println!(
        "cheap query p99, loaded / idle:         {:.2}",
        loaded.p99.as_secs_f64() / idle.p99.as_secs_f64()
    );
    println!("logins completed during the cheap-query phase: {logins_during}");
    println!();
    let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    for (backend, cost) in [
        ("aws-lc (Tenor)", &tokens.aws_lc),
        ("RustCrypto (hive-router's)", &tokens.rust_crypto),
    ] {
        println!(
            "{:<44} {:>10} {:>10} {:>10} {:>12}",
            format!("ES256 token verify, {backend}"),
            us(cost.p50),
            us(cost.p99),
            us(cost.max),
            format!("n={}", cost.count)
        );
    }
    println!(
        "token verify p50, RustCrypto / aws-lc:  {:.2}",
        tokens.rust_crypto.p50.as_secs_f64() / tokens.aws_lc.p50.as_secs_f64()
    );
    service.shutdown.cancel();
    Ok(())
}

/// `count` verifications on each of `threads` blocking threads; per-verify durations.
async fn verify_samples(phc: &str, count: usize, threads: usize) -> Vec<Duration> {
    let tasks: Vec<_> = (0..threads)
        .map(|_| {
            let phc = phc.to_owned();
            tokio::task::spawn_blocking(move || {
                (0..count)
                    .map(|_| {
                        let started = Instant::now();
                        assert!(tenor_auth::domain::password::verify(PASSWORD, &phc));
                        started.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.expect("verify thread"))
        .collect()
}

#[derive(Clone)]
struct Service {
    url: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
    _db: Arc<TestDatabase>,
}

impl Service {
    async fn start() -> anyhow::Result<Self> {
        let db = TestDatabase::new("bench_auth", || {
            vec![tenor_events::MIGRATIONS, tenor_auth::MIGRATIONS]
        })
        .await;
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (auth_topic, user_topic) = (
            format!("bench.{suffix}.auth.events"),
            format!("bench.{suffix}.user.events"),
        );
        ensure_topics(&kafka_brokers(), &[(&auth_topic, 1), (&user_topic, 1)]).await?;
        let key = std::env::temp_dir().join(format!("tenor-bench-{suffix}.pem"));
        std::fs::write(&key, tenor_auth::keys::generate_pem())?;
        let mut env = Env::from_pairs([
            ("AUTH_DATABASE_URL".to_owned(), db.url().to_owned()),
            ("KAFKA_BROKERS".to_owned(), kafka_brokers()),
            (
                "AUTH_SIGNING_KEYS".to_owned(),
                format!("bench={}", key.display()),
            ),
            ("AUTH_ACTIVE_SIGNING_KEY".to_owned(), "bench".to_owned()),
            ("AUTH_EVENTS_TOPIC".to_owned(), auth_topic),
            ("USER_EVENTS_TOPIC".to_owned(), user_topic),
            // The benchmark hammers the service from one IP on purpose.
            (
                "LOGIN_MAX_FAILURES_PER_SOURCE".to_owned(),
                "1000000".to_owned(),
            ),
            ("DB_MAX_CONNECTIONS".to_owned(), "16".to_owned()),
        ]);
        let config = tenor_auth::config::AuthConfig::from_env(&mut env);
        let config = env.finish(config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/graphql", listener.local_addr()?);
        let shutdown = CancellationToken::new();
        tokio::spawn(tenor_auth::run(config, listener, shutdown.clone()));
        let http = reqwest::Client::new();
        let service = Self {
            url,
            http,
            shutdown,
            _db: Arc::new(db),
        };
        for _ in 0..100 {
            if service
                .post(json!({ "query": "{ __typename }" }), None)
                .await
                .is_ok()
            {
                return Ok(service);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("auth did not start")
    }

    async fn post(&self, body: Value, token: Option<&str>) -> anyhow::Result<Value> {
        let mut request = self.http.post(&self.url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Ok(request.send().await?.error_for_status()?.json().await?)
    }

    async fn users(&self, n: usize) -> anyhow::Result<Vec<String>> {
        let mut emails = Vec::new();
        for i in 0..n {
            let email = format!("bench{i}-{}@example.id", uuid::Uuid::new_v4().simple());
            let phone = format!("0812{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000);
            let result = self
                .post(
                    json!({ "query": "mutation($i: RegisterInput!) { register(input: $i) { userErrors { code } } }",
                            "variables": { "i": { "fullname": "Bench User", "email": email, "phoneNumber": phone, "password": PASSWORD } } }),
                    None,
                )
                .await?;
            anyhow::ensure!(
                result["data"]["register"]["userErrors"] == json!([]),
                "register failed: {result}"
            );
            emails.push(email);
        }
        Ok(emails)
    }

    async fn login(&self, email: &str) -> anyhow::Result<Value> {
        let result = self
            .post(
                json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken } userErrors { code } } }",
                        "variables": { "i": { "identifier": email, "password": PASSWORD } } }),
                None,
            )
            .await?;
        anyhow::ensure!(
            result["data"]["login"]["userErrors"] == json!([]),
            "login failed: {result}"
        );
        Ok(result)
    }

    async fn token(&self, email: &str) -> anyhow::Result<String> {
        Ok(
            self.login(email).await?["data"]["login"]["tokens"]["accessToken"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// Logins by `concurrency` clients for `seconds`; one latency per login.
    async fn login_load(
        &self,
        users: &[String],
        concurrency: usize,
        seconds: u64,
    ) -> Vec<Duration> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let clients = (0..concurrency).map(|c| {
            let (service, email) = (self.clone(), users[c % users.len()].clone());
            async move {
                let mut samples = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    service.login(&email).await.expect("login under load");
                    samples.push(started.elapsed());
                }
                samples
            }
        });
        futures::future::join_all(clients)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Logins until `stop`; returns how many completed.
    async fn login_until(
        &self,
        users: &[String],
        concurrency: usize,
        stop: Arc<AtomicBool>,
    ) -> usize {
        let clients = (0..concurrency).map(|c| {
            let (service, email, stop) =
                (self.clone(), users[c % users.len()].clone(), stop.clone());
            async move {
                let mut done = 0;
                while !stop.load(Ordering::Relaxed) {
                    service.login(&email).await.expect("login under load");
                    done += 1;
                }
                done
            }
        });
        futures::future::join_all(clients).await.into_iter().sum()
    }

    /// One client issuing the cheap query back to back for `duration`.
    async fn cheap_queries(&self, token: &str, duration: Duration) -> Vec<Duration> {
        let deadline = Instant::now() + duration;
        let body = json!({ "query": "{ mySessions(first: 1) { edges { cursor } } }" });
        let mut samples = Vec::new();
        while Instant::now() < deadline {
            let started = Instant::now();
            let result = self
                .post(body.clone(), Some(token))
                .await
                .expect("cheap query");
            assert!(result["errors"].is_null(), "{result}");
            samples.push(started.elapsed());
        }
        samples
    }
}
