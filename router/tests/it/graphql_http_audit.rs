//! GraphQL over HTTP conformance: the npm `graphql-http` package's `serverAudits` (pinned in
//! router/conformance/package-lock.json) against the running `tenor-router`. Any MUST failure
//! fails the test; SHOULD/MAY findings are printed (and listed in the README).
//!
//! Needs router/conformance/node_modules (`./dev infra` installs it).

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{RouterStack, repo_root};

#[tokio::test]
async fn the_router_passes_every_must_audit_of_graphql_http() {
    let dir = repo_root().join("router/conformance");
    assert!(
        dir.join("node_modules/graphql-http").exists(),
        "router/conformance/node_modules is missing: run `./dev infra`, which installs it"
    );
    let stack = RouterStack::start().await;
    let url = stack.router.graphql_url();
    // Some audits send introspection (`__type(name: …)`), which this router answers only for
    // staff (403 otherwise, by policy); the HTTP behaviour under audit is the same for everyone.
    let staff = stack.staff(&["user:admin"]).await;
    let token = stack.router.login(&staff).await;
    // The router's CSRF prevention wants x-tenor-client from every client (see audit.mjs).
    let staff_headers = json!({
        "x-tenor-client": "graphql-http-audit",
        "authorization": format!("Bearer {token}"),
    });

    let results = audit(&dir, &url, &staff_headers).await;
    let passed = results.iter().filter(|r| r["status"] == "ok").count();
    eprintln!(
        "graphql-http serverAudits as staff: {passed} of {} passed; not MUST:\n{}",
        results.len(),
        describe(&results, &["warn", "notice"]).join("\n")
    );
    // The audit list is graphql-http's; a near-empty run would prove nothing.
    assert!(results.len() >= 40, "only {} audits ran", results.len());
    let failures = describe(&results, &["error"]);
    assert!(
        failures.is_empty(),
        "MUST audits failed:\n{}",
        failures.join("\n")
    );

    // For the README: what an anonymous client meets (introspection refused by policy).
    let anonymous = audit(
        &dir,
        &url,
        &json!({ "x-tenor-client": "graphql-http-audit" }),
    )
    .await;
    eprintln!(
        "as an anonymous client, not passed:\n{}",
        describe(&anonymous, &["error", "warn", "notice"]).join("\n")
    );
}

/// Runs router/conformance/audit.mjs against `url` with `headers` on every request.
async fn audit(dir: &Path, url: &str, headers: &Value) -> Vec<Value> {
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg("audit.mjs")
            .current_dir(dir)
            .env("GRAPHQL_URL", url)
            .env("HEADERS", headers.to_string())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the audits took over 2 minutes")
    .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| {
            panic!(
                "no report from the audits:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    report["results"].as_array().cloned().unwrap_or_default()
}

fn describe(results: &[Value], statuses: &[&str]) -> Vec<String> {
    results
        .iter()
        .filter(|r| statuses.iter().any(|s| r["status"] == *s))
        .map(|r| {
            format!(
                "{} [{}] {} → HTTP {}: {}",
                r["status"].as_str().unwrap_or(""),
                r["id"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
                r["httpStatus"],
                r["reason"].as_str().unwrap_or("")
            )
        })
        .collect()
}
