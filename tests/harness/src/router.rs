//! One `tenor-router` process (the binary as deployed, as a child process) and the
//! [`RouterStack`] most tests start: subgraphs with a router in front of them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use serde_yaml::Value as Yaml;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::{Account, LOGIN, Subgraphs, free_port, post_graphql, repo_root, workspace_binary};

/// One `tenor-router` process. Killed on drop.
pub struct Router {
    pub url: String,
    pub port: u16,
    config_file: PathBuf,
    log_file: PathBuf,
    child: Child,
}

impl Router {
    /// Starts the router binary on `config` and waits until it is ready.
    pub async fn start(config: &Yaml) -> Self {
        Self::start_binary(&workspace_binary("tenor-router"), config).await
    }

    /// Like [`Router::start`] with another build of the router (the benchmark's stock one).
    pub async fn start_binary(binary: &Path, config: &Yaml) -> Self {
        Self::start_binary_with_env(binary, config, &[]).await
    }

    /// Like [`Router::start`] with extra environment variables.
    pub async fn start_with_env(config: &Yaml, env: &[(&str, &str)]) -> Self {
        Self::start_binary_with_env(&workspace_binary("tenor-router"), config, env).await
    }

    async fn start_binary_with_env(binary: &Path, config: &Yaml, env: &[(&str, &str)]) -> Self {
        let port = config["http"]["port"].as_u64().unwrap() as u16;
        let mut router = Self::spawn_binary(binary, config, env).await;
        let ready = format!("http://127.0.0.1:{port}/readiness");
        for _ in 0..300 {
            if let Ok(Some(status)) = router.child.try_wait() {
                panic!(
                    "router exited with {status} before it was ready:\n{}",
                    router.log()
                );
            }
            if let Ok(response) = reqwest::get(&ready).await
                && response.status().is_success()
            {
                return router;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("router not ready after 30 s:\n{}", router.log());
    }

    /// Starts the router binary on `config` without waiting (for start-up refusals).
    pub async fn spawn(config: &Yaml) -> Self {
        Self::spawn_with_env(config, &[]).await
    }

    /// Like [`Router::spawn`] with extra environment variables.
    pub async fn spawn_with_env(config: &Yaml, env: &[(&str, &str)]) -> Self {
        Self::spawn_binary(&workspace_binary("tenor-router"), config, env).await
    }

    async fn spawn_binary(binary: &Path, config: &Yaml, env: &[(&str, &str)]) -> Self {
        let port = config["http"]["port"].as_u64().unwrap() as u16;
        let id = Uuid::new_v4().simple();
        // Beside the committed file, so its relative paths resolve the same way.
        let config_file = repo_root().join(format!("router/.test-router-{id}.config.yaml"));
        std::fs::write(&config_file, serde_yaml::to_string(config).unwrap()).unwrap();
        let log_file = std::env::temp_dir().join(format!("tenor-router-{id}.log"));
        let log = std::fs::File::create(&log_file).unwrap();
        let child = Command::new(binary)
            .env("ROUTER_CONFIG_FILE_PATH", &config_file)
            .env_remove("PORT")
            .env_remove("LOG_LEVEL")
            .envs(env.iter().copied())
            .current_dir(repo_root())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("starting tenor-router");
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            config_file,
            log_file,
            child,
        }
    }

    /// Waits for the process to exit (start-up refusals) and returns its status and output.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("router still running after 60 s")
            .unwrap();
        (status, self.log())
    }

    /// Asks the router to stop (SIGTERM, as `./dev down`, a container runtime or Kubernetes do)
    /// and returns how it exited and its output.
    pub async fn terminate(self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().expect("router still running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        self.exit().await
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// The router process's id (benchmarks read its resident memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/graphql", self.port)
    }

    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        post_graphql(&self.graphql_url(), query, variables, token).await
    }

    /// Logs in through the router and returns the access token.
    pub async fn login(&self, account: &Account) -> String {
        let response = self
            .gql(
                LOGIN,
                json!({ "i": { "identifier": account.identifier, "password": account.password } }),
                None,
            )
            .await;
        response["data"]["login"]["tokens"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login through the router failed: {response}"))
            .to_owned()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.config_file);
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log_file);
        } else {
            eprintln!("router log kept at {}", self.log_file.display());
        }
    }
}

/// Subgraphs plus one router in front of them: what most tests need.
pub struct RouterStack {
    pub subgraphs: Subgraphs,
    pub router: Router,
}

impl RouterStack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`RouterStack::start`], with `adjust` applied to the generated router config.
    pub async fn start_with(adjust: impl FnOnce(&mut Yaml)) -> Self {
        Self::in_front_of(Subgraphs::start().await, adjust).await
    }

    /// Every subgraph including credit and risk: loans are decided as in production.
    pub async fn start_deciding() -> Self {
        Self::start_deciding_with(|_| {}).await
    }

    /// Like [`RouterStack::start_deciding`], with `adjust` applied to the router config.
    pub async fn start_deciding_with(adjust: impl FnOnce(&mut Yaml)) -> Self {
        Self::in_front_of(Subgraphs::start_deciding().await, adjust).await
    }

    /// Like [`RouterStack::start_deciding_with`] without notification (see
    /// [`Subgraphs::start_deciding_without_notification`]).
    pub async fn start_deciding_without_notification_with(adjust: impl FnOnce(&mut Yaml)) -> Self {
        Self::in_front_of(
            Subgraphs::start_deciding_without_notification().await,
            adjust,
        )
        .await
    }

    async fn in_front_of(subgraphs: Subgraphs, adjust: impl FnOnce(&mut Yaml)) -> Self {
        let mut config = subgraphs.router_config(free_port());
        adjust(&mut config);
        let router = Router::start(&config).await;
        Self { subgraphs, router }
    }

    /// Credit and risk of a deciding stack ([`RouterStack::start_deciding`]).
    pub fn deciders(&self) -> &crate::Deciders {
        self.subgraphs.deciders.as_ref().expect("a deciding stack")
    }

    pub fn router_url(&self) -> &str {
        &self.router.url
    }

    pub async fn customer(&self) -> Account {
        self.subgraphs.customer().await
    }

    pub async fn customer_with_phone(&self) -> Account {
        self.subgraphs.customer_with_phone().await
    }

    pub async fn staff(&self, scopes: &[&str]) -> Account {
        self.subgraphs.staff(scopes).await
    }

    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.router.gql(query, variables, token).await
    }
}
