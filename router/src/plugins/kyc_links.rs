//! `kyc_links`: the KYC service's signed upload and download links, served through the router.
//!
//! `requestKycUpload` hands the app a single-use link under `KYC_PUBLIC_URL` (`…/kyc/uploads/…`,
//! `…/kyc/downloads/…`). In a deployment only the router is reachable from outside, so the
//! router answers `/kyc/*` by passing the request on to the KYC service: set `KYC_PUBLIC_URL`
//! to the router's public address and the links work from a phone. The router adds nothing and
//! checks nothing here: the link's signature, expiry, single use, size and content type are the
//! KYC service's to check (it answers 403/409/413/415 with a JSON `code`), and its answer comes
//! back as it is.
//!
//! Bodies are buffered, bounded by `max_body_bytes` (a little over KYC's own 5 MiB limit, so KYC
//! still gives its precise 413): ntex's request body is not `Send`, reqwest's must be. They are
//! bounded in time too, by `body_timeout`: the engine's request timeout covers `/graphql` only,
//! and ntex sets no body read rate, so without it a client that sends its head and then a byte
//! now and then would hold a connection, a task and its buffer for as long as it liked.

use std::time::Duration;

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use hive_router::ntex::http::{Method, Response, ResponseBuilder, StatusCode};
use hive_router::ntex::util::{Bytes, BytesMut};
use serde::Deserialize;

use super::oversized_bodies::{BodyEnd, drain, read_up_to};

/// The paths passed on.
pub const PREFIX: &str = "/kyc/";

/// Request headers the KYC service reads; nothing else (no cookies, no Authorization: the link
/// is the credential).
const REQUEST_HEADERS: &[&str] = &["content-type", "content-length", "x-request-id"];
/// Response headers passed back.
const RESPONSE_HEADERS: &[&str] = &[
    "allow",
    "content-type",
    "cache-control",
    "content-disposition",
    "x-content-type-options",
    "x-request-id",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KycLinksConfig {
    /// The KYC service's base address (`http://kyc:4003`), without a path.
    pub upstream: String,
    /// Larger bodies are refused with 413 before anything is sent on.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// How long the KYC service may take to answer.
    #[serde(default = "default_timeout", with = "hive_router::humantime_serde")]
    pub timeout: Duration,
    /// How long the client may take to send its body; slower is answered 408 `BODY_TIMEOUT`.
    /// 60 s carries a 5 MiB photo at about 90 KB/s, a weak mobile link.
    #[serde(
        default = "default_body_timeout",
        with = "hive_router::humantime_serde"
    )]
    pub body_timeout: Duration,
}

fn default_max_body_bytes() -> usize {
    6 * 1024 * 1024
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_body_timeout() -> Duration {
    Duration::from_secs(60)
}

pub struct KycLinksPlugin {
    client: reqwest::Client,
    upstream: String,
    max_body_bytes: usize,
    body_timeout: Duration,
}

#[hive_router::async_trait]
impl RouterPlugin for KycLinksPlugin {
    type Config = KycLinksConfig;

    fn plugin_name() -> &'static str {
        "kyc_links"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: KycLinksConfig = payload.config()?;
        let upstream = config.upstream.trim_end_matches('/').to_owned();
        if !(upstream.starts_with("http://") || upstream.starts_with("https://")) {
            return Err(
                "plugins.tenor.config.kyc_links.config.upstream: not an http(s) URL".into(),
            );
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("plugins.tenor.config.kyc_links: {e}"))?;
        payload.initialize_plugin(KycLinksPlugin {
            client,
            upstream,
            max_body_bytes: config.max_body_bytes,
            body_timeout: config.body_timeout,
        })
    }

    fn on_http_request<'req>(
        &'req self,
        mut payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            if !payload.router_http_request.path().starts_with(PREFIX) {
                return payload.proceed();
            }
            let response = self.pass_on(&mut payload).await;
            payload.end_with_response(response)
        })
    }
}

