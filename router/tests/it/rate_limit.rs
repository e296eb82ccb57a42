//! Rate limits hold across router replicas because the buckets live in Redis.

use serde_json::{Value, json};

use crate::common::{
    Router, Subgraphs, error_codes, eventually, free_port, post_graphql, set, yaml,
};

fn limited(config: &mut serde_yaml::Value, ip: (u32, f64), user: (u32, f64)) {
    set(
        config,
        "plugins.tenor.config.rate_limit.config.per_ip",
        yaml(json!({ "capacity": ip.0, "refill_per_second": ip.1 })),
    );
    set(
        config,
        "plugins.tenor.config.rate_limit.config.per_user",
        yaml(json!({ "capacity": user.0, "refill_per_second": user.1 })),
    );
}

async fn post(router: &Router, token: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .json(&json!({ "query": "{ __typename }" }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.json().await.unwrap())
}

#[tokio::test]
async fn the_per_ip_budget_is_shared_by_two_routers() {
    let subgraphs = Subgraphs::start().await;
    let mut config_a = subgraphs.router_config(free_port());
    limited(&mut config_a, (6, 0.05), (100, 10.0));
    let mut config_b = config_a.clone();
    set(&mut config_b, "http.port", yaml(json!(free_port())));
    let a = Router::start(&config_a).await;
    let b = Router::start(&config_b).await;

    // Six requests spread over both replicas use up the one bucket…
    for i in 0..6 {
        let router = if i % 2 == 0 { &a } else { &b };
        let (status, _, body) = post(router, None).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    // …so the seventh is refused, whichever replica it reaches.
    for router in [&a, &b] {
        let (status, retry_after, body) = post(router, None).await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(error_codes(&body), ["RATE_LIMITED"], "{body}");
        let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
        // One token comes back every 20 s at 0.05/s.
        assert!((1..=20).contains(&secs), "{secs}");
        assert!(
            body["errors"][0]["extensions"]["retryAfterMs"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
}

#[tokio::test]
async fn the_per_user_budget_is_per_user_and_shared_by_two_routers() {
    let subgraphs = Subgraphs::start().await;
    let mut config_a = subgraphs.router_config(free_port());
    limited(&mut config_a, (1000, 100.0), (3, 0.05));
    let mut config_b = config_a.clone();
    set(&mut config_b, "http.port", yaml(json!(free_port())));
    let a = Router::start(&config_a).await;
    let b = Router::start(&config_b).await;
    let first = subgraphs.customer().await;
    let second = subgraphs.customer().await;
    let first_token = subgraphs.token(&first).await;
    let second_token = subgraphs.token(&second).await;

    for router in [&a, &b, &a] {
        let (status, _, body) = post(router, Some(&first_token)).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, retry_after, body) = post(&b, Some(&first_token)).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_codes(&body), ["RATE_LIMITED"], "{body}");
    assert!(retry_after.is_some());

    // Another customer from the same address has a budget of their own.
    let (status, _, body) = post(&a, Some(&second_token)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_redis_outage_does_not_become_an_api_outage() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    limited(&mut config, (1, 0.01), (1, 0.01));
    // Nothing listens there.
    set(
        &mut config,
        "plugins.tenor.config.rate_limit.config.redis_url",
        yaml(json!(format!("redis://127.0.0.1:{}/", free_port()))),
    );
    let router = Router::start(&config).await;
    for _ in 0..3 {
        let (status, _, body) = post(&router, None).await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        router.log().contains("rate limiter"),
        "the outage is logged:\n{}",
        router.log()
    );
}

/// Each worker drives its own Redis connection: while one worker is blocked (here by the test
/// fault header; in the field by a CPU-bound request), requests on the other are still counted,
/// well within the Redis timeout, instead of timing out and slipping through unthrottled.
#[tokio::test]
async fn a_blocked_worker_does_not_switch_the_limiter_off_for_the_others() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    limited(&mut config, (8, 0.01), (1000, 100.0));
    set(&mut config, "http.workers", yaml(json!(2)));
    set(
        &mut config,
        "plugins.tenor.config.worker_watchdog.config.test_faults",
        yaml(json!(true)),
    );
    set(
        &mut config,
        "plugins.tenor.config.worker_watchdog.config.stall_after",
        yaml(json!("30s")),
    );
    let router = Router::start(&config).await;

    // One keep-alive connection: its first request makes that worker's Redis connection (under
    // the old single shared connection, the only one), the second blocks that same worker.
    let first = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let send = |client: &reqwest::Client, fault: Option<&'static str>| {
        let mut request = client
            .post(router.graphql_url())
            .header("content-type", "application/json")
            .body(r#"{"query":"{ __typename }"}"#);
        if let Some(fault) = fault {
            request = request.header("x-tenor-test-fault", fault);
        }
        request.send()
    };
    assert_eq!(send(&first, None).await.unwrap().status(), 200);
    // Both workers have made their connections (each one's first use connects, which in a debug
    // build can take longer than the timeout by itself).
    for _ in 0..4 {
        assert_eq!(
            send(&reqwest::Client::new(), None).await.unwrap().status(),
            200
        );
    }
    let blocker = send(&first, Some("block=5000"));
    // Fresh connections, all at once and well before the block ends: those the other worker
    // takes answer at once, and are counted; those queued behind the block time out.
    let probes = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let attempts = (0..16).map(|_| async {
            let client = reqwest::Client::new();
            let started = std::time::Instant::now();
            match tokio::time::timeout(std::time::Duration::from_millis(1500), send(&client, None))
                .await
            {
                Ok(Ok(response)) => Some((response.status().as_u16(), started.elapsed())),
                _ => None,
            }
        });
        futures::future::join_all(attempts)
            .await
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
    };
    let (blocked, answered) = tokio::join!(blocker, probes);
    let refused = answered.iter().filter(|(status, _)| *status == 429).count();
    assert!(
        answered.len() >= 4,
        "the free worker answered only {answered:?}"
    );
    assert!(
        refused >= 1,
        "nothing was refused, so nothing was counted: {answered:?}"
    );
    // The blocked request itself is answered once its worker is free (and counted: the bucket is
    // empty by then).
    assert!(
        matches!(blocked.unwrap().status().as_u16(), 200 | 429),
        "the blocked request was not answered normally"
    );
    assert!(
        !router.log().contains("Redis timed out"),
        "{}",
        router.log()
    );
}

/// Every command Redis runs from now on, as `MONITOR` reports it (one line each), collected in
/// the background until dropped.
struct RedisMonitor {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for RedisMonitor {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl RedisMonitor {
    /// Starts monitoring the Redis at `redis_url` (`redis://host:port/…`); returns once Redis
    /// confirmed, so every later command is seen.
    async fn start(redis_url: &str) -> Self {
        use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(redis_address(redis_url))
            .await
            .unwrap();
        stream.write_all(b"MONITOR\r\n").await.unwrap();
        let mut reader = tokio::io::BufReader::new(stream);
        let mut ok = String::new();
        reader.read_line(&mut ok).await.unwrap();
        assert_eq!(ok.trim_end(), "+OK", "MONITOR refused");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = tokio::spawn(async move {
            let mut line = String::new();
            while reader.read_line(&mut line).await.is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push(std::mem::take(&mut line));
            }
        });
        Self { lines, reader }
    }

    /// [`Self::script_calls`] once what was sent has had 300 ms to show up.
    async fn settled_script_calls(&self, prefix: &str) -> Vec<String> {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        self.script_calls(prefix)
    }

    /// At most `most` settled script calls under `prefix` were made for `requests` requests.
    async fn assert_script_calls_at_most(&self, prefix: &str, most: usize, requests: usize) {
        let calls = self.settled_script_calls(prefix).await;
        assert!(
            calls.len() <= most,
            "{} script calls for {requests} requests: {calls:#?}",
            calls.len()
        );
    }

    /// Script calls (EVALSHA/EVAL, not the commands the script runs inside) that name a key
    /// under `prefix`, one line each.
    fn script_calls(&self, prefix: &str) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| {
                // `+<time> [<db> <client>] "EVALSHA" "<sha>" "<numkeys>" "<key>" …`; commands a
                // script runs are reported from client `lua`, with their own names.
                let command = line.split("] ").nth(1).unwrap_or("");
                (command.starts_with("\"EVALSHA\"") || command.starts_with("\"EVAL\""))
                    && line.contains(prefix)
            })
            .cloned()
            .collect()
    }
}

/// Four signed-in and four anonymous requests, all answered: each worker has connected to Redis
/// and loaded the script (NOSCRIPT, then EVALSHA again), so what follows sees steady calls.
async fn warm_up(router: &Router, token: &str) {
    for _ in 0..4 {
        assert_eq!(post(router, Some(token)).await.0, 200);
        assert_eq!(post(router, None).await.0, 200);
    }
}

async fn post_body(router: &Router, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Issue 15: without leases, the limiter costs one Redis round trip per request, whatever the
/// request carries.
#[tokio::test]
async fn each_request_costs_exactly_one_script_call() {
    let subgraphs = Subgraphs::start().await;
    let (router, prefix, redis_url) =
        limiter_router(&subgraphs, (1000, 100.0), (1000, 100.0), "0s").await;
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;
    // The first calls connect each worker and may load the script: not what is measured.
    warm_up(&router, &token).await;

    let monitor = RedisMonitor::start(&redis_url).await;
    let settle = || tokio::time::sleep(std::time::Duration::from_millis(500));

    // Signed in: one call takes the address's and the user's tokens together.
    for _ in 0..3 {
        let (status, _, body) = post(&router, Some(&token)).await;
        assert_eq!(status, 200, "{body}");
    }
    settle().await;
    let calls = monitor.script_calls(&prefix);
    assert_eq!(calls.len(), 3, "{calls:#?}");
    for call in &calls {
        assert!(
            call.contains(&format!("{prefix}:ip:")) && call.contains(&format!("{prefix}:user:")),
            "both buckets in the one call: {call}"
        );
    }

    // Anonymous: one call, the address's bucket.
    for _ in 0..2 {
        assert_eq!(post(&router, None).await.0, 200);
    }
    settle().await;
    assert_eq!(monitor.script_calls(&prefix).len(), 5);

    // With a token but refused before execution (a parse error): the address still pays, once,
    // after the response.
    let (_, body) = post_body(&router, Some(&token), r#"{"query":"{"}"#).await;
    assert_eq!(error_codes(&body), ["GRAPHQL_PARSE_FAILED"], "{body}");
    eventually(async || monitor.script_calls(&prefix).len() == 6).await;
    settle().await;
    let calls = monitor.script_calls(&prefix);
    assert_eq!(calls.len(), 6, "{calls:#?}");
    assert!(
        !calls[5].contains(":user:"),
        "an unexecuted request spends no user budget: {}",
        calls[5]
    );
}

/// A TCP relay in front of Redis that can hold everything the router sends until released, so
/// a test can make requests certain to wait on Redis together (pausing Redis itself would stall
/// every other test that uses it).
struct HeldRedis {
    url: String,
    held: tokio::sync::watch::Sender<bool>,
    relay: tokio::task::JoinHandle<()>,
}

impl Drop for HeldRedis {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

impl HeldRedis {
    async fn start(redis_url: &str) -> Self {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let upstream = redis_address(redis_url);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}/", listener.local_addr().unwrap());
        let (held, watch) = tokio::sync::watch::channel(false);
        let relay = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                let (mut client_in, mut client_out) = client.into_split();
                let (mut server_in, mut server_out) = server.into_split();
                let mut watch = watch.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0; 64 * 1024];
                    while let Ok(n @ 1..) = client_in.read(&mut buffer).await {
                        // Held: wait for the release, then pass on what was read.
                        let _ = watch.wait_for(|held| !*held).await;
                        if server_out.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_in, &mut client_out).await;
                });
            }
        });
        Self { url, held, relay }
    }

    fn hold(&self, held: bool) {
        self.held.send_replace(held);
    }
}

