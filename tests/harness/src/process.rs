//! A subgraph as deployed: its `tenor-<name>` binary as a child process with its environment,
//! so a test can kill it the hard way (SIGKILL, no clean shutdown) and start it again on the
//! same databases and topics.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::{free_port, workspace_binary};

pub struct ServiceProcess {
    pub name: &'static str,
    pub url: String,
    env: Vec<(String, String)>,
    log_file: PathBuf,
    child: Option<Child>,
}

impl ServiceProcess {
    /// Starts `tenor-<name>` on a free port with `env` (and nothing inherited that could change
    /// it: no PORT, no LOG_LEVEL) and waits until `/ready` answers 200. Its consumers are static
    /// members named after the process (`CONSUMER_INSTANCE_ID=<name>-<port>`, as a StatefulSet
    /// names its pods), so a [`ServiceProcess::restart`] takes its partitions back at once.
    pub async fn start(name: &'static str, env: Vec<(String, String)>) -> Self {
        let port = free_port();
        let id = Uuid::new_v4().simple();
        let mut service = Self {
            name,
            url: format!("http://127.0.0.1:{port}"),
            env: [
                ("PORT".to_owned(), port.to_string()),
                ("CONSUMER_INSTANCE_ID".to_owned(), format!("{name}-{port}")),
            ]
            .into_iter()
            .chain(env)
            .collect(),
            log_file: std::env::temp_dir().join(format!("tenor-{name}-{id}.log")),
            child: None,
        };
        service.spawn_and_wait().await;
        service
    }

    /// The running process's id (benchmarks read its resident memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url)
    }

    /// SIGKILL: the process gets no chance to finish anything it started.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("killing the service");
        }
    }

    /// Starts it again with the same environment and port (after [`ServiceProcess::kill`]).
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        self.spawn_and_wait().await;
    }

    /// Everything it wrote to stdout and stderr, over all its starts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    async fn spawn_and_wait(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .unwrap();
        let binary = workspace_binary(&format!("tenor-{}", self.name));
        let child = Command::new(binary)
            .env_remove("PORT")
            .env_remove("LOG_LEVEL")
            .env_remove("CONSUMER_INSTANCE_ID")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting tenor-{}: {e}", self.name));
        self.child = Some(child);
        let ready = format!("{}/ready", self.url);
        for _ in 0..600 {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "tenor-{} exited with {status} before it was ready:\n{}",
                    self.name,
                    self.log()
                );
            }
            if let Ok(response) = reqwest::get(&ready).await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tenor-{} not ready after 60 s:\n{}", self.name, self.log());
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        if std::thread::panicking() {
            eprintln!(
                "tenor-{} log kept at {}",
                self.name,
                self.log_file.display()
            );
        } else {
            let _ = std::fs::remove_file(&self.log_file);
        }
    }
}
