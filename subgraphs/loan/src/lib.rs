//! The loan subgraph (docs/conventions.md § Contexts): quotes, applications, credit decisions,
//! schedules, disbursement, repayments and live status subscriptions. The loan service never decides an
//! application itself: credit does, through `credit.decision.made`.
//!
//! Reads top-down: [`schema`] (GraphQL, thin) and [`live`] (subscriptions) → [`loans`] (one
//! transaction per change) → [`domain`], [`product`], [`schedule`] (rules and arithmetic, pure) /
//! [`store`] (PostgreSQL) / [`events`] (Kafka via the outbox and inbox) / [`providers`]
//! (payout and payment companies, simulated by default).

pub mod config;
pub mod domain;
pub mod events;
pub mod live;
pub mod loans;
pub mod product;
pub mod providers;
pub mod schedule;
pub mod schema;
pub mod store;

use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use tenor_events::kafka::{self, producer};
use tenor_events::{EventConsumer, OutboxRelay, PgInbox};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::db::{self, PgPool, run_migrations};
use tenor_platform::graphql::graphql_router_with_subscriptions;
use tenor_platform::http::{Readiness, check, ops_router, serve};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::LoanConfig;
pub use schema::sdl;

use crate::events::{CONSUMER_GROUP, IncomingEvents, Publisher};
use crate::live::LiveHub;
use crate::loans::{Loans, business_today, run_daily_job};
use crate::providers::{SimulatedPayment, SimulatedPayout};

/// The `loans`, `loans_payments`, `loans_review_history`, repayment and projection tables.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/loan");

/// Run the service on `listener` until `shutdown` is cancelled: migrations, the outbox relay,
/// the credit/kyc/user consumer, the live status and session-revocation consumer, the daily
/// due/overdue job, and
/// GraphQL (HTTP + WebSocket) plus `/health`, `/ready`, `/metrics`.
pub async fn run(
    config: LoanConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_migrations(&config.db.url, vec![tenor_events::MIGRATIONS, MIGRATIONS])
        .await
        .context("migrating the loan database")?;
    let pool = db::pool(&config.db).context("connecting to the loan database")?;
    let producer = producer(&config.kafka).context("creating the Kafka producer")?;
    let publisher = Publisher::new(config.loan_events_topic.clone());

    let relay = OutboxRelay::new(
        pool.clone(),
        config.db.url.clone(),
        producer.clone(),
        config.relay.clone(),
    );
    let relay = tokio::spawn(relay.run(shutdown.child_token()));

    let consumer = EventConsumer::new(config.consumer.clone()).context("subscribing to Kafka")?;
    let incoming = Arc::new(PgInbox::new(
        pool.clone(),
        CONSUMER_GROUP,
        IncomingEvents::new(publisher.clone()),
    ));
    let consumer = tokio::spawn(consumer.run(incoming, shutdown.child_token()));

    let hub = LiveHub::new();
    let live = tokio::spawn(hub.clone().run(
        config.kafka.clone(),
        config.loan_events_topic.clone(),
        config.auth_events_topic.clone(),
        shutdown.child_token(),
    ));

    let daily = tokio::spawn(daily_job(
        pool.clone(),
        publisher.clone(),
        config.clone(),
        shutdown.child_token(),
    ));

    // SIMULATION: the payout and payment providers are the deterministic simulations until a
    // real provider is integrated (docs/conventions.md § Contexts).
    let loans = Loans::new(
        pool.clone(),
        publisher,
        config.product.clone(),
        Arc::new(SimulatedPayout),
        Arc::new(SimulatedPayment),
    );
    let schema = schema::builder().data(loans).data(hub.clone()).finish();
    let readiness = Readiness::new()
        .with(db::readiness(pool))
        .with(kafka::readiness(producer))
        .with(check("live-consumer", move || {
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
        graphql_router_with_subscriptions(schema, TokenVerifier::new(config.verifier.clone()))
            .merge(ops_router(readiness));

    tracing::info!(address = ?listener.local_addr().ok(), "loan subgraph serving");
    let served = serve(listener, app, shutdown.clone().cancelled_owned()).await;
    shutdown.cancel();
    let _ = tokio::join!(relay, consumer, live, daily);
    served.context("serving HTTP")
}

/// Run the due/overdue job now and then every `daily_job_interval`; it is idempotent.
async fn daily_job(
    pool: PgPool,
    publisher: Publisher,
    config: LoanConfig,
    shutdown: CancellationToken,
) {
    loop {
        let today = business_today(Utc::now());
        match run_daily_job(&pool, &publisher, today, config.reminder_days_before).await {
            Ok(report) => tracing::info!(?report, %today, "daily loan job"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "daily loan job failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(config.daily_job_interval) => {}
        }
    }
}
