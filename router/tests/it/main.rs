//! The router's integration tests, one binary (`cargo test -p tenor-router --test it`): the real
//! `tenor-router` binary in front of real subgraphs (see `common`), plus the checks on the
//! committed supergraph and configuration.
//!
//! Tests run in parallel threads of this one process. Nothing here depends on process-wide
//! state: every router is a child process with its own port, config file and Redis key prefix,
//! and environment variables are only ever passed to those children.
//!
//! Filter by module, e.g. `cargo test -p tenor-router --test it hostile::` or `edge::access::`.

mod common;
mod config;
mod edge;
mod graphiql_browser;
mod graphiql_operations;
mod graphql_http_audit;
mod hostile;
mod kyc;
mod live_caps;
mod loan;
mod rate_limit;
mod supergraph;
mod websocket;
