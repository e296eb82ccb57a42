//! `rate_limit`: token buckets in Redis, per client IP and per signed-in user, shared by every
//! router replica (a limit kept in one process's memory would multiply by the replica count).
//!
//! - Per IP, checked when the HTTP request arrives (before parsing, planning or any subgraph
//!   call), keyed by the address [`super::client_ip`] trusts.
//! - Per user, checked once the router has verified the token (the key is the token's `sub`; an
//!   unverified token never reaches this check, so nobody can spend someone else's budget).
//!
//! Over the limit: HTTP 429, `Retry-After` (whole seconds), and a GraphQL error with
//! `extensions.code = RATE_LIMITED` and `retryAfterMs`. If Redis is unreachable the request is
//! let through and a warning logged: a limiter outage must not become an API outage.
//!
//! Revoked sessions: the per-user round trip also asks whether the token's session (`sid`) was
//! revoked — auth sets `<revocation_prefix>:session:<sid>` for every session it ends (logout,
//! revoke, password change, refresh reuse, account blocked or deleted) for as long as an access
//! token of that session can live. Such a token is refused with `401 UNAUTHENTICATED` at once,
//! instead of working until it expires.
//!
//! Each worker thread has its own Redis connection, driven by that worker's own runtime: one
//! busy worker cannot stall the limiter on the others (a single shared connection would have its
//! I/O driven by whichever worker happened to create it).
//!
//! Here: the configuration, the hooks and the refusals; the buckets in Redis are in `buckets`.

use std::time::Duration;

use base64::Engine as _;
use hive_router::GraphQLError;
use hive_router::executor::plugins::hooks::on_execute::{
    OnExecuteStartHookPayload, OnExecuteStartHookResult,
};
use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{
    EndHookPayload as _, RouterPlugin, StartHookPayload as _,
};
use hive_router::http::StatusCode;
use hive_router::ntex::http::Response;
use serde::Deserialize;
use serde_with::{DisplayFromStr, PickFirst, serde_as};

use super::client_ip::ClientIp;
use super::refusal::Refusal;

mod buckets;

use buckets::{Buckets, Verdict};

/// `from_env` placeholders hand plugins strings; numbers are accepted in either form.
#[serde_as]
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Requests allowed in a burst.
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub capacity: u32,
    /// Tokens added back per second (the sustained rate).
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub refill_per_second: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub redis_url: String,
    /// Namespaces the keys (one Redis for several environments, or for parallel tests).
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    pub per_ip: Bucket,
    pub per_user: Bucket,
    /// How long one Redis round trip may take before the request is let through.
    #[serde(default = "default_timeout", with = "hive_router::humantime_serde")]
    pub redis_timeout: Duration,
    /// Where auth lists revoked sessions: `<prefix>:session:<sid>`.
    #[serde(default = "default_revocation_prefix")]
    pub revocation_prefix: String,
}

fn default_prefix() -> String {
    "tenor:ratelimit".to_owned()
}

fn default_revocation_prefix() -> String {
    "tenor:revoked".to_owned()
}

fn default_timeout() -> Duration {
    Duration::from_millis(200)
}

pub struct RateLimitPlugin {
    config: RateLimitConfig,
    /// Only GraphQL requests (HTTP and WebSocket upgrades) are limited; probes and static
    /// GraphiQL files are not.
    graphql_path: String,
    buckets: Buckets,
}

/// Set when a request was refused, so the HTTP response gets `Retry-After`.
#[derive(Debug, Clone, Copy)]
struct Refused {
    retry_after_ms: u64,
}

#[hive_router::async_trait]
impl RouterPlugin for RateLimitPlugin {
    type Config = RateLimitConfig;

