//! Our Hive Router plugins. Each is switched on by a `plugins.<name>` block in the router config
//! and registered in [`crate::serve::plugins`].
//!
//! Order matters where they share request state: `client_ip` and `request_id` run first and put
//! what they learn into the request's plugin context for `rate_limit` and the subgraph calls.

pub mod client_ip;
pub mod error_codes;
pub mod rate_limit;
pub mod request_id;