fn redis_address(redis_url: &str) -> String {
    redis_url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_owned()
}

/// A router whose Redis is reached through a [`HeldRedis`] (`redis_timeout` as given), its
/// workers connected and the script loaded by anonymous requests (which spend no user's tokens);
/// with the relay and the real Redis's URL.
async fn router_behind_held_redis(
    config: &mut serde_yaml::Value,
    redis_timeout: &str,
) -> (Router, HeldRedis, String) {
    set(
        config,
        "plugins.tenor.config.rate_limit.config.redis_timeout",
        yaml(json!(redis_timeout)),
    );
    let redis_url = redis_url_of(config);
    let held_redis = HeldRedis::start(&redis_url).await;
    set(
        config,
        "plugins.tenor.config.rate_limit.config.redis_url",
        yaml(json!(held_redis.url)),
    );
    let router = Router::start(config).await;
    for _ in 0..6 {
        assert_eq!(post(&router, None).await.0, 200);
    }
    (router, held_redis, redis_url)
}

/// Issue 15: requests that wait on a worker at the same moment share its next script call, and
/// each is still decided exactly: a user with 10 tokens gets 10 of 30 simultaneous requests.
/// What the router sends Redis is held while they arrive, so they are certain to wait together.
#[tokio::test]
async fn simultaneous_requests_share_a_script_call_and_are_decided_exactly() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    limited(&mut config, (1000, 100.0), (10, 0.01));
    let prefix = format!("tenor-test-shared-{}", uuid::Uuid::new_v4().simple());
    set(
        &mut config,
        "plugins.tenor.config.rate_limit.config.key_prefix",
        yaml(json!(prefix)),
    );
    let (router, held_redis, redis_url) = router_behind_held_redis(&mut config, "5s").await;
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;

    let monitor = RedisMonitor::start(&redis_url).await;
    held_redis.hold(true);
    let requests = futures::future::join_all((0..30).map(|_| post(&router, Some(&token))));
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        held_redis.hold(false);
    };
    let (answers, ()) = tokio::join!(requests, release);
    let statuses = answers
        .iter()
        .map(|(status, _, _)| *status)
        .collect::<Vec<_>>();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "the user's burst and no more: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        20,
        "{statuses:?}"
    );

    // Per worker: the call already waiting on Redis, then one with everything that queued behind
    // it (one call per request before).
    monitor.assert_script_calls_at_most(&prefix, 4, 30).await;
}

