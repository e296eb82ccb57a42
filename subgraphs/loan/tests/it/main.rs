//! The loan subgraph's integration tests, one binary (one link, one template database per run):
//! a module per area, the shared setup from `tenor_loan::testing` and [`support`].
//!
//! Every test starts its own in-process service on its own database, topics and consumer group,
//! so they run in parallel; none changes process-wide state (no `set_var`).

mod applications;
mod atomicity;
mod data_subject;
mod human_review;
mod lifecycle;
mod live;
mod loaders;
mod money_movement;
mod not_yours;
mod payout_guard;
mod schema_file;
mod search;
mod support;
