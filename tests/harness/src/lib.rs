//! The router as it runs in production — the `tenor-router` binary as a child process — in
//! front of real subgraphs running in-process against the stack's PostgreSQL and Kafka. Used by
//! the router's acceptance tests and by `tenor-bench router`.
//!
//! Each [`RouterStack`] has its own databases, topics and signing key; the router gets a config
//! generated from the committed `router/router.config.yaml` with only what must differ per test
//! changed (port, subgraph URLs, JWKS URL, Redis key prefix), written next to the committed file
//! so the relative paths in it keep working.
//!
//! Also used by the system tests (`tests/it`). Layout: [`Subgraphs`] and their accounts
//! (`subgraphs.rs`, `accounts.rs`; credit and risk in [`deciders`], notification in
//! [`notification`]), the router's config (`config.rs`) and process
//! (`router.rs`), HTTP helpers (`client.rs`), where the repository and its binaries are
//! (`workspace.rs`), the WebSocket client ([`ws`]) and shared journeys ([`journeys`]).

pub mod deciders;
pub mod journeys;
pub mod notification;
pub mod ws;

mod accounts;
mod client;
mod config;
mod loan_replica;
mod process;
mod router;
mod subgraphs;
mod workspace;

pub use accounts::{Account, LOGIN, PASSWORD};
pub use client::{error_codes, eventually, post_graphql, post_graphql_via, send_whole_then_read};
pub use config::{Yaml, committed_config, free_port, set, yaml};
pub use deciders::Deciders;
pub use notification::Notifications;
pub use process::ServiceProcess;
pub use router::{Router, RouterStack};
pub use subgraphs::{Subgraphs, Topics};
pub use workspace::{repo_root, workspace_binary};
