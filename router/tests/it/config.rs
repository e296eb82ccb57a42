//! The router's configuration: the startup guard `tenor-router serve` runs on it (no router is
//! started), and the environment variables the README documents, each through a real router.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use tenor_router::serve::{from_env_problems, guard};

use crate::common::{self, Router, Subgraphs, free_port, set, yaml};

fn config_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("router.config.yaml")
}

#[test]
fn committed_config_passes_the_guard() {
    guard(config_path().to_str().unwrap()).unwrap_or_else(|e| panic!("{e:#}"));
}

#[test]
fn jwt_disabled_fails_the_guard() {
    let committed = std::fs::read_to_string(config_path()).unwrap();
    assert!(
        committed.contains("jwt:\n  enabled: true\n"),
        "config layout changed; update this test"
    );
    let unsafe_config = committed.replace("jwt:\n  enabled: true\n", "jwt:\n  enabled: false\n");
    // Beside the committed file, so its relative paths resolve the same way.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        ".test-router-guard-{}.config.yaml",
        std::process::id()
    ));
    std::fs::write(&path, unsafe_config).unwrap();
    let err = guard(path.to_str().unwrap()).unwrap_err().to_string();
    std::fs::remove_file(&path).ok();
    assert!(err.contains("jwt.enabled is false"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Every environment variable the README documents for the router, set to a valid non-default
// value: the router starts and the value takes effect. A bad value stops it, naming the variable.

#[test]
fn a_bad_value_is_named_by_its_variable_and_never_echoed() {
    let raw: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(config_path()).unwrap()).unwrap();
    let env = |name: &str| match name {
        "ROUTER_RATE_LIMIT_IP_BURST" => Some("lots-and-lots".to_owned()),
        "ROUTER_RATE_LIMIT_USER_PER_SECOND" => Some("-3".to_owned()),
        "ROUTER_TRUSTED_PROXY_HOPS" => Some("1.5".to_owned()),
        "ROUTER_WORKERS_IGNORED" => Some("yes".to_owned()),
        "ROUTER_RATE_LIMIT_IP_PER_SECOND" => Some("0.5".to_owned()),
        "ROUTER_RATE_LIMIT_LEASE_FOR" => Some("-1s".to_owned()),
        _ => None,
    };
    let problems = from_env_problems(&raw, &env);
    // IP_PER_SECOND=0.5 is fine; a variable the config does not read is not its business.
    assert_eq!(problems.len(), 4, "{problems:#?}");
    for var in [
        "ROUTER_RATE_LIMIT_IP_BURST",
        "ROUTER_RATE_LIMIT_USER_PER_SECOND",
        "ROUTER_TRUSTED_PROXY_HOPS",
        "ROUTER_RATE_LIMIT_LEASE_FOR",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(var)),
            "{var}: {problems:#?}"
        );
    }
    assert!(!problems.iter().any(|p| p.contains("lots-and-lots")));
    assert!(from_env_problems(&raw, &|_| None).is_empty());
}

/// A local HTTP server answering every request with `body` (JSON), for as long as the test runs.
async fn serve_forever(body: &'static str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    url
}

/// The `<NAME>` of `ROUTER_SUBGRAPH_<NAME>_URL`: every subgraph of `services.toml`.
const SUBGRAPH_NAMES: [&str; 7] = [
    "AUTH",
    "USER",
    "KYC",
    "LOAN",
    "CREDIT",
    "RISK",
    "NOTIFICATION",
];

/// The variables README's configuration table lists as the router's (`used by` = router).
fn documented_router_variables() -> Vec<String> {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let mut names = Vec::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[3].split(',').any(|c| c.trim() == "router") {
            continue;
        }
        // `A` / `_B`: B shares A's prefix up to its last underscore-separated word.
        let mut first = String::new();
        for name in cells[1].split('/').map(|n| n.trim().trim_matches('`')) {
            if let Some(suffix) = name.strip_prefix('_') {
                let stem = first.rsplit_once('_').map_or("", |(stem, _)| stem);
                let stem = stem.rsplit_once('_').map_or(stem, |(s, _)| s);
                names.push(format!("{stem}_{suffix}"));
            } else if !name.is_empty() {
                first = name.to_owned();
                names.push(first.clone());
            }
        }
    }
    names
}

async fn answer(
    router: &Router,
    token: Option<&str>,
    forwarded: Option<&str>,
) -> (u16, Option<u64>) {
    let mut request = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let response = request.send().await.unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    (response.status().as_u16(), retry_after)
}

/// The generated test config with the rate limiter's Redis back on `from_env`.
fn config_reading_redis_url(subgraphs: &Subgraphs) -> serde_yaml::Value {
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.tenor.config.rate_limit.config.redis_url",
        yaml(json!({ "from_env": "REDIS_URL", "default": "redis://127.0.0.1:1/" })),
    );
    config
}

