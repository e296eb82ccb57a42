//! `rate_limit`: token buckets in Redis, per client IP and per signed-in user, shared by every
//! router replica (a limit kept in one process's memory would multiply by the replica count).
//!
//! At most one Redis round trip per request (one script call, see `buckets`), and usually none
//! while a bucket has plenty of room: the call that pays a request then also takes a few tokens
//! ahead for this router (a lease, see `leases`), and the next requests on that bucket are paid
//! here. A nearly empty bucket is never leased, so near its limit every request is decided in
//! Redis as before, and replicas together never spend more than the shared budget.
//! - A request without credentials pays its address's token when it arrives (before parsing,
//!   planning or any subgraph call), keyed by the address [`super::client_ip`] trusts. So does
//!   every WebSocket upgrade (the socket's token comes later, in `connection_init`).
//! - A request with an `Authorization` header pays nothing on arrival: once the router has
//!   verified the token (`on_graphql_analysis`, before planning), one call takes the address's
//!   token, checks the session was not revoked and takes the user's token (the key is the
//!   token's `sub`; an unverified token never gets that far, so nobody can spend someone else's
//!   budget). A token the router did not accept counts as anonymous: that call takes the
//!   address's token only.
//! - Every operation on a WebSocket (subscriptions included) pays its user's token the same
//!   way, once the engine has verified the token from `connection_init`.
//! - A request with credentials that never gets that far (refused while parsing or validating;
//!   with inbound dedupe on, joined to an identical request in flight) pays its address's token
//!   when its response has gone, so junk requests are not free.
//! - An address Redis said is out of tokens is refused on arrival, without Redis, until the
//!   token Redis announced is due (`limited_ips`): a flood from one address costs Redis one call
//!   per refill, not one per request.
//!
//! Over the limit: HTTP 429, `Retry-After` (whole seconds), and a GraphQL error with
//! `extensions.code = RATE_LIMITED` and `retryAfterMs`. If Redis is unreachable the request is
//! let through and a warning logged: a limiter outage must not become an API outage. A hung
//! Redis delays a request by at most twice `redis_timeout`.
//!
//! Revoked sessions: the per-user call also asks whether the token's session (`sid`) was
//! revoked — auth sets `<revocation_prefix>:session:<sid>` for every session it ends (logout,
//! revoke, password change, refresh reuse, account blocked or deleted) for as long as an access
//! token of that session can live. Such a token is refused with `401 UNAUTHENTICATED` at once,
//! instead of working until it expires. A request paid from a lease is not asked about in Redis;
//! it is refused all the same, because auth also announces every revoked session on a Redis
//! channel this router listens to, and a session is trusted between calls only while that
//! subscription is known to deliver (`revocations`).
//!
//! Each worker thread has its own Redis connection, driven by that worker's own runtime: one
//! busy worker cannot stall the limiter on the others (a single shared connection would have its
//! I/O driven by whichever worker happened to create it). Requests that wait on one worker at
//! the same moment share its next script call (`trips`): under load, one round trip serves many
//! requests, each still decided exactly as if alone.
//!
//! Here: the configuration, the hooks and the refusals; the buckets in Redis are in `buckets`,
//! the round trips in `trips`, the tokens taken ahead in `leases`, the revocations heard in
//! `revocations`.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hive_router::GraphQLError;
use hive_router::PlanExecutionOutput;
use hive_router::executor::execution::client_request_details::JwtRequestDetails;
use hive_router::executor::plugin_context::PluginContext;
use hive_router::executor::plugins::hooks::on_graphql_analysis::{
    OnGraphqlAnalysisHookPayload, OnGraphqlAnalysisHookResult,
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
use hive_router::sonic_rs::JsonValueTrait as _;
use serde::Deserialize;
use serde_with::{DisplayFromStr, PickFirst, serde_as};

use super::client_ip::ClientIp;
use super::is_websocket_upgrade;
use super::refusal::Refusal;

mod buckets;
mod leases;
mod limited_ips;
mod revocations;
mod trips;

use buckets::{Buckets, Charge, Verdict};

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
    /// How many out-of-tokens addresses this router remembers at once (see `limited_ips`).
    #[serde(default = "default_remembered_ips")]
    pub remembered_ips: usize,
    /// How long tokens this router takes ahead from a roomy bucket stay spendable here (see
    /// `leases`); `0s` decides every request in Redis.
    #[serde(default = "default_lease_for", with = "hive_router::humantime_serde")]
    pub lease_for: Duration,
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

const MOST_LEASE_FOR: Duration = Duration::from_secs(3600);

fn default_lease_for() -> Duration {
    Duration::from_secs(1)
}

/// About 1 MiB at most; a flood from more addresses than this still meets Redis.
fn default_remembered_ips() -> usize {
    16_384
}

pub struct RateLimitPlugin {
    /// Only GraphQL requests (HTTP and WebSocket upgrades) are limited; probes and static
    /// GraphiQL files are not.
    graphql_path: String,
    /// Shared with the charges made after a response has gone.
    buckets: Arc<Buckets>,
}

/// Set when a request was refused, so the HTTP response gets `Retry-After`.
#[derive(Debug, Clone, Copy)]
struct Refused {
    retry_after_ms: u64,
}

/// A request with credentials whose address has not paid yet: the analysis stage pays it
/// together with the user's token, or the end of the request does.
struct AddressUnpaid {
    ip: IpAddr,
    unpaid: AtomicBool,
}

/// The address still to charge for this request, if any; from now on it counts as paid.
fn take_unpaid_address(context: &PluginContext) -> Option<IpAddr> {
    let entry = context.get_ref::<AddressUnpaid>()?;
    entry
        .unpaid
        .swap(false, Ordering::AcqRel)
        .then_some(entry.ip)
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
                    "plugins.tenor.config.rate_limit.config.{name}: capacity and refill_per_second must be positive"
                )
                .into());
            }
        }
        // Longer would strand tokens for longer than any limit here is meant to span.
        if config.lease_for > MOST_LEASE_FOR {
            return Err(format!(
                "plugins.tenor.config.rate_limit.config.lease_for: at most {}",
                humantime::format_duration(MOST_LEASE_FOR)
            )
            .into());
        }
        let buckets = Buckets::open(&config)
            .map_err(|e| format!("plugins.tenor.config.rate_limit.config.redis_url: {e}"))?;
        let graphql_path = payload.router_config().http.graphql_endpoint.clone();
        payload.initialize_plugin(RateLimitPlugin {
            graphql_path,
            buckets: Arc::new(buckets),
        })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            if request.path() != self.graphql_path {
                return payload.proceed();
            }
            let ip = payload.context.get_ref::<ClientIp>().map(|ip| ip.0);
            if let Some(ip) = ip {
                if let Some(wait) = self.buckets.known_limited(ip) {
                    let retry_after_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                    return payload.end_with_response(refused_response(retry_after_ms.max(1)));
                }
                let headers = request.headers();
                let pays_later =
                    headers.contains_key("authorization") && !is_websocket_upgrade(headers);
                if pays_later {
                    payload.context.insert(AddressUnpaid {
                        ip,
                        unpaid: AtomicBool::new(true),
                    });
                } else if let Verdict::IpLimited { retry_after_ms } = self
                    .buckets
                    .take(Charge {
                        ip: Some(ip),
                        ..Charge::default()
                    })
                    .await
                {
                    return payload.end_with_response(refused_response(retry_after_ms));
                }
            }
            let buckets = self.buckets.clone();
            payload.on_end(move |end| {
                if let Some(ip) = take_unpaid_address(end.context) {
                    // Never analysed (refused while parsing, validating, ...): the address pays
                    // now, off the response's path.
                    hive_router::ntex::rt::spawn(async move {
                        buckets
                            .take(Charge {
                                ip: Some(ip),
                                ..Charge::default()
                            })
                            .await;
                    });
                }
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

    /// The first hook every operation reaches once the engine has verified its token —
    /// subscriptions included (the engine runs `on_execute` for queries and mutations only).
    async fn on_graphql_analysis<'exec>(
        &'exec self,
        payload: &mut OnGraphqlAnalysisHookPayload<'exec>,
    ) -> OnGraphqlAnalysisHookResult {
        let ip = take_unpaid_address(payload.context);
        let claims = claims_of(payload.client_request_details.jwt.as_ref());
        let charge = Charge {
            ip,
            user: claims.as_ref().map(|c| c.sub),
            session: claims.as_ref().and_then(|c| c.sid),
        };
        let (error, status) = match self.buckets.take(charge).await {
            Verdict::Allowed => return OnGraphqlAnalysisHookResult::Proceed,
            Verdict::IpLimited { retry_after_ms } | Verdict::UserLimited { retry_after_ms } => {
                payload.context.insert(Refused { retry_after_ms });
                (rate_limited(retry_after_ms), StatusCode::TOO_MANY_REQUESTS)
            }
            Verdict::SessionRevoked => (session_revoked(), StatusCode::UNAUTHORIZED),
        };
        OnGraphqlAnalysisHookResult::EndWithResponse(PlanExecutionOutput {
            body: serde_json::to_vec(&serde_json::json!({ "errors": [error] }))
                .expect("a GraphQL error serialises"),
            error_count: 1,
            status_code: status,
        })
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

/// What the limiter (and [`super::live_caps`]) needs from a token.
#[derive(Debug, PartialEq)]
pub(super) struct Claims<'a> {
    pub(super) sub: &'a str,
    pub(super) sid: Option<&'a str>,
}

/// The subject and session of the token the engine verified for this very request, read from
/// the claims the engine already decoded (the token is not decoded a second time). `None` when
/// the request is anonymous or its token has no string `sub`.
pub(super) fn claims_of(jwt: &JwtRequestDetails) -> Option<Claims<'_>> {
    let JwtRequestDetails::Authenticated { claims, .. } = jwt else {
        return None;
    };
    Some(Claims {
        sub: claims.get("sub").and_then(|sub| sub.as_str())?,
        sid: claims.get("sid").and_then(|sid| sid.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(claims: &str) -> JwtRequestDetails {
        JwtRequestDetails::Authenticated {
            token: "not read".to_owned(),
            prefix: None,
            claims: hive_router::sonic_rs::from_str(claims).unwrap(),
            scopes: None,
        }
    }

    #[test]
    fn subject_and_session_come_from_the_verified_claims() {
        let jwt = verified(
            r#"{"sub":"0192a7f0-0000-7000-8000-000000000001","sid":"s-1","scope":"loan:apply"}"#,
        );
        assert_eq!(
            claims_of(&jwt),
            Some(Claims {
                sub: "0192a7f0-0000-7000-8000-000000000001",
                sid: Some("s-1"),
            })
        );
        let no_session = verified(r#"{"sub":"u-1"}"#);
        assert_eq!(
            claims_of(&no_session),
            Some(Claims {
                sub: "u-1",
                sid: None
            })
        );
        // No string subject: nobody to charge as a user (the address still pays).
        assert_eq!(claims_of(&verified(r#"{"sub":7,"sid":"s-1"}"#)), None);
        assert_eq!(claims_of(&verified("{}")), None);
        assert_eq!(claims_of(&JwtRequestDetails::Unauthenticated), None);
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
