//! The back-office GraphiQL as staff meet it: served by the running `tenor-router` with its
//! security headers, and used in a real browser — Debian's headless Chromium driven by
//! playwright-core (router/graphiql/test/browser.mjs), able to reach loopback only — to sign in,
//! run a query across two subgraphs and see the data, without loading anything from elsewhere.
//!
//! Needs what `./dev infra` installs and builds: /usr/bin/chromium, router/graphiql/node_modules
//! and router/graphiql/dist.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{RouterStack, eventually, repo_root};

const CHROMIUM: &str = "/usr/bin/chromium";

fn graphiql_dir() -> PathBuf {
    repo_root().join("router/graphiql")
}

/// Fails with what to run when the browser or the build is missing (never skips: a skipped
/// browser test would pass without proving anything).
fn require_prerequisites(browser: bool) {
    let dir = graphiql_dir();
    let mut needed = vec![(
        dir.join("dist/index.html"),
        "the GraphiQL build in router/graphiql/dist",
    )];
    if browser {
        needed.push((PathBuf::from(CHROMIUM), "Debian's chromium"));
        needed.push((
            dir.join("node_modules/playwright-core"),
            "router/graphiql/node_modules",
        ));
    }
    let missing: Vec<String> = needed
        .into_iter()
        .filter(|(path, _)| !path.exists())
        .map(|(path, what)| format!("{what} ({})", path.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "missing {}: run `./dev infra`, which installs and builds them",
        missing.join(", ")
    );
}

const USERS_AND_SESSIONS: &str =
    "query { users(first: 100) { nodes { email } } mySessions { nodes { id } } }";

#[tokio::test]
async fn staff_sign_in_in_a_loopback_only_browser_and_query_two_subgraphs() {
    require_prerequisites(true);
    let stack = RouterStack::start().await;
    let staff = stack.staff(&["user:admin"]).await;
    // The staff profile reaches the user subgraph through Kafka; wait for it so the page's query
    // has the row to show.
    let token = stack.router.login(&staff).await;
    eventually(async || {
        let response = stack.gql(USERS_AND_SESSIONS, json!({}), Some(&token)).await;
        response["data"]["users"]["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes.iter().any(|n| n["email"] == staff.identifier))
    })
    .await;

    let origin = stack.router_url().to_owned();
    let screenshot = std::env::temp_dir().join(format!("tenor-graphiql-{}.png", stack.router.port));
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg("test/browser.mjs")
            .current_dir(graphiql_dir())
            .env("GRAPHIQL_URL", format!("{origin}/graphiql"))
            .env("STAFF_IDENTIFIER", &staff.identifier)
            .env("STAFF_PASSWORD", &staff.password)
            .env("STAFF_TOKEN", &token)
            .env("CHROMIUM", CHROMIUM)
            .env("SCREENSHOT", &screenshot)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser run took over 2 minutes")
    .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no report from the browser run:\n{stdout}\n{stderr}"));
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    assert!(
        output.status.success() && report["ok"] == true,
        "the browser run failed: {}\n{stderr}",
        serde_json::to_string_pretty(&report).unwrap()
    );

    // The pasted token was taken for what it is.
    let label = report["pastedTokenLabel"].as_str().unwrap_or("");
    assert!(
        label.contains(&staff.user_id.to_string()) && label.contains("user:admin"),
        "{label}"
    );

    // Signed in as staff, the default query got rows from both subgraphs.
    let result = &report["result"];
    assert!(result["errors"].is_null(), "errors in the page: {result}");
    let emails: Vec<&str> = result["data"]["users"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no users (user subgraph) in the page: {result}"))
        .iter()
        .filter_map(|n| n["email"].as_str())
        .collect();
    assert!(emails.contains(&staff.identifier.as_str()), "{result}");
    let sessions = result["data"]["mySessions"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no mySessions (auth subgraph) in the page: {result}"));
    assert!(
        sessions.iter().any(|s| s["current"] == true),
        "the page's own session is missing: {result}"
    );

    // Everything the page asked for came from the router.
    let requests: Vec<&str> = report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        requests.iter().any(|u| u.contains("/graphiql/assets/app-")),
        "the page loaded no bundle? {requests:?}"
    );
    assert!(
        requests.iter().any(|u| u.ends_with("/graphql")),
        "the page made no GraphQL request? {requests:?}"
    );
    let foreign: Vec<&&str> = requests
        .iter()
        .filter(|u| !u.starts_with(&format!("{origin}/")) && !u.starts_with("data:"))
        .collect();
    assert!(
        foreign.is_empty(),
        "requests outside the router: {foreign:?}"
    );
    let ws_origin = origin.replacen("http://", "ws://", 1);
    for ws in report["websockets"].as_array().unwrap() {
        assert!(ws.as_str().unwrap().starts_with(&ws_origin), "{ws}");
    }
    assert_eq!(
        report["consoleErrors"],
        json!([]),
        "the page logged errors (failed loads, blocked resources)"
    );
    assert_eq!(
        report["cspViolations"],
        json!([]),
        "the page broke its own Content-Security-Policy"
    );

    // The token lived in sessionStorage only and is gone after signing out.
    let storage = &report["storage"];
    assert_eq!(storage["hadSessionToken"], true, "{storage}");
    assert!(storage["sessionTokenAfterSignOut"].is_null(), "{storage}");
    assert_eq!(storage["tokenInLocalStorage"], false, "{storage}");
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_policy_and_nothing_else_is() {
    require_prerequisites(false);
    let stack = RouterStack::start().await;
    let origin = stack.router_url();

    let page = reqwest::get(format!("{origin}/graphiql")).await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self';"),
        "{csp}"
    );
    assert!(csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
    let html = page.text().await.unwrap();
    // Every script and stylesheet is the router's own.
    assert!(
        !html.contains("//unpkg") && !html.contains("https://"),
        "{html}"
    );
    let bundle = html
        .split('"')
        .find(|s| s.starts_with("/graphiql/assets/app-") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("no bundle in {html}"));
    let js = reqwest::get(format!("{origin}{bundle}")).await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );

    // Raw requests, so no client normalises the path first. The committed router config sits
    // two folders above the assets.
    for path in [
        "/graphiql/../router.config.yaml",
        "/graphiql/../../router/router.config.yaml",
        "/graphiql/assets/../../router.config.yaml",
        "/graphiql/%2e%2e/router.config.yaml",
        "/graphiql/..%2f..%2frouter.config.yaml",
        "/graphiql/assets/..%2F..%2F..%2FCargo.toml",
        "/graphiql//etc/passwd",
    ] {
        let (status, body) = raw_get(stack.router.port, path).await;
        assert!(
            !body.contains("jwks_providers")
                && !body.contains("root:x:0")
                && !body.contains("[package]"),
            "{path} leaked a file: {body}"
        );
        assert!(status == 404 || status == 400, "{path} → {status}");
    }

    // Not GraphiQL's: the router answers as before.
    let graphql = stack.gql("{ __typename }", json!({}), None).await;
    assert_eq!(graphql["data"]["__typename"], "Query");
}

/// `GET path` over a plain TCP connection; returns the status and the body.
async fn raw_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("no response within 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
