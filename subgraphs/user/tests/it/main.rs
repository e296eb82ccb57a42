//! The user subgraph's integration tests, one binary: each module is one former test file, and
//! the service they start comes from `tenor_user::testing` (feature `test-support`). Every test
//! gets its own database, topics and consumer group, so they run in parallel in this process.

mod back_office;
mod data_subject;
mod not_yours;
mod open_loans;
mod profile;
mod request_trace;
mod time_zone;
