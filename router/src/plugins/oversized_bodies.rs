//! `oversized_bodies`: a client that sends a body over the limit reads the 413, not a reset.
//!
//! The engine refuses a request whose `Content-Length` is over `limits.max_request_body_size`
//! with `413 PAYLOAD_TOO_LARGE_CONTENT_LENGTH`, after reading at most 64 KiB of the body. The
//! rest is still on its way when the engine closes the connection, and closing a socket with
//! unread bytes in it makes the kernel send a reset: clients that write the whole body before
//! reading (Python's `requests` and `urllib`, many phone HTTP stacks) report a broken
//! connection, not the refusal. So for such a request this plugin first reads and throws away
//! the body — bounded in bytes and time, as nginx's lingering close is — and then lets the
//! engine answer with its own 413 as before. Past the bound the connection is closed all the
//! same, and the client sees what it sees.
//!
//! A chunked body (no `Content-Length`) the engine measures as it reads: it stops one byte past
//! the limit, answers 413 `PAYLOAD_TOO_LARGE_BODY_STREAM` and closes with the rest unread — the
//! same reset. So such a body is read here first, up to one byte past the limit; past it, the
//! rest is drained as above, and the engine gets what was read (which it refuses as before).
//! A body within the limit reaches the engine whole, as if nothing had happened. A client too
//! slow to send it within the engine's request timeout gets what was read followed by the rest
//! of its body, so the engine's own timeout decides, as before.
//!
//! Runs last among the `on_http_request` plugins, after the rate limiter: a client sending
//! one oversized body after another is refused by its bucket before its bytes are drained.
//! `/kyc/` links have their own, larger limit and are answered by `kyc_links` before this.

use std::time::Duration;

use futures::StreamExt as _;
use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use hive_router::ntex::http::Payload;
use hive_router::ntex::http::error::PayloadError;
use hive_router::ntex::util::{Bytes, BytesMut};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OversizedBodiesConfig {
    /// Read and thrown away at most, per refused request.
    #[serde(default = "default_max_drained_bytes")]
    pub max_drained_bytes: usize,
    /// For at most this long.
    #[serde(default = "default_drain_for", with = "hive_router::humantime_serde")]
    pub drain_for: Duration,
}

fn default_max_drained_bytes() -> usize {
    16 * 1024 * 1024
}

fn default_drain_for() -> Duration {
    Duration::from_secs(5)
}

pub struct OversizedBodiesPlugin {
    /// The engine's `limits.max_request_body_size`.
    max_body_bytes: u64,
    /// The engine's `traffic_shaping.router.request_timeout`: how long a chunked body may take.
    request_timeout: Duration,
    max_drained_bytes: usize,
    drain_for: Duration,
}

#[hive_router::async_trait]
impl RouterPlugin for OversizedBodiesPlugin {
    type Config = OversizedBodiesConfig;

    fn plugin_name() -> &'static str {
        "oversized_bodies"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: OversizedBodiesConfig = payload.config()?;
        let max_body_bytes = payload
            .router_config()
            .limits
            .max_request_body_size
            .to_bytes();
        let request_timeout = payload
            .router_config()
            .traffic_shaping
            .router
            .request_timeout;
        payload.initialize_plugin(OversizedBodiesPlugin {
            max_body_bytes,
            request_timeout,
            max_drained_bytes: config.max_drained_bytes,
            drain_for: config.drain_for,
        })
    }

    fn on_http_request<'req>(
        &'req self,
        mut payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &mut payload.router_http_request;
            let declared = request
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if declared.is_some_and(|length| length > self.max_body_bytes) {
                // The engine refuses by the header alone: it needs none of the body.
                let mut body = request.take_payload();
                drain(&mut body, self.max_drained_bytes, self.drain_for).await;
            } else if declared.is_none() && is_chunked(request.headers()) {
                let body = request.take_payload();
                let read = self.read_chunked(body).await;
                request.set_payload(read);
            }
            payload.proceed()
        })
    }
}

impl OversizedBodiesPlugin {
    /// A chunked body, read up to one byte past the limit (draining the rest when it is over),
    /// as the payload the engine then reads: the bytes read, then whatever was left unread.
    async fn read_chunked(&self, mut body: Payload) -> Payload {
        let limit = usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX);
        let mut read = BytesMut::new();
        let end = tokio::time::timeout(
            self.request_timeout,
            read_up_to(&mut body, limit, &mut read),
        )
        .await;
        let read: Bytes = read.freeze();
        let first =
            futures::stream::iter((!read.is_empty()).then_some(Ok::<_, PayloadError>(read)));
        match end {
            Ok(BodyEnd::Whole) => Payload::Stream(Box::pin(first)),
            // What was read is over the limit already, so the engine refuses it as before.
            Ok(BodyEnd::Over) => {
                drain(&mut body, self.max_drained_bytes, self.drain_for).await;
                Payload::Stream(Box::pin(first))
            }
            // The engine answers a broken body as before.
            Ok(BodyEnd::Broken(error)) => {
                Payload::Stream(Box::pin(first.chain(futures::stream::iter([Err(error)]))))
            }
            // Too slow: the engine reads on from where this stopped, under its own timeout.
            Err(_) => Payload::Stream(Box::pin(first.chain(body))),
        }
    }
}

/// How [`read_up_to`] stopped.
pub(super) enum BodyEnd {
    /// The body ended within the limit.
    Whole,
    /// More than the limit arrived; the rest is still unread.
    Over,
    /// The client's body broke off (bad chunk coding, connection lost).
    Broken(PayloadError),
}

/// Reads `body` into `read` until it ends or holds more than `limit` bytes. `read` keeps what
/// arrived even if the caller gives up waiting.
pub(super) async fn read_up_to(body: &mut Payload, limit: usize, read: &mut BytesMut) -> BodyEnd {
    while read.len() <= limit {
        match body.recv().await {
            Some(Ok(chunk)) => read.extend_from_slice(&chunk),
            Some(Err(error)) => return BodyEnd::Broken(error),
            None => return BodyEnd::Whole,
        }
    }
    BodyEnd::Over
}

/// `Transfer-Encoding: chunked` (the last coding, as HTTP/1.1 requires of a request body).
fn is_chunked(headers: &hive_router::ntex::http::HeaderMap) -> bool {
    headers
        .get_all("transfer-encoding")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"))
}

/// Reads and discards what is left of `body`, up to `limit` bytes and for at most `wait`, so
/// that a client still writing a refused body gets to read the refusal.
pub(super) async fn drain(body: &mut Payload, limit: usize, wait: Duration) {
    let mut read = 0usize;
    let discard = async {
        while let Some(Ok(chunk)) = body.recv().await {
            read += chunk.len();
            if read > limit {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(wait, discard).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use hive_router::ntex::http::HeaderMap;
    use hive_router::ntex::http::header::{HeaderName, HeaderValue};

    fn headers(codings: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for coding in codings {
            map.append(
                HeaderName::from_static("transfer-encoding"),
                HeaderValue::from_str(coding).unwrap(),
            );
        }
        map
    }

    #[test]
    fn a_body_is_chunked_when_chunked_is_its_last_coding() {
        assert!(is_chunked(&headers(&["chunked"])));
        assert!(is_chunked(&headers(&["gzip, Chunked"])));
        assert!(is_chunked(&headers(&["gzip", "chunked"])));
        assert!(!is_chunked(&headers(&[])));
        assert!(!is_chunked(&headers(&["chunked, gzip"])));
    }
}