/// A Redis that stops answering (not down: hung, so nothing refuses the connection) delays each
/// request by at most twice `redis_timeout`, then lets it through; once it answers again, the
/// limits hold again.
#[tokio::test]
async fn a_hung_redis_delays_requests_briefly_and_the_limits_come_back_with_it() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    limited(&mut config, (1000, 100.0), (3, 0.01));
    let (router, held_redis, _) = router_behind_held_redis(&mut config, "200ms").await;
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;

    held_redis.hold(true);
    let timed = |_| async {
        let started = std::time::Instant::now();
        let (status, _, body) = post(&router, Some(&token)).await;
        (status, started.elapsed(), body)
    };
    for (status, took, body) in futures::future::join_all((0..20).map(timed)).await {
        assert_eq!(status, 200, "let through while Redis hangs: {body}");
        assert!(
            took < std::time::Duration::from_millis(1500),
            "a request waited {took:?}"
        );
    }
    assert!(
        router.log().contains("rate limiter: Redis timed out"),
        "{}",
        router.log()
    );

    held_redis.hold(false);
    // What was held reaches Redis now and may still spend the user's tokens; either way, the
    // user's bucket (3 tokens, none back for 100 s) is decided by Redis again.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(post(&router, Some(&token)).await.0);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

/// A token the router does not accept counts as anonymous: its requests pay their address.
#[tokio::test]
async fn a_flood_of_forged_tokens_from_one_address_is_rate_limited() {
    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    limited(&mut config, (5, 0.01), (1000, 100.0));
    let router = Router::start(&config).await;
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;
    // Same header and claims, one character of the signature changed.
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut signature = signature.to_owned().into_bytes();
    signature[10] = if signature[10] == b'A' { b'B' } else { b'A' };
    let forged = format!("{signed}.{}", String::from_utf8(signature).unwrap());

    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, retry_after, body) = post(&router, Some(&forged)).await;
        if status == 429 {
            assert_eq!(error_codes(&body), ["RATE_LIMITED"], "{body}");
            assert!(retry_after.is_some(), "{body}");
        } else {
            assert!(
                body["data"]["__typename"] == "Query" || !error_codes(&body).is_empty(),
                "{body}"
            );
        }
        statuses.push(status);
    }
    let let_through = statuses.iter().filter(|s| **s != 429).count();
    assert_eq!(
        let_through, 5,
        "the address's burst and no more: {statuses:?}"
    );
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");

    // The real token from the same address is refused too: the address has no tokens left.
    let (status, _, body) = post(&router, Some(&token)).await;
    assert_eq!(status, 429, "{body}");
}

