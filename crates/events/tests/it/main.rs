//! The event plumbing's integration tests, one binary, on the stack's Kafka and PostgreSQL:
//! the outbox relay and the consumer runner (inbox, retries, dead letters); and, on the stack's
//! MongoDB-compatible server, the in-document outbox and its relay.

mod consumer_runner;
mod mongo_outbox;
mod outbox_relay;
mod support;
