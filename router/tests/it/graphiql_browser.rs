//! The back-office GraphiQL as staff meet it: served by the running `tenor-router` with its
//! security headers, and used in a real browser — Debian's headless Chromium driven by
//! playwright-core (router/graphiql/test/browser.mjs), able to reach loopback only — to sign in,
//! find the saved staff operations as tabs, run a query across two subgraphs and the KYC review
//! queue (holding a submission this test made) and see the data, without loading anything from
//! elsewhere.
//!
//! Needs what `./dev infra` installs and builds: /usr/bin/chromium, router/graphiql/node_modules
//! and router/graphiql/dist.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use tenor_harness::journeys::{borderline_images, fresh_nik, upload};
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

/// The saved operations' names in tab order, from `router/graphiql/operations/NN-<Name>.graphql`.
fn saved_operation_names() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(graphiql_dir().join("operations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".graphql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let stem = f.trim_end_matches(".graphql");
            stem.split_once('-')
                .map_or(stem, |(_, name)| name)
                .to_owned()
        })
        .collect()
}

const KYC_QUEUE: &str = "query { kycReviewQueue(first: 100) { nodes { id } } }";

#[tokio::test]
async fn staff_sign_in_in_a_loopback_only_browser_and_run_saved_operations() {
    require_prerequisites(true);
    let stack = RouterStack::start().await;
    let staff = stack.staff(&["user:admin", "kyc:review"]).await;
    let kyc_id = borderline_submission(&stack).await;
    // The staff profile reaches the user subgraph through Kafka, and the submission the review
    // queue once the simulated vendor has scored it; wait for both so the page has rows to show.
    let token = stack.router.login(&staff).await;
    eventually(async || {
        let response = stack.gql(USERS_AND_SESSIONS, json!({}), Some(&token)).await;
        response["data"]["users"]["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes.iter().any(|n| n["email"] == staff.identifier))
    })
    .await;
    eventually(async || {
        let response = stack.gql(KYC_QUEUE, json!({}), Some(&token)).await;
        response["data"]["kycReviewQueue"]["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes.iter().any(|n| n["id"] == kyc_id))
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
            .env("SAVED_OPERATION", "KycReviewQueue")
            .env("REOPEN_OPERATION", "DecideLoan")
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

    // First visit: every saved operation is a tab, in file order, and the panel lists them.
    let saved = saved_operation_names();
    assert_eq!(
        report["tabs"],
        json!(saved),
        "the tabs are not the saved operations"
    );
    assert_eq!(
        report["tasksPanelOpen"], true,
        "the Staff tasks panel is not open"
    );

    // Signed in as staff, the first tab (BackOffice) got rows from both subgraphs.
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

    // The saved KYC review queue tab, as saved, run with the play button: the pending
    // submission this test made, with what a reviewer decides on.
    let saved_tab = &report["saved"];
    let saved_text =
        std::fs::read_to_string(graphiql_dir().join("operations/02-KycReviewQueue.graphql"))
            .unwrap();
    assert_eq!(
        saved_tab["query"].as_str().map(str::trim_end),
        Some(saved_text.trim_end()),
        "the tab does not hold the saved operation"
    );
    let variables: Value = serde_json::from_str(saved_tab["variables"].as_str().unwrap()).unwrap();
    assert_eq!(variables, json!({ "first": 20, "after": null }));
    let queue = &saved_tab["result"];
    assert!(queue["errors"].is_null(), "errors in the page: {queue}");
    let nodes = queue["data"]["kycReviewQueue"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no kycReviewQueue in the page: {queue}"));
    let pending = nodes
        .iter()
        .find(|n| n["id"] == kyc_id)
        .unwrap_or_else(|| panic!("the pending submission {kyc_id} is not in the page: {queue}"));
    assert_eq!(pending["status"], "PENDING", "{pending}");
    assert_eq!(pending["awaitingManualReview"], true, "{pending}");
    let score = pending["faceMatchScore"].as_f64().unwrap();
    assert!((0.5..0.85).contains(&score), "{pending}");
    assert!(pending["selfieImageUrl"].as_str().is_some(), "{pending}");

    // Closed and reopened from the panel: a new active tab at the end with the saved text.
    let reopened = &report["reopened"];
    let without: Vec<&str> = saved
        .iter()
        .map(String::as_str)
        .filter(|n| *n != "DecideLoan")
        .collect();
    assert_eq!(reopened["withoutIt"], json!(without), "{reopened}");
    let mut after = without.clone();
    after.push("DecideLoan");
    assert_eq!(reopened["tabs"], json!(after), "{reopened}");
    assert!(
        reopened["query"]
            .as_str()
            .is_some_and(|q| q.contains("mutation DecideLoan(")),
        "{reopened}"
    );
    assert!(
        reopened["variables"]
            .as_str()
            .is_some_and(|v| v.contains("\"reasonCode\"")),
        "{reopened}"
    );
    // The reload kept the staff member's tabs, not the saved defaults.
    assert_eq!(
        report["tabsAfterReload"],
        json!(after),
        "the reload reset the tabs"
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

/// A customer's KYC submission the simulated vendor scores between the thresholds (0.5–0.85),
/// so it waits in the manual review queue; submitted through the router as the app does. Its id.
pub(crate) async fn borderline_submission(stack: &RouterStack) -> String {
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let (document, selfie) = borderline_images();
    let document = upload(stack, &token, "DOCUMENT_FRONT", document).await;
    let selfie = upload(stack, &token, "SELFIE", selfie).await;
    let submitted = stack
        .gql(
            "mutation SubmitKyc($input: SubmitKycInput!) { submitKyc(input: $input) { kyc { id status } userErrors { code message } } }",
            json!({ "input": { "documentType": "KTP", "documentNumber": fresh_nik(), "documentUploadId": document, "selfieUploadId": selfie } }),
            Some(&token),
        )
        .await;
    let kyc = &submitted["data"]["submitKyc"]["kyc"];
    assert_eq!(kyc["status"], "PENDING", "{submitted}");
    kyc["id"].as_str().unwrap().to_owned()
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