/// `command`'s answer from the Redis at `url`.
async fn redis_query<T: redis::FromRedisValue>(url: &str, command: &redis::Cmd) -> T {
    let mut connection = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    command.query_async(&mut connection).await.unwrap()
}

#[tokio::test]
async fn every_documented_router_variable_takes_effect() {
    let documented = documented_router_variables();
    let covered = [
        "ROUTER_CONFIG_FILE_PATH",
        "TENOR_BACKOFFICE_ORIGIN",
        "ROUTER_TRUSTED_PROXY_HOPS",
        "ROUTER_RATE_LIMIT_IP_BURST",
        "ROUTER_RATE_LIMIT_IP_PER_SECOND",
        "ROUTER_RATE_LIMIT_USER_BURST",
        "ROUTER_RATE_LIMIT_USER_PER_SECOND",
        "ROUTER_RATE_LIMIT_LEASE_FOR",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "TELEMETRY_TRACING_SAMPLING_RATE",
        "REDIS_URL",
        "PORT",
        "LOG_FORMAT",
        "ROUTER_SUBGRAPH_AUTH_URL",
        "ROUTER_SUBGRAPH_USER_URL",
        "ROUTER_SUBGRAPH_KYC_URL",
        "ROUTER_SUBGRAPH_LOAN_URL",
        "ROUTER_SUBGRAPH_CREDIT_URL",
        "ROUTER_SUBGRAPH_RISK_URL",
        "ROUTER_SUBGRAPH_NOTIFICATION_URL",
        "AUTH_JWKS_URL",
        "ROUTER_KYC_LINKS_URL",
    ];
    let documented: Vec<String> = documented
        .into_iter()
        .flat_map(|name| match name.split_once("<NAME>") {
            Some((head, tail)) => SUBGRAPH_NAMES
                .iter()
                .map(|n| format!("{head}{n}{tail}"))
                .collect(),
            None => vec![name],
        })
        .collect();
    for name in &documented {
        assert!(
            covered.contains(&name.as_str()),
            "{name} is documented for the router but not tested here"
        );
    }
    assert!(documented.len() >= 10, "{documented:?}");

    let subgraphs = Subgraphs::start().await;
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:26479/".into());

    // ROUTER_CONFIG_FILE_PATH: every router here is started through it (tests/harness).

    // Rate limits: the per-IP burst and refill…
    let router = Router::start_with_env(
        &config_reading_redis_url(&subgraphs),
        &[
            ("REDIS_URL", &redis),
            ("ROUTER_RATE_LIMIT_IP_BURST", "2"),
            ("ROUTER_RATE_LIMIT_IP_PER_SECOND", "0.5"),
        ],
    )
    .await;
    assert_eq!(answer(&router, None, None).await.0, 200);
    assert_eq!(answer(&router, None, None).await.0, 200);
    let (status, retry_after) = answer(&router, None, None).await;
    assert_eq!(status, 429);
    assert_eq!(retry_after, Some(2), "one token per 2 s at 0.5/s");
    drop(router);

    // …and the per-user ones.
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;
    let router = Router::start_with_env(
        &config_reading_redis_url(&subgraphs),
        &[
            ("REDIS_URL", &redis),
            ("ROUTER_RATE_LIMIT_USER_BURST", "1"),
            ("ROUTER_RATE_LIMIT_USER_PER_SECOND", "0.25"),
        ],
    )
    .await;
    assert_eq!(answer(&router, Some(&token), None).await.0, 200);
    let (status, retry_after) = answer(&router, Some(&token), None).await;
    assert_eq!(status, 429);
    assert_eq!(retry_after, Some(4), "one token per 4 s at 0.25/s");
    drop(router);

    // REDIS_URL: the buckets live where it says (database 5 here).
    let db5 = format!("{}/5", redis.trim_end_matches('/'));
    let router = Router::start_with_env(
        &config_reading_redis_url(&subgraphs),
        &[("REDIS_URL", &db5)],
    )
    .await;
    assert_eq!(answer(&router, None, None).await.0, 200);
    let keys: Vec<String> = redis_query(&db5, redis::cmd("KEYS").arg("*:ip:*")).await;
    assert!(!keys.is_empty(), "no bucket in {db5}");
    drop(router);

    // ROUTER_RATE_LIMIT_LEASE_FOR: by default a request on a roomy bucket also takes tokens
    // ahead for the replica (here 62: 1/16 of the 999 left); at 0s it takes its own token only.
    for (lease_for, db) in [(None, 6), (Some("0s"), 7)] {
        let url = format!("{}/{db}", redis.trim_end_matches('/'));
        let mut env = vec![
            ("REDIS_URL", url.as_str()),
            ("ROUTER_RATE_LIMIT_IP_BURST", "1000"),
            ("ROUTER_RATE_LIMIT_IP_PER_SECOND", "100"),
        ];
        env.extend(lease_for.map(|value| ("ROUTER_RATE_LIMIT_LEASE_FOR", value)));
        let router = Router::start_with_env(&config_reading_redis_url(&subgraphs), &env).await;
        assert_eq!(answer(&router, None, None).await.0, 200);
        let bucket = format!("{}:ip:127.0.0.1", subgraphs.redis_prefix);
        let left: f64 = redis_query(&url, redis::cmd("HGET").arg(bucket).arg("tokens")).await;
        match lease_for {
            None => assert!(left < 950.0, "no lease taken: {left} tokens left"),
            Some(_) => assert!(left >= 998.0, "more than one token taken: {left} left"),
        }
        drop(router);
    }

    // ROUTER_TRUSTED_PROXY_HOPS: with one trusted proxy, X-Forwarded-For names the client, so
    // two clients behind it get two buckets.
    let router = Router::start_with_env(
        &config_reading_redis_url(&subgraphs),
        &[
            ("REDIS_URL", &redis),
            ("ROUTER_TRUSTED_PROXY_HOPS", "1"),
            ("ROUTER_RATE_LIMIT_IP_BURST", "1"),
            ("ROUTER_RATE_LIMIT_IP_PER_SECOND", "0.01"),
        ],
    )
    .await;
    assert_eq!(answer(&router, None, Some("203.0.113.7")).await.0, 200);
    assert_eq!(answer(&router, None, Some("203.0.113.8")).await.0, 200);
    assert_eq!(answer(&router, None, Some("203.0.113.7")).await.0, 429);
    drop(router);

    // TENOR_BACKOFFICE_ORIGIN: that origin, and only it, passes CORS.
    let origin = "https://ops.tenor.example";
    let router = Router::start_with_env(
        &subgraphs.router_config(free_port()),
        &[("TENOR_BACKOFFICE_ORIGIN", origin)],
    )
    .await;
    for (asking, allowed) in [(origin, true), ("http://127.0.0.1:4000", false)] {
        let preflight = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, router.graphql_url())
            .header("origin", asking)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        let allow = preflight
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            allow.as_deref() == Some(asking),
            allowed,
            "{asking}: {allow:?}"
        );
    }
    drop(router);

    // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (+ TELEMETRY_TRACING_SAMPLING_RATE): spans arrive at
    // the collector.
    let collector = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/v1/traces", collector.local_addr().unwrap());
    let router = Router::start_with_env(
        &subgraphs.router_config(free_port()),
        &[
            ("TELEMETRY_TRACING_SAMPLING_RATE", "1.0"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint),
        ],
    )
    .await;
    assert_eq!(answer(&router, None, None).await.0, 200);
    let request_line = tokio::time::timeout(Duration::from_secs(20), async {
        let (mut stream, _) = collector.accept().await.unwrap();
        let mut buffer = vec![0u8; 512];
        let n = tokio::io::AsyncReadExt::read(&mut stream, &mut buffer)
            .await
            .unwrap();
        String::from_utf8_lossy(&buffer[..n])
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()
    })
    .await
    .expect("no span export within 20 s");
    assert!(
        request_line.starts_with("POST /v1/traces"),
        "{request_line}"
    );
    drop(router);
    // Off without an endpoint, even when sampling is asked for: after traffic and more than the
    // exporter's 5 s batch delay, no export was attempted (it would log an ERROR: nothing listens
    // on the default endpoint) and nothing else complained.
    let router = Router::start_with_env(
        &subgraphs.router_config(free_port()),
        &[("TELEMETRY_TRACING_SAMPLING_RATE", "1.0")],
    )
    .await;
    for _ in 0..5 {
        assert_eq!(answer(&router, None, None).await.0, 200);
    }
    tokio::time::sleep(Duration::from_secs(7)).await;
    let log = router.log();
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\"") || l.contains("Failed to export"))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    drop(router);

    // ROUTER_SUBGRAPH_<NAME>_URL and AUTH_JWKS_URL, read by the committed config's `from_env`
    // placeholders: defaults that lead nowhere, the real addresses only from the environment.
    // A signed-in `me` (user's subgraph, the token checked against auth's keys) answers only
    // when both were taken from the environment.
    let customer = subgraphs.customer().await;
    let token = subgraphs.token(&customer).await;
    let mut config = subgraphs.router_config(free_port());
    let user_url = config["override_subgraph_urls"]["subgraphs"]["user"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let jwks_url = config["jwt"]["jwks_providers"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    // The router does not start without a key set, so the JWKS default is one without keys.
    let no_keys = serve_forever("{\"keys\":[]}").await;
    set(
        &mut config,
        "override_subgraph_urls.subgraphs.user.url",
        yaml(
            json!({ "from_env": "ROUTER_SUBGRAPH_USER_URL", "default": "http://127.0.0.1:1/graphql" }),
        ),
    );
    config["jwt"]["jwks_providers"][0]["url"] =
        yaml(json!({ "from_env": "AUTH_JWKS_URL", "default": no_keys }));
    let me = async |router: &Router| {
        let response: Value = reqwest::Client::new()
            .post(router.graphql_url())
            .bearer_auth(&token)
            .json(&json!({ "query": "{ me { id } }" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["data"]["me"]["id"].as_str().map(str::to_owned)
    };
    let router = Router::start_with_env(&config, &[]).await;
    assert_eq!(me(&router).await, None, "the defaults lead nowhere");
    drop(router);
    let router = Router::start_with_env(
        &config,
        &[
            ("ROUTER_SUBGRAPH_USER_URL", &user_url),
            ("AUTH_JWKS_URL", &jwks_url),
        ],
    )
    .await;
    assert_eq!(me(&router).await, Some(customer.user_id.to_string()));
    drop(router);
    // The committed config reads one variable per subgraph of the supergraph.
    let committed = std::fs::read_to_string(config_path()).unwrap();
    for name in SUBGRAPH_NAMES {
        assert!(
            committed.contains(&format!("from_env: ROUTER_SUBGRAPH_{name}_URL")),
            "{name}"
        );
    }

    // ROUTER_KYC_LINKS_URL: where /kyc/* goes. By default (nowhere here) the router answers
    // 502 KYC_UNAVAILABLE itself; from the environment, the KYC service answers (an unknown link).
    let mut config = subgraphs.router_config(free_port());
    set(
        &mut config,
        "plugins.tenor.config.kyc_links.config.upstream",
        yaml(json!({ "from_env": "ROUTER_KYC_LINKS_URL", "default": "http://127.0.0.1:1" })),
    );
    let link_status = async |router: &Router| {
        reqwest::get(format!("{}/kyc/uploads/unknown", router.url))
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let router = Router::start_with_env(&config, &[]).await;
    assert_eq!(
        link_status(&router).await,
        502,
        "KYC_UNAVAILABLE from the router itself"
    );
    drop(router);
    let router =
        Router::start_with_env(&config, &[("ROUTER_KYC_LINKS_URL", &subgraphs.kyc_url)]).await;
    let status = link_status(&router).await;
    assert!(
        (400..500).contains(&status),
        "the KYC service's own answer: {status}"
    );
    drop(router);

    // PORT overrides the configured port; LOG_FORMAT=pretty turns JSON lines into text.
    let port = free_port();
    let config = subgraphs.router_config(free_port());
    let router = Router::spawn_with_env(
        &config,
        &[("PORT", &port.to_string()), ("LOG_FORMAT", "pretty")],
    )
    .await;
    let health = format!("http://127.0.0.1:{port}/health");
    let mut up = false;
    for _ in 0..300 {
        if reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "not listening on PORT={port}:\n{}", router.log());
    let log = router.log();
    assert!(log.lines().any(|l| !l.trim().is_empty()), "{log}");
    assert!(
        !log.lines().any(|l| l.trim_start().starts_with('{')),
        "LOG_FORMAT=pretty still logs JSON:\n{log}"
    );
}

#[tokio::test]
async fn a_router_with_a_bad_value_does_not_start_and_says_which_variable() {
    let subgraphs = Subgraphs::start().await;
    let config = config_reading_redis_url(&subgraphs);
    let router =
        Router::spawn_with_env(&config, &[("ROUTER_RATE_LIMIT_IP_BURST", "two hundred")]).await;
    let (status, log) = router.exit().await;
    assert!(!status.success());
    assert!(log.contains("ROUTER_RATE_LIMIT_IP_BURST"), "{log}");
    assert!(!log.contains("two hundred"), "{log}");
    // A lease longer than an hour would strand tokens for longer than any limit spans.
    let router = Router::spawn_with_env(&config, &[("ROUTER_RATE_LIMIT_LEASE_FOR", "2h")]).await;
    let (status, log) = router.exit().await;
    assert!(!status.success());
    assert!(log.contains("lease_for: at most 1h"), "{log}");
    // The documented example values start (they used to fail as strings).
    let router = Router::start_with_env(
        &subgraphs.router_config(free_port()),
        &[
            ("ROUTER_RATE_LIMIT_IP_BURST", "200"),
            ("ROUTER_RATE_LIMIT_IP_PER_SECOND", "30"),
        ],
    )
    .await;
    let body: Value = reqwest::Client::new()
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}