/// Requests with a token that never reach execution (here: not even valid GraphQL) still pay
/// their address, after the response; the bucket that empties is the shared one in Redis, not
/// just this router's memory of it.
#[tokio::test]
async fn junk_requests_with_a_token_pay_their_address_after_the_response() {
    let subgraphs = Subgraphs::start().await;
    let mut config_a = subgraphs.router_config(free_port());
    limited(&mut config_a, (5, 0.01), (1000, 100.0));
    let mut config_b = config_a.clone();
    set(&mut config_b, "http.port", yaml(json!(free_port())));
    let a = Router::start(&config_a).await;
    let b = Router::start(&config_b).await;

    let mut statuses = Vec::new();
    for _ in 0..20 {
        let (status, body) = post_body(&a, Some("junk.junk.junk"), r#"{"query":"{"}"#).await;
        if status == 429 {
            assert_eq!(error_codes(&body), ["RATE_LIMITED"], "{body}");
        }
        statuses.push(status);
        if statuses.iter().filter(|s| **s == 429).count() >= 3 {
            break;
        }
    }
    let let_through = statuses.iter().filter(|s| **s != 429).count();
    // Each pays after its response, so one or two more may slip in before this router learns
    // that the bucket is empty.
    assert!(
        (5..=7).contains(&let_through),
        "junk was not charged: {statuses:?}"
    );
    assert!(statuses.ends_with(&[429, 429, 429]), "{statuses:?}");

    // The other replica has never seen this address: Redis itself says it is out of tokens.
    let (status, _, body) = post(&b, None).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_codes(&body), ["RATE_LIMITED"], "{body}");
}

