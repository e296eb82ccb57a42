//! The credit subgraph's integration tests, one binary: a module per area, the shared setup
//! from `tenor_credit::testing`. Every test starts its own in-process service on its own
//! database, topics and consumer group and produces credit's input events itself.

pub mod back_office;
mod backlog;
mod data_subject;
mod decisions;
mod exactly_once;
mod human_review;
mod loaders;
mod replay;
mod schema_file;
