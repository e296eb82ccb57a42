//! The system tests, in one binary (each test binary links the whole stack, and the machine has
//! two cores): the local stack, the MongoDB-compatible server, the deployment files, the
//! services as deployed, and journeys across subgraphs.
//!
//! Needs the stack (`./dev up`) and the binaries of this build (`tenor-router` and the services:
//! `cargo build -p tenor-router -p tenor-auth -p tenor-user -p tenor-kyc -p tenor-loan
//! -p tenor-credit -p tenor-risk -p tenor-notification --bins`; credit, risk and notification
//! run as child processes a test can kill).
//! No test here changes process-wide state (environment variables, the working directory,
//! signal handlers): each starts what it needs with its own databases, topics and ports, so the
//! modules run side by side in one process as they did in separate ones.

mod compose_file;
mod credit_decisions;
mod dashboard_statements;
mod data_subject;
mod database_outage;
mod helm_chart;
mod hostile_inputs;
mod identity_journey;
mod journeys;
mod mongo_compat;
mod notifications;
mod service_settings;
mod tracing;
