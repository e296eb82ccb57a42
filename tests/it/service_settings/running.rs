//! A service process ([`Running`]) and talking to it: GraphQL, a customer of its own, reading
//! tokens and timestamps, waiting for an effect.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use uuid::Uuid;

use super::Svc;
use super::documentation::repo_root;

fn binary(svc: Svc) -> PathBuf {
    tenor_harness::workspace_binary(&format!("tenor-{}", svc.name()))
}

/// A service process, killed on drop.
pub(super) struct Running {
    pub(super) svc: Svc,
    child: Child,
    pub(super) url: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    pub(super) async fn spawn(
        svc: Svc,
        env: &BTreeMap<String, String>,
    ) -> (Child, PathBuf, PathBuf) {
        let id = Uuid::new_v4().simple();
        let stdout = std::env::temp_dir().join(format!("tenor-settings-{id}.out"));
        let stderr = std::env::temp_dir().join(format!("tenor-settings-{id}.err"));
        let child = Command::new(binary(svc))
            .env_clear()
            .envs(env)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting tenor-{}: {e}", svc.name()));
        (child, stdout, stderr)
    }

    /// Starts `svc` and waits until `/ready` answers 200 on `host`.
    pub(super) async fn start(
        svc: Svc,
        env: BTreeMap<String, String>,
        host: &str,
    ) -> Result<Self, String> {
        let port = env["PORT"].clone();
        let (child, stdout, stderr) = Self::spawn(svc, &env).await;
        let mut running = Self {
            svc,
            child,
            url: format!("http://{host}:{port}"),
            stdout,
            stderr,
        };
        let client = http();
        for _ in 0..300 {
            if let Ok(Some(status)) = running.child.try_wait() {
                return Err(format!(
                    "tenor-{} exited with {status} before it was ready:\n{}",
                    svc.name(),
                    running.output()
                ));
            }
            if let Ok(response) = client.get(format!("{}/ready", running.url)).send().await
                && response.status().is_success()
            {
                return Ok(running);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "tenor-{} not ready after 30 s:\n{}",
            svc.name(),
            running.output()
        ))
    }

    pub(super) fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub(super) fn output(&self) -> String {
        let tail = |text: String| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        format!(
            "--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
            tail(self.stdout()),
            tail(std::fs::read_to_string(&self.stderr).unwrap_or_default())
        )
    }

    /// SIGTERM (graceful: consumers leave their groups), then kill after 10 s.
    pub(super) async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_err()
            {
                let _ = self.child.kill().await;
            }
        }
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.stderr);
    }

    pub(super) async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = http()
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(e) => json!({ "errors": [{ "message": e.to_string() }] }),
        }
    }
}

pub(super) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub(super) fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("NO_CODE")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap_or_default())
        .unwrap_or(Value::Null)
}

pub(super) fn header(token: &str) -> Value {
    let header = token.split('.').next().unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap_or_default())
        .unwrap_or(Value::Null)
}

pub(super) fn seconds_between(from: &str, to: &str) -> Result<i64, String> {
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t).map_err(|e| format!("timestamp {t:?}: {e}"))
    };
    Ok((parse(to)? - parse(from)?).num_seconds())
}

pub(super) fn close(actual: i64, expected: i64, slack: i64) -> bool {
    (actual - expected).abs() <= slack
}

const PASSWORD: &str = "Harbour-Kite-Lantern-2719";

/// A new customer on `auth`: (access token, refresh token).
pub(super) async fn register_and_login(auth: &Running) -> Result<(String, String), String> {
    let n: u64 = rand::random::<u64>() % 100_000_000;
    let email = format!("settings-{}@example.com", Uuid::new_v4().simple());
    let registered = auth
        .gql(
            "mutation($i: RegisterInput!) { register(input: $i) { userId userErrors { code } } }",
            json!({ "i": { "fullname": "Sari Wulandari", "email": email,
                            "phoneNumber": format!("0812{n:08}"), "password": PASSWORD } }),
            None,
        )
        .await;
    if registered["data"]["register"]["userId"].is_null() {
        return Err(format!("register failed: {registered}"));
    }
    let login = auth
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken refreshToken } userErrors { code } } }",
            json!({ "i": { "identifier": email, "password": PASSWORD } }),
            None,
        )
        .await;
    let tokens = &login["data"]["login"]["tokens"];
    match (
        tokens["accessToken"].as_str(),
        tokens["refreshToken"].as_str(),
    ) {
        (Some(access), Some(refresh)) => Ok((access.to_owned(), refresh.to_owned())),
        _ => Err(format!("login failed: {login}")),
    }
}

pub(super) async fn eventually(
    what: &str,
    mut check: impl AsyncFnMut() -> Result<bool, String>,
) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..100 {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{what} not seen within 10 s {last}"))
}
