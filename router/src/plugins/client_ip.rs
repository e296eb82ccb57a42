//! `client_ip`: decides who the client is, once, at the edge.
//!
//! Subgraphs throttle logins per source address and record it in audit rows; they read the first
//! `X-Forwarded-For` hop. Taken from the client that would be whatever the client wrote, so the
//! router overwrites the header on every subgraph call with the address it trusts: the TCP peer,
//! or — when `trusted_hops` proxies (a load balancer) sit in front — the address the outermost
//! trusted proxy saw. The same address keys the per-IP rate limit.

use std::net::IpAddr;

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::hooks::on_subgraph_execute::{
    OnSubgraphExecuteStartHookPayload, OnSubgraphExecuteStartHookResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use serde::Deserialize;
use serde_with::{DisplayFromStr, PickFirst, serde_as};

/// The client's address as the router trusts it, in the plugin context.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientIpConfig {
    /// How many proxies in front of the router append to `X-Forwarded-For`. 0: the router is the
    /// edge and the TCP peer is the client. A number, or a string from `from_env`.
    #[serde(default)]
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub trusted_hops: usize,
}

pub struct ClientIpPlugin {
    trusted_hops: usize,
}

#[hive_router::async_trait]
impl RouterPlugin for ClientIpPlugin {
    type Config = ClientIpConfig;

    fn plugin_name() -> &'static str {
        "client_ip"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: ClientIpConfig = payload.config()?;
        payload.initialize_plugin(ClientIpPlugin {
            trusted_hops: config.trusted_hops,
        })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            let forwarded = request
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(",");
            let peer = request.peer_addr().map(|a| a.ip());
            if let Some(ip) = client_ip(peer, &forwarded, self.trusted_hops) {
                payload.context.insert(ClientIp(ip));
            }
            payload.proceed()
        })
    }

    async fn on_subgraph_execute<'exec>(
        &'exec self,
        mut payload: OnSubgraphExecuteStartHookPayload<'exec>,
    ) -> OnSubgraphExecuteStartHookResult<'exec> {
        let headers = &mut payload.execution_request.headers;
        headers.remove("x-forwarded-for");
        let ip = payload.context.get_ref::<ClientIp>().map(|ip| ip.0);
        if let Some(ip) = ip
            && let Ok(value) = ip.to_string().parse()
        {
            headers.insert("x-forwarded-for", value);
        }
        payload.proceed()
    }
}

/// With `trusted_hops` proxies in front, the client is the hop that many places from the right
/// end of `X-Forwarded-For` (each proxy appends the address it saw); hops further left were
/// written by the client and prove nothing. Without trusted proxies, the TCP peer.
pub fn client_ip(peer: Option<IpAddr>, forwarded: &str, trusted_hops: usize) -> Option<IpAddr> {
    if trusted_hops == 0 {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    // The last trusted proxy is the peer; it appended what it saw, and so on leftwards.
    let index = hops.len().checked_sub(trusted_hops)?;
    hops.get(index)?.parse().ok().or(peer)
}

#[cfg(test)]
mod tests {
    use super::client_ip;

    #[test]
    fn at_the_edge_the_peer_is_the_client_whatever_the_header_says() {
        let peer = "203.0.113.7".parse().ok();
        assert_eq!(client_ip(peer, "1.2.3.4", 0), peer);
        assert_eq!(client_ip(peer, "", 0), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_hop_they_saw_is_the_client() {
        let lb = "10.0.0.2".parse().ok();
        // The client forged "1.2.3.4"; the load balancer appended the real address.
        assert_eq!(
            client_ip(lb, "1.2.3.4, 198.51.100.9", 1),
            "198.51.100.9".parse().ok()
        );
        assert_eq!(
            client_ip(lb, "1.2.3.4, 198.51.100.9, 10.0.0.1", 2),
            "198.51.100.9".parse().ok()
        );
        // Fewer hops than trusted proxies: the header is incomplete, trust nothing in it.
        assert_eq!(client_ip(lb, "", 1), None);
    }
}
