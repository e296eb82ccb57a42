//! The risk subgraph: one credit-bureau check per submitted loan, and its risk level.
//!
//! `loan.submitted.v1` puts a request into a MongoDB work queue ([`events::consume`]); a worker
//! claims it, asks the [`bureau`] (a **simulated** SLIK-style bureau by default, see
//! [`bureau::SimulatedSlik`] and its sandbox of chosen files, [`bureau::sandbox`]), encrypts the
//! raw report with the platform's envelope [`tenor_platform::vault::Vault`], scores and levels
//! the file by versioned rules ([`domain`]), and inserts one evaluation per loan together with
//! its `risk.evaluated.v1` (or, once the bureau has failed until the deadline,
//! `risk.evaluation.failed.v1`) through the MongoDB outbox. Staff read evaluations through the
//! `Loan` entity (`risk:read`) and the decrypted report behind `risk:raw:read`, every read
//! logged ([`schema`]).
//!
//! Reads top-down like every subgraph: [`run`] below starts it; [`schema`] and
//! [`events::consume`] call [`service`], which uses [`domain`], [`store`] and
//! [`events::publish`]. The bureau adapter sits at the crate root because it is an adapter, not
//! a layer.

pub mod bureau;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod events;
pub mod schema;
pub mod service;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;

use anyhow::Context as _;
use tenor_events::kafka;
use tenor_events::{MongoOutboxRelay, MongoPublisher, start_consumer};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::graphql::graphql_router;
use tenor_platform::http::Readiness;
use tenor_platform::runner::{self, Subgraph, Tasks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::RiskConfig;
pub use schema::sdl;

use crate::bureau::{CreditBureau, SimulatedSlik};
use crate::events::LoanEvents;
use crate::service::{RiskService, Settings};

tenor_platform::subgraph! {
    /// What the shared runner needs to know about this subgraph.
    pub struct RiskSubgraph {
        name: "risk",
        config: RiskConfig,
        sdl: schema::sdl,
        run: run,
    }
}

/// Run the service on `listener` until `shutdown` is cancelled, with the simulated bureau.
pub async fn run(
    config: RiskConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with_bureau(config, None, listener, shutdown).await
}

/// Run the service with `bureau` (`None`: the simulated bureau, with its sandbox in this
/// service's database): indexes, the outbox relay, the bureau worker, the `loan.events`
/// consumer, GraphQL, and `/health`, `/ready`, `/metrics`.
pub async fn run_with_bureau(
    config: RiskConfig,
    bureau: Option<Arc<dyn CreditBureau>>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let db = tenor_platform::mongo::database(&config.mongo)
        .await
        .context("connecting to MongoDB")?;
    store::ensure_indexes(&db)
        .await
        .context("creating the risk indexes")?;
    let bureau = bureau.unwrap_or_else(|| {
        Arc::new(SimulatedSlik::new(
            Some(db.clone()),
            config.simulation.clone(),
        ))
    });
    let publisher = MongoPublisher::new(
        tenor_contracts::sources::RISK,
        config.risk_events_topic.clone(),
    );
    let service = RiskService::new(
        db.clone(),
        publisher.clone(),
        config.vault.clone(),
        Settings {
            rules: config.rules.clone(),
            worker: config.worker.clone(),
        },
    );

    let mut tasks = Tasks::new(&shutdown);
    let producer = kafka::producer(&config.kafka).context("creating the Kafka producer")?;
    let relay = MongoOutboxRelay::new(
        &db,
        &[store::evaluations::COLLECTION],
        producer.clone(),
        config.relay.clone(),
        publisher.waker(),
    );
    relay
        .ensure_indexes()
        .await
        .context("creating the outbox index")?;
    tasks.spawn("outbox relay", relay.run(tasks.token()));
    tasks.spawn(
        "bureau worker",
        service.clone().run_worker(bureau, tasks.token()),
    );
    tasks.spawn(
        "request clean-up",
        service.clone().forget_finished_requests(tasks.token()),
    );
    start_consumer(
        &mut tasks,
        "loan consumer",
        &config.consumer,
        Arc::new(LoanEvents::new(service.clone())),
    )?;

    let readiness = Readiness::new()
        .with(tenor_platform::mongo::readiness(db))
        .with(kafka::readiness(producer));
    let app = graphql_router(
        schema::build(service, config.loader_stats.clone()),
        TokenVerifier::new(config.verifier.clone()),
    );
    runner::serve(RiskSubgraph::NAME, listener, app, readiness, tasks).await
}
