//! The KYC subgraph: encrypted KTP/SIM/NPWP and selfie intake, document-number validation,
//! verification through a vendor (simulated by default), back-office review, expiry, and
//! field-level PII access with an access log (docs/conventions.md § Contexts, § Security model).
//!
//! Reads top-down: [`schema`] (GraphQL, thin) and [`http`] (signed upload/download routes) →
//! [`intake`], [`submission`], [`verification`], [`review`], [`pii`] (one operation each, on
//! [`service::KycService`]) → [`domain`] (rules) / [`crypto`] / [`storage`] / [`store`]
//! (PostgreSQL) / [`events`] (Kafka, via the outbox).

pub mod config;
pub mod crypto;
pub mod domain;
pub mod events;
pub mod http;
pub mod intake;
pub mod pii;
pub mod review;
pub mod schema;
pub mod service;
pub mod storage;
pub mod store;
pub mod submission;
pub mod verification;

use std::sync::Arc;

use anyhow::Context as _;
use tenor_events::OutboxRelay;
use tenor_events::kafka::{self, producer};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::db::{self, run_migrations};
use tenor_platform::graphql::graphql_router;
use tenor_platform::http::{Readiness, ops_router, serve};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::KycConfig;
pub use schema::sdl;

use crate::events::Publisher;
use crate::service::{KycService, Settings};
use crate::storage::ObjectVault;
use crate::verification::{KycVerifier, SimulatedKycVendor};

/// `user_kyc`, `kyc_uploads`, `kyc_document_claims`, `kyc_reviews`, `pii_access_log`.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/kyc");

/// Run the service on `listener` until `shutdown` is cancelled with the simulated vendor.
pub async fn run(
    config: KycConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with_vendor(config, Arc::new(SimulatedKycVendor), listener, shutdown).await
}

/// Run the service with `vendor`: migrations, the outbox relay, the verification worker, the
/// expiry job, GraphQL, the signed upload/download routes, and `/health`, `/ready`, `/metrics`.
pub async fn run_with_vendor(
    config: KycConfig,
    vendor: Arc<dyn KycVerifier>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_migrations(&config.db.url, vec![tenor_events::MIGRATIONS, MIGRATIONS])
        .await
        .context("migrating the KYC database")?;
    let pool = db::pool(&config.db).context("connecting to the KYC database")?;
    let producer = producer(&config.kafka).context("creating the Kafka producer")?;
    let objects = ObjectVault::from_url(&config.object_store_url, config.vault.clone())
        .context("opening the KYC object store")?;

    let service = KycService {
        pool: pool.clone(),
        publisher: Publisher::new(
            tenor_contracts::sources::KYC,
            config.kyc_events_topic.clone(),
        ),
        objects: objects.clone(),
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
        }),
        submitted: Arc::new(tokio::sync::Notify::new()),
    };

    let relay = OutboxRelay::new(
        pool.clone(),
        config.db.url.clone(),
        producer.clone(),
        config.relay.clone(),
    );
    let relay = tokio::spawn(relay.run(shutdown.child_token()));
    let verification = tokio::spawn(service.clone().run_verification(
        vendor,
        config.verification_poll_interval,
        shutdown.child_token(),
    ));
    let expiry = tokio::spawn(
        service
            .clone()
            .run_expiry(config.expiry_check_interval, shutdown.child_token()),
    );

    let readiness = Readiness::new()
        .with(db::readiness(pool))
        .with(kafka::readiness(producer))
        .with(tenor_platform::http::check("object_store", move || {
            let objects = objects.clone();
            async move { objects.reachable().await.map_err(|e| e.to_string()) }
        }));
    let app = graphql_router(
        schema::build(service.clone(), config.loader_stats.clone()),
        TokenVerifier::new(config.verifier.clone()),
    )
    .merge(http::router(service))
    .merge(ops_router(readiness));

    tracing::info!(address = ?listener.local_addr().ok(), "kyc subgraph serving");
    let served = serve(listener, app, shutdown.clone().cancelled_owned()).await;
    // However serving ended, the background tasks end with it.
    shutdown.cancel();
    let _ = tokio::join!(relay, verification, expiry);
    served.context("serving HTTP")
}
