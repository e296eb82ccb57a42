//! `request_id`: one id per client request, in the response's `x-request-id` and on every
//! subgraph call, so an on-call engineer can follow a request from the app's report through the
//! router's and each subgraph's logs.
//!
//! A well-formed id from the client (or a proxy in front) is kept — the mobile app sends its own
//! so a support ticket can quote it; anything else is replaced, because the value lands in logs.

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::hooks::on_subgraph_execute::{
    OnSubgraphExecuteStartHookPayload, OnSubgraphExecuteStartHookResult,
};
use hive_router::executor::plugins::plugin_trait::{
    EndHookPayload as _, RouterPlugin, StartHookPayload as _,
};
use serde::Deserialize;

pub const HEADER: &str = "x-request-id";

/// The id of the request being served, in the plugin context.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestIdConfig {}

pub struct RequestIdPlugin;

#[hive_router::async_trait]
impl RouterPlugin for RequestIdPlugin {
    type Config = RequestIdConfig;

    fn plugin_name() -> &'static str {
        "request_id"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let _config: RequestIdConfig = payload.config()?;
        payload.initialize_plugin(RequestIdPlugin)
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let incoming = payload
                .router_http_request
                .headers()
                .get(HEADER)
                .and_then(|v| v.to_str().ok());
            let id = accept_or_mint(incoming);
            payload.context.insert(RequestId(id.clone()));
            payload.on_end(move |end| {
                end.map_response(|mut response| {
                    if let Ok(value) = id.parse() {
                        response
                            .headers_mut()
                            .insert(HEADER.parse().unwrap(), value);
                    }
                    response
                })
                .proceed()
            })
        })
    }

    async fn on_subgraph_execute<'exec>(
        &'exec self,
        mut payload: OnSubgraphExecuteStartHookPayload<'exec>,
    ) -> OnSubgraphExecuteStartHookResult<'exec> {
        let id = payload
            .context
            .get_ref::<RequestId>()
            .map(|id| id.0.clone());
        if let Some(id) = id
            && let Ok(value) = id.parse()
        {
            payload.execution_request.headers.insert(HEADER, value);
        }
        payload.proceed()
    }
}

/// Keeps a client id of 8–64 characters from `[A-Za-z0-9._-]`; mints a UUID otherwise.
pub fn accept_or_mint(incoming: Option<&str>) -> String {
    match incoming {
        Some(id)
            if (8..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::accept_or_mint;

    #[test]
    fn keeps_well_formed_ids_and_replaces_the_rest() {
        assert_eq!(accept_or_mint(Some("app-7f3a9c1e")), "app-7f3a9c1e");
        for bad in [
            "short",
            "has space 123",
            "new\nline-injection",
            &"x".repeat(65),
            "",
        ] {
            let minted = accept_or_mint(Some(bad));
            assert_ne!(minted, bad);
            assert!(uuid::Uuid::parse_str(&minted).is_ok());
        }
        assert!(uuid::Uuid::parse_str(&accept_or_mint(None)).is_ok());
    }
}
