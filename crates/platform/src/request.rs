//! Who and what one request is about, for logs and for the events it causes.
//!
//! The GraphQL handler opens one span per request (`request_id`, `operation`, `user_id`) and
//! runs the request inside [`RequestContext::scope`]. Anything below — service calls with
//! `#[instrument]`, the outbox publisher — reads [`RequestContext::current`] without being
//! handed it, so the request id and the caller's trace context reach the event envelope and, from
//! there, the consumer's span on the other side of Kafka.

use std::future::Future;

use uuid::Uuid;

/// What is known about the request being served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `X-Request-Id` as set by the router (or the client, when called directly).
    pub request_id: Option<String>,
    /// The incoming W3C `traceparent`, unparsed: the events crate checks it before using it.
    pub traceparent: Option<String>,
    /// The signed-in user, if any.
    pub user_id: Option<Uuid>,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

impl RequestContext {
    /// The context of the request this task is serving, if it is serving one.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Run `future` as part of this request.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// The span every log line of the request carries. The operation name comes from the
    /// client: only its first 128 characters reach the logs. When traces are exported the span
    /// continues the caller's trace (`traceparent`: the router's span for this subgraph call)
    /// and is named after the operation; `request_id` is searchable in the trace store.
    pub fn span(&self, operation: Option<&str>) -> tracing::Span {
        let operation: String = operation.unwrap_or_default().chars().take(128).collect();
        let span = tracing::info_span!(
            "request",
            otel.name = format!("graphql {operation}").trim_end(),
            otel.kind = "server",
            request_id = self.request_id.as_deref().unwrap_or_default(),
            operation,
            user_id = self.user_id.map(|id| id.to_string()).unwrap_or_default(),
        );
        crate::telemetry::traces::continue_trace(&span, self.traceparent.as_deref());
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_context_is_visible_inside_its_scope_only() {
        assert_eq!(RequestContext::current(), None);
        let context = RequestContext {
            request_id: Some("req-1".into()),
            ..Default::default()
        };
        let seen = context
            .clone()
            .scope(async { RequestContext::current() })
            .await;
        assert_eq!(seen, Some(context));
        assert_eq!(RequestContext::current(), None);
    }
}
