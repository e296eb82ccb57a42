//! The user subgraph: profiles, account status and preferences (docs/conventions.md § Contexts).
//!
//! Reads top-down: [`schema`] (GraphQL, thin) → [`changes`] (one transaction per change) →
//! [`domain`] (rules) / [`store`] (PostgreSQL) / [`events`] (Kafka, via the outbox).

pub mod changes;
pub mod config;
pub mod domain;
pub mod events;
pub mod loader;
pub mod schema;
pub mod store;

use std::sync::Arc;

use anyhow::Context as _;
use tenor_events::kafka::{self, producer};
use tenor_events::{EventConsumer, OutboxRelay, PgInbox};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::db::{self, run_migrations};
use tenor_platform::graphql::graphql_router;
use tenor_platform::http::{Readiness, ops_router, serve};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::UserConfig;

use crate::events::{CONSUMER_GROUP, Publisher, RegistrationHandler};
use crate::loader::LoaderStats;

/// The `user_profile` table.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/user");

/// Run the service on `listener` until `shutdown` is cancelled: migrations, the outbox relay,
/// the `user.registered` consumer, and GraphQL plus `/health`, `/ready`, `/metrics`.
pub async fn run(
    config: UserConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_migrations(&config.db.url, vec![tenor_events::MIGRATIONS, MIGRATIONS])
        .await
        .context("migrating the user database")?;
    let pool = db::pool(&config.db).context("connecting to the user database")?;
    let producer = producer(&config.kafka).context("creating the Kafka producer")?;

    let relay = OutboxRelay::new(
        pool.clone(),
        config.db.url.clone(),
        producer.clone(),
        config.relay.clone(),
    );
    let relay = tokio::spawn(relay.run(shutdown.child_token()));

    let consumer = EventConsumer::new(config.consumer.clone()).context("subscribing to Kafka")?;
    let registrations = Arc::new(PgInbox::new(
        pool.clone(),
        CONSUMER_GROUP,
        RegistrationHandler,
    ));
    let consumer = tokio::spawn(consumer.run(registrations, shutdown.child_token()));

    let schema = schema::build(
        pool.clone(),
        Publisher::new(config.user_events_topic.clone()),
        Arc::new(LoaderStats::default()),
    );
    let readiness = Readiness::new()
        .with(db::readiness(pool))
        .with(kafka::readiness(producer));
    let app = graphql_router(schema, TokenVerifier::new(config.verifier.clone()))
        .merge(ops_router(readiness));

    tracing::info!(address = ?listener.local_addr().ok(), "user subgraph serving");
    let served = serve(listener, app, shutdown.clone().cancelled_owned()).await;
    // However serving ended, the background tasks end with it.
    shutdown.cancel();
    let _ = tokio::join!(relay, consumer);
    served.context("serving HTTP")
}
