//! What every Tenor service shares: configuration, telemetry, the operational HTTP endpoints,
//! access-token verification, PostgreSQL plumbing, and the text-input policy.

pub mod auth;
pub mod config;
pub mod db;
pub mod federation;
pub mod graphql;
pub mod http;
pub mod mongo;
pub mod telemetry;
pub mod text;

#[cfg(feature = "test-support")]
pub mod testing;
