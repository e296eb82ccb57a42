//! The Tenor router: `compose` turns `supergraph.yaml` into a checked `schema/supergraph.graphql`;
//! `serve` runs Hive Router on it with `router/router.config.yaml`.

pub mod compose;
pub mod graphiql;
pub mod operations;
pub mod plugins;
pub mod serve;