/// Subscriptions never reach the engine's `on_execute`; each one still pays its user's token.
#[tokio::test]
async fn each_subscription_on_a_websocket_pays_its_users_token() {
    use std::time::Duration;
    use tenor_harness::ws;

    let subgraphs = Subgraphs::start().await;
    let mut config = subgraphs.router_config(free_port());
    limited(&mut config, (1000, 100.0), (2, 0.01));
    let router = Router::start(&config).await;
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;

    let mut socket = ws::connect(&router).await;
    ws::init(&mut socket, Some(&token)).await;
    for id in ["1", "2", "3"] {
        // Someone else's loan: the loan subgraph answers FORBIDDEN once it is reached.
        ws::send(
            &mut socket,
            json!({ "id": id, "type": "subscribe", "payload": {
                "query": "subscription ($id: ID) { loanStatusChanged(loanId: $id) { status } }",
                "variables": { "id": uuid::Uuid::new_v4() },
            } }),
        )
        .await;
    }
    // Each subscription's errors (a `next` or an `error` message); `complete` skipped.
    let mut codes = Vec::new();
    while codes.len() < 3 {
        let message = tokio::time::timeout(
            Duration::from_secs(15),
            ws::next(&mut socket, Duration::from_secs(15)),
        )
        .await
        .expect("an answer within 15 s")
        .unwrap();
        let errors = match message["type"].as_str() {
            Some("complete") => continue,
            Some("error") => json!({ "errors": message["payload"] }),
            _ => message["payload"].clone(),
        };
        codes.push((error_codes(&errors), message));
    }
    // Two tokens, three subscriptions (in whatever order the router took them).
    let mut seen: Vec<String> = codes.iter().map(|(c, _)| c.join(",")).collect();
    seen.sort();
    assert_eq!(
        seen,
        ["FORBIDDEN", "FORBIDDEN", "RATE_LIMITED"],
        "{codes:?}"
    );
}

