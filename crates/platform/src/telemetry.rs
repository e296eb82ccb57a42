//! Logs, metrics and traces.
//!
//! Logs are structured JSON on stdout (one object per line, what log shippers expect); a
//! human-readable format is available for local work with `LOG_FORMAT=pretty`. Metrics go to a
//! process-wide Prometheus recorder rendered at `/metrics`. Spans go to an OpenTelemetry
//! collector when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set ([`traces`]).

pub mod traces;

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::Env;
use traces::{TRACES_ENDPOINT_ENV, Traces, TracesEndpoint};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            // The value is not repeated: errors never echo configuration values.
            _ => Err("expected json or pretty".to_owned()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    /// `RUST_LOG`-style filter.
    pub filter: String,
    /// Where spans are exported; none without `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
    pub traces: Option<TracesEndpoint>,
}

impl TelemetryConfig {
    /// `LOG_FORMAT` (json), `RUST_LOG` (info) and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (unset:
    /// no traces exported).
    /// A `RUST_LOG` that is not a valid filter is refused (it used to fall back to `info`
    /// silently, hiding the typo).
    pub fn from_env(env: &mut Env) -> Self {
        let format = env.optional("LOG_FORMAT", LogFormat::Json);
        let filter: String = env.optional("RUST_LOG", "info".to_owned());
        if EnvFilter::try_new(&filter).is_err() {
            env.fail(
                "RUST_LOG",
                "is not a log filter such as info or info,tenor_auth=debug".to_owned(),
            );
        }
        let traces = env.maybe(TRACES_ENDPOINT_ENV);
        Self {
            format,
            filter,
            traces,
        }
    }
}

/// Install the global subscriber. Each log line carries the service name so logs of all
/// services can share one index.
/// The JSON log format: one object per line, with every enclosing span — not only the
/// innermost — so a line logged inside a traced service call still carries its request's id
/// (docs/architecture.md § A request, end to end).
pub fn json_layer<S, W>(writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .with_writer(writer)
}

///
/// With a traces endpoint, spans are exported too (inside a tokio runtime: the exporter runs on
/// it); the returned [`Traces`] must be shut down when the service stops, so the last spans are
/// sent.
pub fn init(service: &'static str, config: &TelemetryConfig) -> Option<Traces> {
    crate::crypto::install_providers();
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let exporting = config
        .traces
        .as_ref()
        .map(|endpoint| Traces::start(service, endpoint));
    let (traces, tracer, failure) = match exporting {
        None => (None, None, None),
        Some(Ok((traces, tracer))) => (Some(traces), Some(tracer), None),
        Some(Err(error)) => (None, None, Some(error)),
    };
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(tracer.map(traces::layer));
    let result = match config.format {
        LogFormat::Json => registry.with(json_layer(std::io::stdout)).try_init(),
        LogFormat::Pretty => registry.with(fmt::layer()).try_init(),
    };
    // A second init (tests start several services in one process) keeps the first subscriber.
    if result.is_ok() {
        tracing::info!(service, traces = traces.is_some(), "telemetry initialised");
    }
    if let Some(error) = failure {
        tracing::error!(%error, "trace export not started");
    }
    metrics_handle();
    traces
}

/// The process-wide Prometheus recorder. Installed on first use; later calls share it, so
/// several services started inside one test process do not fight over the global recorder.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is already global; then ours just stays unused.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// For a gauge of how long the oldest waiting item has waited: seconds from `oldest` to `now`,
/// 0 when nothing waits (or a clock step put it in the future).
pub fn seconds_waited(
    oldest: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> f64 {
    oldest.map_or(0.0, |at| {
        (now - at).num_milliseconds().max(0) as f64 / 1000.0
    })
}
