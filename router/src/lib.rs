//! The Tenor router: `compose` turns `supergraph.yaml` into a checked `schema/supergraph.graphql`;
//! `serve` runs Hive Router on it with `router/router.config.yaml`.

// ntex's service types nest deeply; release builds need more than the default 128 (hive-router's
// own main sets the same).
#![recursion_limit = "256"]

pub mod compose;
pub mod graphiql;
pub mod operations;
pub mod plugins;
pub mod serve;
