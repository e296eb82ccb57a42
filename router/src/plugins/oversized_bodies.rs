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
//! Runs last among the `on_http_request` plugins, after the rate limiter: a client sending
//! one oversized body after another is refused by its bucket before its bytes are drained.
//! `/kyc/` links have their own, larger limit and are answered by `kyc_links` before this.

use std::time::Duration;

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use hive_router::ntex::http::Payload;
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
        payload.initialize_plugin(OversizedBodiesPlugin {
            max_body_bytes,
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
            }
            payload.proceed()
        })
    }
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
