//! The risk subgraph's integration tests, one binary. Every test starts its own service
//! (MongoDB database, topics, master key, consumer group, token issuer) through
//! `tenor_risk::testing`, against the stack's real MongoDB (FerretDB) and Kafka.

mod at_rest;
mod crash;
mod data_subject;
mod evaluation_flow;
mod failures;
mod graphql;
mod schema_file;

use std::time::Duration;

use tenor_events::Envelope;
use tenor_risk::testing::TestService;
use uuid::Uuid;

/// The events about `loan` on the risk topic once `n` have arrived, or whatever arrived in
/// `timeout`.
pub async fn events_for(
    service: &TestService,
    loan: Uuid,
    n: usize,
    timeout: Duration,
) -> Vec<Envelope> {
    let about = |events: &[Envelope]| -> Vec<Envelope> {
        events
            .iter()
            .filter(|e| e.subject() == Some(loan.to_string().as_str()))
            .cloned()
            .collect()
    };
    about(
        &service
            .events_within(timeout, |events| about(events).len() >= n)
            .await,
    )
}
