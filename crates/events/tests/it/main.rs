//! The event plumbing's integration tests, one binary, on the stack's Kafka and PostgreSQL:
//! the outbox relay and the consumer runner (inbox, retries, dead letters).

mod consumer_runner;
mod outbox_relay;
mod support;
