//! Our Hive Router plugins. The engine runs one, [`tenor::TenorPlugin`] (registered in
//! [`crate::serve::plugins`]), which calls the others in order; each is switched on by its block
//! `plugins.tenor.config.<name>` in the router config.
//!
//! Order matters where they share request state: `client_ip` and `request_id` run first and put
//! what they learn into the request's plugin context for `rate_limit` and the subgraph calls.
//! `live_caps` runs before `rate_limit`, so a WebSocket over the router's cap costs no Redis
//! round trip.
//!
//! A plugin that answers a request itself, before the engine has it, builds the error response
//! with `refusal`.

pub mod bearer_scheme;
pub mod client_ip;
pub mod error_codes;
pub mod json_guard;
pub mod known_paths;
pub mod kyc_links;
pub mod live_caps;
pub mod operation_checks;
pub mod oversized_bodies;
pub mod rate_limit;
mod refusal;
pub mod request_id;
mod syntax;
pub mod tenor;
pub mod worker_watchdog;

/// Set in the plugin context once [`operation_checks`] has checked an operation from its
/// already-parsed parameters (WebSocket), so the parse-time check does not run twice. HTTP
/// requests each have their own context and never carry it.
#[derive(Debug, Clone, Copy)]
pub struct CheckedFromParams;

/// `Upgrade: websocket`: a GraphQL WebSocket being opened (its credentials come later, in
/// `connection_init`).
fn is_websocket_upgrade(headers: &hive_router::ntex::http::HeaderMap) -> bool {
    headers
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}
