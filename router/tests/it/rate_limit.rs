//! Rate limits hold across router replicas because the buckets live in Redis.

use serde_json::{Value, json};

use crate::common::{Router, Subgraphs, error_codes, free_port, set, yaml};

fn limited(config: &mut serde_yaml::Value, ip: (u32, f64), user: (u32, f64)) {
    set(
        config,
        "plugins.rate_limit.config.per_ip",
        yaml(json!({ "capacity": ip.0, "refill_per_second": ip.1 })),
    );
    set(
        config,
        "plugins.rate_limit.config.per_user",
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
        "plugins.rate_limit.config.redis_url",
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
        "plugins.worker_watchdog.config.test_faults",
        yaml(json!(true)),
    );
    set(
        &mut config,
        "plugins.worker_watchdog.config.stall_after",
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
