//! What every Tenor service shares: configuration, telemetry, the operational HTTP endpoints,
//! access-token verification, and PostgreSQL plumbing.

pub mod auth;
pub mod config;
pub mod db;
pub mod federation;
pub mod graphql;
pub mod http;
pub mod mongo;
pub mod telemetry;

#[cfg(feature = "test-support")]
pub mod testing;
