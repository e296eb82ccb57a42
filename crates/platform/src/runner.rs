//! Start-up and shutdown every subgraph shares, so a subgraph's `main.rs` is one line and its
//! `run` says only what is its own.
//!
//! The order is always: read and check the whole configuration (exit 2 naming every bad
//! variable) → telemetry → bind → the subgraph's own start (migrations, pool, producer,
//! background [`Tasks`]) → [`serve`] until SIGTERM/Ctrl-C → stop accepting, finish in-flight
//! requests, cancel and join the background tasks → send the last spans.

use std::future::Future;
use std::net::IpAddr;

use anyhow::Context as _;
use axum::Router;
use tokio::task::JoinHandle;

// What a `Subgraph` implementation names, so the `subgraph!` macro needs no imports.
pub use tokio::net::TcpListener;
pub use tokio_util::sync::CancellationToken;

use crate::config::{Env, load_or_exit};
use crate::http::{Readiness, ops_router, shutdown_signal};
use crate::telemetry::{self, TelemetryConfig};

/// What a subgraph tells the runner about itself.
pub trait Subgraph {
    /// The service's name in `services.toml` (`user`); the binary is `tenor-<name>`.
    const NAME: &'static str;
    /// The subgraph's own settings, read from the environment.
    type Config: Send + 'static;

    fn config(env: &mut Env) -> Self::Config;
    /// The federation SDL, for `tenor-<name> print-schema`.
    fn sdl() -> String;
    /// Start everything and serve on `listener` until `shutdown` is cancelled.
    fn run(
        config: Self::Config,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Declares the unit struct through which the runner sees a subgraph: its name in
/// `services.toml`, its configuration type (read with `<Config>::from_env`, or with the
/// `read_config` function given), its SDL function and its `run` function.
///
/// ```ignore
/// tenor_platform::subgraph! {
///     /// The user subgraph as the runner sees it.
///     pub struct UserSubgraph { name: "user", config: UserConfig, sdl: schema::sdl, run: run }
/// }
/// ```
#[macro_export]
macro_rules! subgraph {
    (@read $env:ident, $config:ty) => {
        <$config>::from_env($env)
    };
    (@read $env:ident, $config:ty, $read:path) => {
        $read($env)
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            name: $service:literal,
            config: $config:ty,
            $(read_config: $read:path,)?
            sdl: $sdl:path,
            run: $run:path $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name;

        impl $crate::runner::Subgraph for $name {
            const NAME: &'static str = $service;
            type Config = $config;

            fn config(env: &mut $crate::config::Env) -> Self::Config {
                $crate::subgraph!(@read env, $config $(, $read)?)
            }

            fn sdl() -> String {
                $sdl()
            }

            fn run(
                config: Self::Config,
                listener: $crate::runner::TcpListener,
                shutdown: $crate::runner::CancellationToken,
            ) -> impl ::std::future::Future<Output = ::anyhow::Result<()>> + Send {
                $run(config, listener, shutdown)
            }
        }
    };
}

/// The whole `main` of a subgraph binary: `print-schema`, or serve on `HOST:PORT` (loopback and
/// the manifest's port by default: the router is the public entry point).
pub fn main<S: Subgraph>() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("print-schema") {
        print!("{}", S::sdl());
        return Ok(());
    }
    // Telemetry names the service for the life of the process.
    let binary: &'static str = Box::leak(format!("tenor-{}", S::NAME).into_boxed_str());
    let (telemetry_config, config, host, port) = load_or_exit(binary, |env| {
        (
            TelemetryConfig::from_env(env),
            S::config(env),
            env.optional::<IpAddr>("HOST", IpAddr::from([127, 0, 0, 1])),
            env.optional::<u16>("PORT", default_port(S::NAME)),
        )
    });
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(async move {
            let traces = telemetry::init(binary, &telemetry_config);
            let listener = TcpListener::bind((host, port))
                .await
                .with_context(|| format!("binding {host}:{port}"))?;
            let shutdown = CancellationToken::new();
            tokio::spawn({
                let shutdown = shutdown.clone();
                async move {
                    shutdown_signal().await;
                    shutdown.cancel();
                }
            });
            let served = S::run(config, listener, shutdown).await;
            // After the last request and event: their spans are in the final batch.
            if let Some(traces) = traces {
                traces.shutdown().await;
            }
            served
        })
}

/// The port a service listens on unless `PORT` says otherwise: the manifest's.
fn default_port(name: &str) -> u16 {
    crate::manifest::service(name).port
}

/// The background work of one subgraph (outbox relay, consumers, scheduled jobs): each gets a
/// child of the shutdown token and is joined when serving ends, however it ends.
pub struct Tasks {
    shutdown: CancellationToken,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Tasks {
    pub fn new(shutdown: &CancellationToken) -> Self {
        Self {
            shutdown: shutdown.clone(),
            running: Vec::new(),
        }
    }

    /// The token a task should stop on.
    pub fn token(&self) -> CancellationToken {
        self.shutdown.child_token()
    }

    /// Run `task` in the background until shutdown. Build it with [`Tasks::token`].
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.running.push((name, tokio::spawn(task)));
    }

    /// Cancel every task and wait for each to finish; a task that panicked is logged.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for (name, handle) in self.running {
            if let Err(error) = handle.await {
                tracing::error!(task = name, %error, "background task failed");
            }
        }
    }
}

/// Serve `app` plus `/health`, `/ready` (from `readiness`) and `/metrics` on `listener` until
/// the shutdown token of `tasks` is cancelled; then stop the tasks.
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    app: Router,
    readiness: Readiness,
    tasks: Tasks,
) -> anyhow::Result<()> {
    let app = app.merge(ops_router(readiness));
    tracing::info!(address = ?listener.local_addr().ok(), "{name} subgraph serving");
    let served = crate::http::serve(listener, app, tasks.shutdown.clone().cancelled_owned()).await;
    // However serving ended, the background tasks end with it.
    tasks.stop().await;
    served.context("serving HTTP")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn stopping_cancels_and_joins_every_task() {
        let shutdown = CancellationToken::new();
        let mut tasks = Tasks::new(&shutdown);
        let finished = Arc::new(AtomicBool::new(false));
        let token = tasks.token();
        tasks.spawn("waits", {
            let finished = finished.clone();
            async move {
                token.cancelled().await;
                finished.store(true, Ordering::SeqCst);
            }
        });
        tasks.stop().await;
        assert!(shutdown.is_cancelled());
        assert!(finished.load(Ordering::SeqCst));
    }
}