/// An address bucket with plenty of room: 100 000 tokens, 10 000 a second.
const ROOMY: (u32, f64) = (100_000, 10_000.0);

/// The config of a router with `address` and `user` buckets, leases lasting `lease_for`, and its
/// buckets under `prefix`.
fn limiter_config(
    subgraphs: &Subgraphs,
    address: (u32, f64),
    user: (u32, f64),
    lease_for: &str,
    prefix: &str,
) -> serde_yaml::Value {
    let mut config = subgraphs.router_config(free_port());
    limited(&mut config, address, user);
    set(
        &mut config,
        "plugins.tenor.config.rate_limit.config.key_prefix",
        yaml(json!(prefix)),
    );
    set(
        &mut config,
        "plugins.tenor.config.rate_limit.config.lease_for",
        yaml(json!(lease_for)),
    );
    config
}

/// A router from [`limiter_config`] under a prefix of its own; with that prefix and the real
/// Redis's URL.
async fn limiter_router(
    subgraphs: &Subgraphs,
    address: (u32, f64),
    user: (u32, f64),
    lease_for: &str,
) -> (Router, String, String) {
    let prefix = format!("tenor-test-limits-{}", uuid::Uuid::new_v4().simple());
    let config = limiter_config(subgraphs, address, user, lease_for, &prefix);
    let redis_url = redis_url_of(&config);
    (Router::start(&config).await, prefix, redis_url)
}

