//! The user subgraph: profiles, account status and preferences (docs/conventions.md § Contexts).
//!
//! Reads top-down: [`run`] starts it; [`schema`] (GraphQL, thin) → [`service`] (the use cases,
//! one transaction per change) → [`domain`] (rules, no I/O) / [`store`] (PostgreSQL) /
//! [`events`] (Kafka via the outbox: what it publishes, and the registrations it consumes).

pub mod config;
pub mod domain;
pub mod events;
pub mod schema;
pub mod service;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;

use anyhow::Context as _;
use tenor_events::{PgInbox, start_consumer, start_outbox_relay};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::graphql::graphql_router;
use tenor_platform::runner::{self, Subgraph, Tasks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::UserConfig;

use crate::events::{CONSUMER_GROUP, IncomingEvents, Publisher};
use crate::schema::loaders::LoaderStats;
use crate::service::UserService;

/// The `user_profile` table.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/user");

tenor_platform::subgraph! {
    /// The user subgraph as the runner sees it.
    pub struct UserSubgraph {
        name: "user",
        config: UserConfig,
        sdl: schema::sdl,
        run: run,
    }
}

/// Run the service on `listener` until `shutdown` is cancelled: migrations, the outbox relay,
/// the consumer of `user.registered` and `loan.status.changed`, and GraphQL plus `/health`, `/ready`, `/metrics`.
pub async fn run(
    config: UserConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = tenor_events::migrated_pool(&config.db, MIGRATIONS)
        .await
        .context("the user database")?;
    let service = UserService::new(
        pool.clone(),
        Publisher::new(config.user_events_topic.clone()),
    );

    let mut tasks = Tasks::new(&shutdown);
    let readiness =
        start_outbox_relay(&mut tasks, &pool, &config.db, &config.kafka, &config.relay)?;
    let incoming = PgInbox::new(pool, CONSUMER_GROUP, IncomingEvents);
    start_consumer(
        &mut tasks,
        "event consumer",
        &config.consumer,
        Arc::new(incoming),
    )?;

    let schema = schema::build(service, Arc::new(LoaderStats::default()));
    let app = graphql_router(schema, TokenVerifier::new(config.verifier.clone()));
    runner::serve(UserSubgraph::NAME, listener, app, readiness, tasks).await
}