    fn plugin_name() -> &'static str {
        "rate_limit"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: RateLimitConfig = payload.config()?;
        for (name, bucket) in [("per_ip", config.per_ip), ("per_user", config.per_user)] {
            if bucket.capacity == 0 || bucket.refill_per_second <= 0.0 {
                return Err(format!(
                    "plugins.rate_limit.config.{name}: capacity and refill_per_second must be positive"
                )
                .into());
            }
        }
        let buckets = Buckets::open(&config)
            .map_err(|e| format!("plugins.rate_limit.config.redis_url: {e}"))?;
        let graphql_path = payload.router_config().http.graphql_endpoint.clone();
        payload.initialize_plugin(RateLimitPlugin {
            config,
            graphql_path,
            buckets,
        })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            if payload.router_http_request.path() != self.graphql_path {
                return payload.proceed();
            }
            let ip = payload.context.get_ref::<ClientIp>().map(|ip| ip.0);
            if let Some(ip) = ip
                && let Verdict::Limited { retry_after_ms } = self
                    .buckets
                    .take(&format!("ip:{ip}"), self.config.per_ip, None)
                    .await
            {
                return payload.end_with_response(refused_response(retry_after_ms));
            }
            payload.on_end(|end| {
                let refused = end.context.get_ref::<Refused>().map(|r| *r);
                end.map_response(|mut response| {
                    if let Some(refused) = refused {
                        let secs = retry_after_secs(refused.retry_after_ms);
                        response
                            .headers_mut()
                            .insert("retry-after".parse().unwrap(), secs.into());
                    }
                    response
                })
                .proceed()
            })
        })
    }

    async fn on_execute<'exec>(
        &'exec self,
        payload: OnExecuteStartHookPayload<'exec>,
    ) -> OnExecuteStartHookResult<'exec> {
        let authenticated = payload
            .request_context
            .read()
            .ok()
            .and_then(|ctx| ctx.authentication().jwt_status().copied())
            .unwrap_or(false);
        if !authenticated {
            return payload.proceed();
        }
        let Some(claims) = verified_claims(payload.router_http_request.headers) else {
            return payload.proceed();
        };
        let revocation_key = claims
            .sid
            .as_deref()
            .map(|sid| format!("{}:session:{sid}", self.config.revocation_prefix));
        match self
            .buckets
            .take(
                &format!("user:{}", claims.sub),
                self.config.per_user,
                revocation_key.as_deref(),
            )
            .await
        {
            Verdict::Limited { retry_after_ms } => {
                payload.context.insert(Refused { retry_after_ms });
                payload.end_with_graphql_error(
                    rate_limited(retry_after_ms),
                    StatusCode::TOO_MANY_REQUESTS,
                )
            }
            Verdict::SessionRevoked => {
                payload.end_with_graphql_error(session_revoked(), StatusCode::UNAUTHORIZED)
            }
            Verdict::Allowed => payload.proceed(),
        }
    }
}

fn session_revoked() -> GraphQLError {
    GraphQLError::from_message_and_code("This session has ended: sign in again", "UNAUTHENTICATED")
}

const RATE_LIMITED: &str = "RATE_LIMITED";
const RATE_LIMITED_MESSAGE: &str = "Too many requests: slow down and retry later";

/// `Retry-After` in whole seconds, at least 1.
fn retry_after_secs(retry_after_ms: u64) -> u64 {
    retry_after_ms.div_ceil(1000).max(1)
}

fn rate_limited(retry_after_ms: u64) -> GraphQLError {
    let mut error = GraphQLError::from_message_and_code(RATE_LIMITED_MESSAGE, RATE_LIMITED);
    error
        .extensions
        .extensions
        .insert("retryAfterMs".to_owned(), retry_after_ms.into());
    error
}

fn refused_response(retry_after_ms: u64) -> Response {
    Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        RATE_LIMITED,
        RATE_LIMITED_MESSAGE,
    )
    .extension("retryAfterMs", retry_after_ms)
    .header("retry-after", retry_after_secs(retry_after_ms).to_string())
    .response()
}

/// What the limiter needs from a token.
#[derive(Debug, PartialEq, Deserialize)]
struct Claims {
    sub: String,
    sid: Option<String>,
}

/// The claims of the bearer token in `headers`. Only called after the router verified that very
/// token for this request, so reading the payload without checking the signature again is safe.
fn verified_claims(headers: &hive_router::ntex::http::HeaderMap) -> Option<Claims> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_and_session_come_from_the_bearer_token_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            br#"{"sub":"0192a7f0-0000-7000-8000-000000000001","sid":"s-1","scope":"loan:apply"}"#,
        );
        let mut headers = hive_router::ntex::http::HeaderMap::new();
        headers.insert(
            "authorization".parse().unwrap(),
            format!("Bearer eyJhbGciOiJFUzI1NiJ9.{payload}.sig")
                .parse()
                .unwrap(),
        );
        assert_eq!(
            verified_claims(&headers),
            Some(Claims {
                sub: "0192a7f0-0000-7000-8000-000000000001".to_owned(),
                sid: Some("s-1".to_owned()),
            })
        );
        headers.insert(
            "authorization".parse().unwrap(),
            "Basic abc".parse().unwrap(),
        );
        assert_eq!(verified_claims(&headers), None);
    }

    #[test]
    fn numbers_from_the_environment_arrive_as_strings() {
        let bucket: Bucket = serde_json::from_value(
            serde_json::json!({ "capacity": "200", "refill_per_second": "2.5" }),
        )
        .unwrap();
        assert_eq!(
            bucket,
            Bucket {
                capacity: 200,
                refill_per_second: 2.5
            }
        );
        let bucket: Bucket =
            serde_json::from_value(serde_json::json!({ "capacity": 7, "refill_per_second": 3 }))
                .unwrap();
        assert_eq!(
            bucket,
            Bucket {
                capacity: 7,
                refill_per_second: 3.0
            }
        );
        let bad = serde_json::from_value::<Bucket>(
            serde_json::json!({ "capacity": "many", "refill_per_second": 1 }),
        );
        assert!(bad.is_err());
    }
}
