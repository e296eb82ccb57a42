//! The credit subgraph (docs/conventions.md § Contexts): internal, external and manual scores
//! of each submitted loan, risk's answer, the versioned rules that decide it, the review queue
//! and the decision, published as `credit.decision.made`.
//!
//! Reads top-down: [`schema`] (GraphQL, thin) → [`service`] (the use cases: intake from the
//! consumer, the automatic decision, the external-score worker, the sweeper, staff and borrower
//! requests) → [`domain`] (rules, internal score, decision — pure) / [`store`] (PostgreSQL) /
//! [`events`] (publish through the outbox, consume through the inbox) / [`providers`] (the
//! external score company, simulated by default). [`replay`] re-runs stored decisions;
//! [`run`] wires it together; [`config`] reads the environment.

pub mod config;
pub mod domain;
pub mod events;
pub mod providers;
pub mod replay;
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
use tenor_platform::runner::{self, Subgraph as _, Tasks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::CreditConfig;
pub use schema::sdl;

use crate::events::{CONSUMER_GROUP, IncomingEvents, Publisher, WakingInbox};
use crate::providers::{ScoreProvider, SimulatedScoreProvider};
use crate::schema::loaders::LoaderStats;
use crate::service::Credit;

/// The score, score list, risk result, decision and projection tables.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/credit");

tenor_platform::subgraph! {
    /// The credit subgraph for [`runner::main`].
    pub struct CreditSubgraph {
        name: "credit",
        config: CreditConfig,
        sdl: sdl,
        run: run,
    }
}

/// What [`run_with`] plugs in that is not configuration: the score provider and the loader
/// counters.
#[derive(Clone)]
pub struct Wiring {
    pub score_provider: Arc<dyn ScoreProvider>,
    pub loader_stats: Arc<LoaderStats>,
}

impl Wiring {
    /// SIMULATION: the external score is the deterministic simulation until a real company is
    /// integrated (docs/conventions.md § Contexts).
    pub fn simulated() -> Self {
        Self {
            score_provider: Arc::new(SimulatedScoreProvider),
            loader_stats: Arc::default(),
        }
    }
}

/// Run the service on `listener` until `shutdown` is cancelled, with the simulated provider.
pub async fn run(
    config: CreditConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with(config, Wiring::simulated(), listener, shutdown).await
}

/// The start-up: migrations and pool → the service → background tasks (outbox relay, the
/// consumer of auth/user/kyc/loan/risk events, the external-score worker, the input-timeout
/// sweeper) → GraphQL with `/health`, `/ready`, `/metrics` until shutdown.
pub async fn run_with(
    config: CreditConfig,
    wiring: Wiring,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = tenor_events::migrated_pool(&config.db, MIGRATIONS)
        .await
        .context("the credit database")?;
    let credit = Credit::new(
        pool.clone(),
        Publisher::new(config.credit_events_topic.clone()),
        config.rules.clone(),
        wiring.score_provider,
        config.settings,
    );

    let mut tasks = Tasks::new(&shutdown);
    let readiness =
        start_outbox_relay(&mut tasks, &pool, &config.db, &config.kafka, &config.relay)?;
    let inbox = PgInbox::new(pool, CONSUMER_GROUP, IncomingEvents::new(credit.clone()));
    start_consumer(
        &mut tasks,
        "event consumer",
        &config.consumer,
        WakingInbox::new(inbox, credit.clone()),
    )?;
    tasks.spawn(
        "external score worker",
        credit.clone().external_loop(tasks.token()),
    );
    tasks.spawn(
        "input sweeper",
        credit.clone().sweep_loop(
            tenor_platform::db::database_name(&config.db.url),
            tasks.token(),
        ),
    );

    let schema = schema::build(credit, wiring.loader_stats);
    let app = graphql_router(schema, TokenVerifier::new(config.verifier.clone()));
    runner::serve(CreditSubgraph::NAME, listener, app, readiness, tasks).await
}
