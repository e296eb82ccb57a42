//! What every Tenor service shares: configuration, telemetry, the operational HTTP endpoints,
//! access-token verification, PostgreSQL plumbing, and the text-input policy — plus the kit every
//! subgraph is written with (docs/architecture.md): the [`runner`] that owns start-up and
//! shutdown, the per-[`request`] span, one [`cursor`], one [`refusal`] shape with one service
//! error, and [`text_enum!`] for status columns.

pub mod auth;
pub mod config;
pub mod crypto;
pub mod cursor;
pub mod db;
pub mod federation;
pub mod graphql;
pub mod http;
pub mod loaders;
pub mod manifest;
pub mod money;
pub mod mongo;
pub mod outage;
pub mod parsed_documents;
pub mod quota;
pub mod refusal;
pub mod request;
pub mod runner;
pub mod status;
pub mod telemetry;
pub mod text;
pub mod vault;

#[cfg(feature = "test-support")]
pub mod testing;

/// The allocator every service binary declares (`#[global_allocator]` in its `main.rs`; a
/// library may not, or the router, which links this crate and hive-router's own, would have
/// two). mimalloc, as hive-router uses for the router: glibc's malloc and free were about 11 %
/// of a benchmark process's CPU with the subgraphs in it (docs/benchmarks.md).
pub use mimalloc::MiMalloc as Allocator;
