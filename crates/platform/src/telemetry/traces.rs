//! Traces: the OpenTelemetry spans of one service, exported over OTLP/HTTP when
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, and the W3C trace context that joins them with
//! the router's and the other services' spans — over HTTP (`traceparent` header) and through
//! Kafka (the event envelope's `traceparent`), so one `applyLoan` is one trace.
//!
//! Without an endpoint nothing is installed: no exporter, no span recorded for export, nothing
//! logged about it. The helpers below then answer `None` and change nothing, which is also what
//! a test process running services in-process sees.
//!
//! Every span the service opens at `RUST_LOG`'s level is exported, with its fields as
//! attributes; `otel.name` / `otel.kind` fields name a span and its kind in the trace.

use std::str::FromStr;
use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, Sampler, SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The standard OpenTelemetry variable, as the router reads it.
pub const TRACES_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// An OTLP/HTTP collector's traces URL, used as given (`http://127.0.0.1:24318/v1/traces`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracesEndpoint(String);

impl FromStr for TracesEndpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match reqwest::Url::parse(s) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                Ok(Self(s.to_owned()))
            }
            // The value is not repeated: errors never echo configuration values.
            _ => Err("expected an http(s) URL such as http://collector:4318/v1/traces".to_owned()),
        }
    }
}

/// Spans leave a batch this often (and at shutdown): soon enough for `./dev trace` right after
/// a request, few enough requests to the collector.
const EXPORT_EVERY: Duration = Duration::from_secs(1);
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The exporting half of tracing, held by the runner until the service stops.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Starts the batch exporter on the current tokio runtime; `service` becomes the spans'
    /// `service.name` (`tenor-loan`). Returns the tracer for the subscriber's layer.
    pub fn start(
        service: &'static str,
        endpoint: &TracesEndpoint,
    ) -> anyhow::Result<(Self, SdkTracer)> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.0.clone())
            .with_timeout(EXPORT_TIMEOUT)
            .build()?;
        let batch = BatchSpanProcessor::builder(exporter, Tokio)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(EXPORT_EVERY)
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(batch)
            // Every trace: the router samples all of them when it exports, and a trace with
            // holes is worse than none. A client's `traceparent` flags do not switch this.
            .with_sampler(Sampler::AlwaysOn)
            .with_resource(Resource::builder().with_service_name(service).build())
            .build();
        let tracer = provider.tracer("tenor");
        Ok((Self { provider }, tracer))
    }

    /// Sends what is still batched and stops the exporter, so the last spans of a stopping
    /// service are not lost. The SDK waits synchronously for its exporter task, so this waits on
    /// the blocking pool while the runtime keeps running that task.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let done = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(error)) = done {
            tracing::warn!(%error, "trace exporter did not shut down cleanly");
        }
    }
}

/// The subscriber layer that turns `tracing` spans into OpenTelemetry spans.
pub fn layer<S>(tracer: SdkTracer) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
}

/// Makes `span` a child of the span a W3C `traceparent` names — the router's for a request, the
/// producer's for an event — so it joins that trace. Call before the span is first entered.
/// A missing or malformed value (headers and events are input) leaves `span` a root.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(parent) = traceparent.and_then(parse) {
        let context = opentelemetry::Context::new().with_remote_span_context(parent);
        // Fails only when no exporting layer is installed: then there is nothing to join.
        let _ = span.set_parent(context);
    }
}

/// The `traceparent` that names `span` itself, for whatever it hands on (an event, a Kafka
/// message); `None` when spans are not being exported.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span = context.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| to_traceparent(span_context))
}

/// [`traceparent_of`] the span the caller is in.
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&tracing::Span::current())
}

fn to_traceparent(context: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        context.trace_id(),
        context.span_id(),
        context.trace_flags().to_u8()
    )
}

/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, ids not all zero.
fn parse(traceparent: &str) -> Option<SpanContext> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    if parts.next().is_some()
        || !hex(version, 2)
        || version.eq_ignore_ascii_case("ff")
        || !hex(trace, 32)
        || !hex(span, 16)
        || !hex(flags, 2)
    {
        return None;
    }
    let context = SpanContext::new(
        TraceId::from_hex(trace).ok()?,
        SpanId::from_hex(span).ok()?,
        TraceFlags::new(u8::from_str_radix(flags, 16).ok()?),
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    const ROUTER: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    /// A provider without exporter still gives spans their ids: enough to see who is whose child.
    fn recording() -> impl tracing::Subscriber {
        let tracer = SdkTracerProvider::builder().build().tracer("test");
        tracing_subscriber::registry().with(layer(tracer))
    }

    #[test]
    fn a_span_continues_the_trace_it_is_given_and_names_itself() {
        let _guard = tracing::subscriber::set_default(recording());
        let span = tracing::info_span!("request");
        continue_trace(&span, Some(ROUTER));
        let own = traceparent_of(&span).expect("a recorded span");
        assert!(
            own.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "{own}"
        );
        assert!(
            !own.contains("b7ad6b7169203331"),
            "its own span id, not the parent's"
        );
        let child = span.in_scope(current_traceparent).unwrap();
        assert!(child.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
    }

    #[test]
    fn garbage_starts_a_trace_of_its_own() {
        let _guard = tracing::subscriber::set_default(recording());
        for bad in [
            "",
            "00-abc-def-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
            let span = tracing::info_span!("request");
            continue_trace(&span, Some(bad));
            let own = traceparent_of(&span).unwrap();
            assert!(!own.contains("0af7651916cd43dd8448eb211c80319c"), "{bad}");
        }
    }

    #[test]
    fn without_an_exporter_nothing_is_named() {
        let span = tracing::info_span!("request");
        continue_trace(&span, Some(ROUTER));
        assert_eq!(traceparent_of(&span), None);
        assert_eq!(current_traceparent(), None);
    }

    #[test]
    fn endpoints_are_http_urls() {
        assert!(
            "http://127.0.0.1:24318/v1/traces"
                .parse::<TracesEndpoint>()
                .is_ok()
        );
        assert!(
            "https://otel.example.com/v1/traces"
                .parse::<TracesEndpoint>()
                .is_ok()
        );
        for bad in ["", "127.0.0.1:4318", "grpc://collector:4317", "http://"] {
            assert!(bad.parse::<TracesEndpoint>().is_err(), "{bad}");
        }
    }
}
