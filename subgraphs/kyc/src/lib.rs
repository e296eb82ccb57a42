//! The KYC subgraph: encrypted KTP/SIM/NPWP and selfie intake, document-number validation,
//! verification through a vendor (simulated by default), back-office review, expiry, and
//! field-level PII access with an access log (docs/conventions.md § Contexts, § Security model).
//!
//! Reads top-down, as every subgraph does: [`run`] below starts it; [`schema`] (GraphQL, thin)
//! and [`http`] (the signed upload/download routes) call [`service`] (one use case per file, on
//! [`service::KycService`]), which uses [`domain`] (pure rules and refusals), [`store`]
//! (PostgreSQL) and [`events`] (Kafka, via the outbox).
//!
//! Specific to KYC, at the crate root because they are adapters rather than layers: [`crypto`]
//! (envelope encryption, blind index, URL signatures), [`storage`] (encrypted object storage)
//! and [`vendor`] (the verification provider, also reachable as `verification`, its former path).

pub mod config;
pub mod crypto;
pub mod domain;
pub mod events;
pub mod http;
pub mod schema;
pub mod service;
pub mod storage;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod vendor;

pub use vendor as verification;

use std::sync::Arc;

use anyhow::Context as _;
use tenor_events::{PgInbox, start_consumer, start_outbox_relay};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::db;
use tenor_platform::graphql::graphql_router;
use tenor_platform::http::check;
use tenor_platform::runner::{self, Subgraph, Tasks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::KycConfig;
pub use schema::sdl;

use crate::events::{AccountEvents, CONSUMER_GROUP, Publisher};
use crate::service::{KycService, Settings};
use crate::storage::ObjectVault;
use crate::vendor::{KycVerifier, SimulatedKycVendor};

/// `user_kyc`, `kyc_uploads`, `kyc_document_claims`, `kyc_reviews`, `pii_access_log`.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/kyc");

tenor_platform::subgraph! {
    /// What the shared runner needs to know about this subgraph.
    pub struct KycSubgraph {
        name: "kyc",
        config: KycConfig,
        sdl: schema::sdl,
        run: run,
    }
}

/// Run the service on `listener` until `shutdown` is cancelled, with the simulated vendor.
pub async fn run(
    config: KycConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with_vendor(config, Arc::new(SimulatedKycVendor), listener, shutdown).await
}

/// Run the service with `vendor`: migrations, the outbox relay, the deleted-account consumer,
/// the verification worker, the expiry job, GraphQL, the signed upload/download routes, and `/health`, `/ready`, `/metrics`.
pub async fn run_with_vendor(
    config: KycConfig,
    vendor: Arc<dyn KycVerifier>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = tenor_events::migrated_pool(&config.db, MIGRATIONS)
        .await
        .context("the KYC database")?;
    let objects = ObjectVault::from_url(&config.object_store_url, config.vault.clone())
        .context("opening the KYC object store")?;
    let service = service(&config, pool.clone(), objects.clone());

    let mut tasks = Tasks::new(&shutdown);
    let readiness =
        start_outbox_relay(&mut tasks, &pool, &config.db, &config.kafka, &config.relay)?;
    let account_events = PgInbox::new(
        pool.clone(),
        CONSUMER_GROUP,
        AccountEvents::new(objects.clone()),
    );
    start_consumer(
        &mut tasks,
        "account consumer",
        &config.consumer,
        Arc::new(account_events),
    )?;
    tasks.spawn(
        "verification worker",
        service
            .clone()
            .run_verification(vendor, config.verification_poll_interval, tasks.token()),
    );
    tasks.spawn(
        "expiry job",
        service
            .clone()
            .run_expiry(config.expiry_check_interval, tasks.token()),
    );

    let readiness = readiness.with(check("object_store", move || {
        let objects = objects.clone();
        async move { objects.reachable().await.map_err(|e| e.to_string()) }
    }));
    let app = graphql_router(
        schema::build(service.clone(), config.loader_stats.clone()),
        TokenVerifier::new(config.verifier.clone()),
    )
    .merge(http::router(service));
    runner::serve(KycSubgraph::NAME, listener, app, readiness, tasks).await
}

/// The service every operation runs on, from the configuration.
fn service(config: &KycConfig, pool: db::PgPool, objects: ObjectVault) -> KycService {
    KycService {
        pool,
        publisher: Publisher::new(
            tenor_contracts::sources::KYC,
            config.kyc_events_topic.clone(),
        ),
        objects,
        vault: config.vault.clone(),
        blind_index: config.blind_index.clone(),
        signer: config.url_signer.clone(),
        settings: Arc::new(Settings {
            public_url: config.public_url.clone(),
            upload_max_bytes: config.upload_max_bytes,
            upload_url_ttl: config.upload_url_ttl,
            download_url_ttl: config.download_url_ttl,
            thresholds: config.thresholds,
            validity: config.validity,
            abandoned_upload_ttl: config.abandoned_upload_ttl,
            submissions_per_day: config.submissions_per_day,
        }),
        submitted: Arc::new(tokio::sync::Notify::new()),
    }
}
