//! Tests of the notification subgraph against the real stack (MongoDB, Redis, Kafka, Mailpit).
mod back_office;
mod channels;
mod crash;
mod data_subject;
mod delivery_flow;
mod event_sources;
mod inbox;
mod live;
mod projection;
mod quiet_hours;
mod rate_limit;
mod retries;
mod schedule;
mod schema_file;
mod support;
mod templates;
