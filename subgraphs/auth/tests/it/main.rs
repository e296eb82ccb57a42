//! The auth subgraph's integration tests, one binary: each module is one behaviour, run
//! against a real auth service started by `tenor_auth::testing` on the stack's PostgreSQL,
//! Kafka and Redis.
//!
//! `secrets_stay_out_of_logs` installs the process-wide tracing subscriber; it shares the
//! process with the others on purpose: their services' logs land in its capture too, so it
//! checks more, never less.

mod biometric_login;
mod data_subject;
mod login_protection;
mod not_yours;
mod operator_commands;
mod registration_rules;
mod schema_file;
mod secrets_stay_out_of_logs;
mod security_events;
mod session_revocation;
mod token_lifecycle;