/// The rate limiter's Redis as `config` names it.
fn redis_url_of(config: &serde_yaml::Value) -> String {
    config["plugins"]["tenor"]["config"]["rate_limit"]["config"]["redis_url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Issue 15: while its buckets have plenty of room, a router takes tokens ahead (a lease) and
/// pays most requests without a round trip to Redis.
#[tokio::test]
async fn roomy_buckets_are_leased_and_most_requests_skip_redis() {
    let subgraphs = Subgraphs::start().await;
    let (router, prefix, redis_url) =
        limiter_router(&subgraphs, ROOMY, (100_000, 10_000.0), "5s").await;
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;
    // Also connects the revocation subscription.
    warm_up(&router, &token).await;

    let monitor = RedisMonitor::start(&redis_url).await;
    for _ in 0..100 {
        let (status, _, body) = post(&router, Some(&token)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(post(&router, None).await.0, 200);
    }
    // A lease holds up to 64 tokens: 200 requests need a handful of calls, not 200.
    monitor.assert_script_calls_at_most(&prefix, 12, 200).await;
}

/// Issue 15: leases never let replicas spend more than the shared budget, nor strand it while
/// requests keep coming: two routers leasing from one user's 400 tokens (practically none back
/// during the test) let exactly 400 of 600 requests through between them.
#[tokio::test]
async fn two_leasing_routers_spend_exactly_the_shared_budget() {
    let subgraphs = Subgraphs::start().await;
    // 0.1 tokens/s over a 10 min lease: leases of up to 60 tokens (never over 1/16 of what is left).
    let (a, prefix, redis_url) = limiter_router(&subgraphs, ROOMY, (400, 0.1), "600s").await;
    let config_b = limiter_config(&subgraphs, ROOMY, (400, 0.1), "600s", &prefix);
    let b = Router::start(&config_b).await;
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;

    let monitor = RedisMonitor::start(&redis_url).await;
    let started = std::time::Instant::now();
    let mut allowed = 0;
    for round in 0..30 {
        let router = if round % 2 == 0 { &a } else { &b };
        let answers = futures::future::join_all((0..20).map(|_| post(router, Some(&token)))).await;
        for (status, _, body) in answers {
            match status {
                200 => allowed += 1,
                429 => assert_eq!(error_codes(&body), ["RATE_LIMITED"], "{body}"),
                other => panic!("{other}: {body}"),
            }
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * 0.1).ceil() as usize;
    assert!(
        (400..=400 + refilled).contains(&allowed),
        "{allowed} of 600 allowed against a budget of 400 (+{refilled} refilled)"
    );
    let calls = monitor.script_calls(&prefix);
    assert!(
        calls.len() < 300,
        "leases were used: {} script calls for 600 requests",
        calls.len()
    );
}

/// Issue 15: a session whose requests are paid from a lease (no per-request Redis check) is
/// still refused right after its logout: auth announces the revocation before the logout
/// answers, and the router stops trusting the session as soon as its listener has read it. The
/// user's other session keeps working.
#[tokio::test]
async fn a_logged_out_session_is_refused_at_once_though_its_tokens_are_leased() {
    let subgraphs = Subgraphs::start().await;
    let (router, prefix, redis_url) =
        limiter_router(&subgraphs, ROOMY, (100_000, 10_000.0), "600s").await;
    let customer = subgraphs.customer().await;
    let phone = subgraphs.token(&customer).await;
    let tablet = subgraphs.token(&customer).await;
    for _ in 0..4 {
        assert_eq!(post(&router, Some(&phone)).await.0, 200);
        assert_eq!(post(&router, Some(&tablet)).await.0, 200);
    }
    // Both sessions are paid from the lease now: no script call at all.
    let monitor = RedisMonitor::start(&redis_url).await;
    for _ in 0..5 {
        assert_eq!(post(&router, Some(&phone)).await.0, 200);
    }
    assert_eq!(
        monitor.settled_script_calls(&prefix).await,
        Vec::<String>::new()
    );

    let logout = router
        .gql("mutation Logout { logout { ok } }", json!({}), Some(&phone))
        .await;
    assert_eq!(logout["data"]["logout"]["ok"], true, "{logout}");
    // Normally the very next request. The listener is a thread of its own, so on a loaded
    // machine it may be scheduled a little after that request: a few attempts over 200 ms. The
    // lease still holds 40-odd tokens, so without the announcement all would be served from it.
    let mut answer = (0, None, Value::Null);
    for _ in 0..20 {
        answer = post(&router, Some(&phone)).await;
        if answer.0 != 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (status, _, body) = answer;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body}");
    let (status, _, body) = post(&router, Some(&tablet)).await;
    assert_eq!(status, 200, "{body}");
}

/// Issue 15: a revocation the router could not hear (its subscription to them was down) is not
/// missed: when the subscription is back, no session trusted before is trusted again until Redis
/// has checked it, so the logged-out session is refused though its tokens are still leased.
#[tokio::test]
async fn a_session_revoked_while_the_router_could_not_hear_it_is_refused_once_redis_is_back() {
    let subgraphs = Subgraphs::start().await;
    let prefix = format!("tenor-test-leases-{}", uuid::Uuid::new_v4().simple());
    let mut config = limiter_config(&subgraphs, ROOMY, (100_000, 10_000.0), "600s", &prefix);
    let (router, held_redis, redis_url) = router_behind_held_redis(&mut config, "200ms").await;
    let customer = subgraphs.customer().await;
    let phone = subgraphs.token(&customer).await;
    for _ in 0..4 {
        assert_eq!(post(&router, Some(&phone)).await.0, 200);
    }
    let monitor = RedisMonitor::start(&redis_url).await;
    assert_eq!(post(&router, Some(&phone)).await.0, 200);
    assert_eq!(
        monitor.settled_script_calls(&prefix).await,
        Vec::<String>::new(),
        "paid from the lease"
    );

    // Redis stops answering the router: its PING goes unanswered and it stops listening.
    held_redis.hold(true);
    eventually(async || router.log().contains("no revocation subscription")).await;
    // Meanwhile the phone logs out (straight at auth, which reaches Redis itself).
    let logout = post_graphql(
        &format!("{}/graphql", subgraphs.auth_url),
        "mutation Logout { logout { ok } }",
        json!({}),
        Some(&phone),
    )
    .await;
    assert_eq!(logout["data"]["logout"]["ok"], true, "{logout}");

    held_redis.hold(false);
    eventually(async || {
        router
            .log()
            .matches("listening for revoked sessions")
            .count()
            >= 2
    })
    .await;
    let (status, _, body) = post(&router, Some(&phone)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body}");
}