impl KycLinksPlugin {
    async fn pass_on(&self, payload: &mut OnHttpRequestHookPayload<'_>) -> Response {
        let request = &mut payload.router_http_request;
        let method = match *request.method() {
            Method::GET => reqwest::Method::GET,
            Method::HEAD => reqwest::Method::HEAD,
            Method::PUT => reqwest::Method::PUT,
            _ => return Refused::MethodNotAllowed.response(),
        };
        let mut url = format!("{}{}", self.upstream, request.path());
        if !request.query_string().is_empty() {
            url.push('?');
            url.push_str(request.query_string());
        }
        let mut forward = self.client.request(method, url);
        for name in REQUEST_HEADERS {
            if let Some(value) = request.headers().get(*name).and_then(|v| v.to_str().ok()) {
                forward = forward.header(*name, value);
            }
        }
        let mut body = BytesMut::new();
        let mut incoming = request.take_payload();
        let read = read_up_to(&mut incoming, self.max_body_bytes, &mut body);
        match tokio::time::timeout(self.body_timeout, read).await {
            Ok(BodyEnd::Whole) => {}
            Ok(BodyEnd::Over) => {
                drain(&mut incoming, self.max_body_bytes * DRAIN_FACTOR, DRAIN_FOR).await;
                return Refused::PayloadTooLarge.response();
            }
            Ok(BodyEnd::Broken(_)) => return Refused::BodyUnreadable.response(),
            Err(_) => return Refused::BodyTooSlow.response(),
        }
        let answer = match forward.body(body.to_vec()).send().await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, "KYC service unreachable for a /kyc/ link");
                return Refused::KycUnavailable.response();
            }
        };
        let status =
            StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut reply = ResponseBuilder::new(status);
        for name in RESPONSE_HEADERS {
            if let Some(value) = answer.headers().get(*name).and_then(|v| v.to_str().ok()) {
                reply.header(*name, value);
            }
        }
        match answer.bytes().await {
            Ok(bytes) => reply.body(Bytes::copy_from_slice(&bytes)),
            Err(_) => Refused::KycUnavailable.response(),
        }
    }
}

/// How much of a too-large body is read and thrown away, as a multiple of `max_body_bytes`,
/// and for how long at most, so the client can read the 413 (see [`super::oversized_bodies`]).
const DRAIN_FACTOR: usize = 4;
const DRAIN_FOR: Duration = Duration::from_secs(5);

/// Why the router answered a `/kyc/` link itself.
#[derive(Clone, Copy)]
enum Refused {
    MethodNotAllowed,
    BodyUnreadable,
    BodyTooSlow,
    PayloadTooLarge,
    KycUnavailable,
}

impl Refused {
    /// In the KYC service's own shape (`{"error": {"code", "message"}}`, the message in
    /// Indonesian then English), so the app reads one format whoever refused.
    fn response(self) -> Response {
        let (status, code, message) = match self {
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "Tautan ini hanya menerima GET atau PUT. / This link takes GET or PUT only.",
            ),
            Self::BodyUnreadable => (
                StatusCode::BAD_REQUEST,
                "BODY_UNREADABLE",
                "Isi permintaan tidak dapat dibaca. / The request body could not be read.",
            ),
            Self::BodyTooSlow => (
                StatusCode::REQUEST_TIMEOUT,
                "BODY_TIMEOUT",
                "Unggahan terlalu lambat; coba lagi dengan koneksi yang lebih baik. / The upload was too slow; try again on a better connection.",
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "Ukuran foto terlalu besar. / The image is too large.",
            ),
            Self::KycUnavailable => (
                StatusCode::BAD_GATEWAY,
                "KYC_UNAVAILABLE",
                "Layanan verifikasi sedang tidak tersedia; coba lagi nanti. / The verification service is unavailable; try again later.",
            ),
        };
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        let mut response = ResponseBuilder::new(status);
        if matches!(self, Self::PayloadTooLarge | Self::BodyTooSlow) {
            // Whatever was not read must not be taken for the next request.
            response.force_close();
        }
        if matches!(self, Self::MethodNotAllowed) {
            // Which link this was is the KYC service's to know: a download takes GET, an upload
            // PUT (each answers any other method with its own `Allow`, passed back).
            response.header("allow", "GET, PUT");
        }
        response
            .header("content-type", "application/json")
            .body(Bytes::from(body.to_string()))
    }
}
