//! `bearer_scheme`: `Authorization: bearer <token>` read as the token it carries.
//!
//! An authentication scheme's name is case-insensitive (RFC 9110 §11.1), and every subgraph reads
//! it so (`tenor_platform::auth::bearer_token`), but hive-router 0.2.19's JWT lookup matches the
//! configured prefix `Bearer` exactly. A client that wrote `bearer …` was anonymous at the router
//! — guarded fields refused, the per-user rate limit and the revoked-session check skipped —
//! while the subgraphs behind it took the same request as signed in. The header is rewritten to
//! `Bearer <token>` before the engine reads it, so the router and the subgraphs agree.
//!
//! A WebSocket's `connection_init` payload is read by the engine where no plugin can rewrite it;
//! there another spelling still counts as no token, so the socket's guarded operations are
//! refused `UNAUTHENTICATED` (closed, not open).

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use hive_router::ntex::http::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerSchemeConfig {}

pub struct BearerSchemePlugin;

#[hive_router::async_trait]
impl RouterPlugin for BearerSchemePlugin {
    type Config = BearerSchemeConfig;

    fn plugin_name() -> &'static str {
        "bearer_scheme"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let _: BearerSchemeConfig = payload.config()?;
        payload.initialize_plugin(BearerSchemePlugin)
    }

    fn on_http_request<'req>(
        &'req self,
        mut payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let headers = payload.router_http_request.headers();
            if let Some(spelt_right) = headers.get(AUTHORIZATION).and_then(respelt) {
                payload
                    .router_http_request
                    .headers_mut()
                    .insert(AUTHORIZATION, spelt_right);
            }
            payload.proceed()
        })
    }
}

/// `Bearer <token>` for a bearer credential whose scheme is spelt otherwise (`bearer`, `BEARER`);
/// `None` when there is nothing to change: already `Bearer`, another scheme, or not text.
fn respelt(value: &HeaderValue) -> Option<HeaderValue> {
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    if scheme == "Bearer" || !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    HeaderValue::from_str(&format!("Bearer {}", token.trim())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respelt_text(value: &str) -> Option<String> {
        respelt(&HeaderValue::from_str(value).unwrap()).map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn any_spelling_of_bearer_becomes_bearer_and_the_rest_is_left_alone() {
        assert_eq!(
            respelt_text("bearer a.b.c").as_deref(),
            Some("Bearer a.b.c")
        );
        assert_eq!(
            respelt_text("BEARER  a.b.c ").as_deref(),
            Some("Bearer a.b.c")
        );
        assert_eq!(
            respelt_text("bEaReR a.b.c").as_deref(),
            Some("Bearer a.b.c")
        );
        for untouched in [
            "Bearer a.b.c",
            "Basic dXNlcjpwYXNz",
            "bearer",
            "bearerx a.b.c",
        ] {
            assert_eq!(respelt_text(untouched), None, "{untouched}");
        }
    }
}
