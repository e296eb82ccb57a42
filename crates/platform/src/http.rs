//! The operational endpoints every service exposes, and serving with graceful shutdown.
//!
//! - `/health`: the process is alive (no dependency checks: a liveness probe that fails when
//!   PostgreSQL blips would restart healthy pods for nothing).
//! - `/ready`: every dependency answers; load balancers stop routing here while it is 503.
//! - `/metrics`: Prometheus text format.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use futures::future::{BoxFuture, join_all};
use serde_json::json;
use tokio::net::TcpListener;

use crate::telemetry::metrics_handle;

/// One dependency the service needs before it can take traffic.
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &'static str;
    /// `Err` carries a short, secret-free reason for the on-call engineer.
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// A check from a name and an async closure.
pub fn check<F, Fut>(name: &'static str, f: F) -> Arc<dyn ReadinessCheck>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    struct FnCheck<F> {
        name: &'static str,
        f: F,
    }
    impl<F, Fut> ReadinessCheck for FnCheck<F>
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        fn name(&self) -> &'static str {
            self.name
        }
        fn check(&self) -> BoxFuture<'_, Result<(), String>> {
            Box::pin((self.f)())
        }
    }
    Arc::new(FnCheck { name, f })
}

#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

/// A dependency slower than this counts as down: a readiness probe must answer quickly.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, check: Arc<dyn ReadinessCheck>) -> Self {
        self.checks.push(check);
        self
    }

    /// Runs all checks concurrently; returns (all ok, per-check status).
    pub async fn evaluate(&self) -> (bool, serde_json::Map<String, serde_json::Value>) {
        let results = join_all(self.checks.iter().map(|c| async move {
            let outcome = tokio::time::timeout(CHECK_TIMEOUT, c.check())
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {CHECK_TIMEOUT:?}")));
            (c.name(), outcome)
        }))
        .await;
        let mut all_ok = true;
        let mut report = serde_json::Map::new();
        for (name, outcome) in results {
            let status = match outcome {
                Ok(()) => json!("ok"),
                Err(reason) => {
                    all_ok = false;
                    json!({ "error": reason })
                }
            };
            report.insert(name.to_owned(), status);
        }
        (all_ok, report)
    }
}

/// `/health`, `/ready`, `/metrics`, to be merged into the service's router.
pub fn ops_router(readiness: Readiness) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .route("/metrics", get(|| async { metrics_handle().render() }))
        .with_state(Arc::new(readiness))
}

async fn ready(State(readiness): State<Arc<Readiness>>) -> impl IntoResponse {
    let (ok, checks) = readiness.evaluate().await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({ "status": if ok { "ready" } else { "unavailable" }, "checks": checks });
    (status, Json(body))
}

/// Serve until `shutdown` resolves, then stop accepting and let in-flight requests finish.
///
/// Every accepted socket has Nagle's algorithm off (`TCP_NODELAY`): a subscription's frames are
/// small and follow each other closely, and with Nagle on a frame waited for the peer's delayed
/// ACK of the previous one — up to 40 ms, the largest share of a status change's way to the
/// phone (docs/events.md).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGTERM (what orchestrators send) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, draining");
}
