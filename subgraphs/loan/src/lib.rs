//! The loan subgraph (docs/conventions.md § Contexts): quotes, applications, credit decisions,
//! schedules, disbursement, repayments and live status subscriptions. The loan service never
//! decides an application itself: credit does, through `credit.decision.made`.
//!
//! Reads top-down: [`schema`] (GraphQL, thin: parse, check scope, call the service, shape the
//! payload) → [`service`] (the use cases, one transaction per change; money moves through a
//! provider outside any transaction, see `service/money_movement.rs`) → [`domain`] (rules and
//! loan maths, pure) / [`store`] (PostgreSQL) / [`events`] (Kafka: publish through the outbox,
//! consume through the inbox, and the live hub subscriptions listen to) / [`providers`] (the
//! payout and payment companies, simulated by default; the service calls them). [`run`] wires
//! it together; [`config`] reads the environment.

pub mod config;
pub mod domain;
pub mod events;
pub mod providers;
pub mod schema;
pub mod service;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;

use anyhow::Context as _;
use tenor_events::{PgInbox, start_consumer, start_outbox_relay};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::graphql::graphql_router_with_subscriptions;
use tenor_platform::http::check;
use tenor_platform::runner::{self, Subgraph as _, Tasks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::LoanConfig;
pub use schema::sdl;

use crate::events::live::LiveHub;
use crate::events::{CONSUMER_GROUP, IncomingEvents, Publisher};
use crate::providers::Providers;
use crate::schema::loaders::LoaderStats;
use crate::service::Loans;

/// The `loans`, `loans_payments`, `loans_review_history`, repayment, money-movement and
/// projection tables.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/loan");

tenor_platform::subgraph! {
    /// The loan subgraph for [`runner::main`].
    pub struct LoanSubgraph {
        name: "loan",
        config: LoanConfig,
        sdl: sdl,
        run: run,
    }
}

/// What [`run_with`] plugs in that is not configuration: the providers and the loader counters.
#[derive(Clone)]
pub struct Wiring {
    pub providers: Providers,
    pub loader_stats: Arc<LoaderStats>,
}

impl Wiring {
    /// SIMULATION: the payout and payment providers are the deterministic simulations until a
    /// real provider is integrated (docs/conventions.md § Contexts).
    pub fn simulated() -> Self {
        Self {
            providers: Providers::simulated(),
            loader_stats: Arc::default(),
        }
    }
}

/// Run the service on `listener` until `shutdown` is cancelled, with the simulated providers.
pub async fn run(
    config: LoanConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with(config, Wiring::simulated(), listener, shutdown).await
}

/// The start-up: migrations and pool → Kafka producer → the service → background tasks (outbox
/// relay, credit/kyc/user consumer, live status and session-revocation consumer, daily
/// due/overdue job, money-movement resumer) → readiness → GraphQL (HTTP + WebSocket) with
/// `/health`, `/ready`, `/metrics` until shutdown.
pub async fn run_with(
    config: LoanConfig,
    wiring: Wiring,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = tenor_events::migrated_pool(&config.db, MIGRATIONS)
        .await
        .context("the loan database")?;
    let publisher = Publisher::new(config.loan_events_topic.clone());
    let loans = Loans::new(
        pool.clone(),
        publisher.clone(),
        config.product.clone(),
        wiring.providers,
        config.applications_per_day,
    );

    let mut tasks = Tasks::new(&shutdown);
    let readiness =
        start_outbox_relay(&mut tasks, &pool, &config.db, &config.kafka, &config.relay)?;
    let incoming = PgInbox::new(pool, CONSUMER_GROUP, IncomingEvents::new(publisher));
    start_consumer(
        &mut tasks,
        "event consumer",
        &config.consumer,
        Arc::new(incoming),
    )?;
    let hub = LiveHub::new().with_subscription_cap(config.live_subscriptions_per_user);
    let live = events::live::run(
        hub.clone(),
        config.kafka.clone(),
        config.loan_events_topic.clone(),
        config.auth_events_topic.clone(),
        tasks.token(),
    );
    tasks.spawn("live consumer", async move {
        if let Err(error) = live.await {
            tracing::error!(error = %format!("{error:#}"), "live consumer stopped");
        }
    });
    tasks.spawn(
        "daily job",
        loans.clone().daily_loop(
            config.reminder_days_before,
            config.daily_job_interval,
            tasks.token(),
        ),
    );
    tasks.spawn(
        "money movement resumer",
        loans.clone().resume_loop(
            config.movements,
            tenor_platform::db::database_name(&config.db.url),
            tasks.token(),
        ),
    );

    let schema = schema::build(loans, hub.clone(), wiring.loader_stats);
    let readiness = readiness.with(check("live-consumer", move || {
        let live = hub.is_live();
        async move {
            if live {
                Ok(())
            } else {
                Err("waiting for loan.events and auth.events partitions".to_owned())
            }
        }
    }));
    let app =
        graphql_router_with_subscriptions(schema, TokenVerifier::new(config.verifier.clone()));
    runner::serve(LoanSubgraph::NAME, listener, app, readiness, tasks).await
}
