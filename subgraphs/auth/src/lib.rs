//! The auth subgraph: credentials, sessions, refresh-token rotation, biometric devices, signing
//! keys and the JWKS every other service verifies tokens with.

pub mod accounts;
pub mod config;
pub mod devices;
pub mod domain;
pub mod events;
pub mod keys;
pub mod revocation;
pub mod schema;
pub mod service;
pub mod sessions;
pub mod store;

use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use tenor_events::kafka::{producer, readiness as kafka_readiness};
use tenor_events::{EventConsumer, OutboxRelay, PgInbox};
use tenor_platform::auth::{TokenVerifier, VerifierConfig};
use tenor_platform::db::{pool, readiness as db_readiness, run_migrations};
use tenor_platform::graphql::graphql_router;
use tenor_platform::http::{Readiness, ops_router, serve};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::AuthConfig;
use crate::domain::tokens::AccessTokenSigner;
use crate::events::UserStatusHandler;
use crate::revocation::{RevocationCache, RevocationMirror};
use crate::service::AuthService;

pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/auth");

/// The SDL this subgraph contributes to the supergraph.
pub fn sdl() -> String {
    schema::build_sdl()
}

/// Everything the service needs, built from configuration (used by `main` and by tests).
pub async fn build(config: &AuthConfig) -> anyhow::Result<(Arc<AuthService>, keys::KeyRing)> {
    let ring = keys::load(&config.signing_keys, &config.active_signing_key)?;
    run_migrations(
        &config.database.url,
        vec![tenor_events::MIGRATIONS, MIGRATIONS],
    )
    .await?;
    let pool = pool(&config.database)?;
    let signer = AccessTokenSigner {
        kid: ring.active_kid.clone(),
        key: ring.active.clone(),
        issuer: config.tokens.issuer.clone(),
        audience: config.tokens.audience.clone(),
        ttl: chrono::Duration::from_std(config.tokens.access_ttl)?,
    };
    let revocations = RevocationCache::new(&config.revocation)?;
    let service = Arc::new(AuthService {
        pool,
        signer: Arc::new(signer),
        tokens: config.tokens.clone(),
        throttle: config.throttle.clone(),
        auth_events_topic: config.auth_events_topic.clone(),
        revocations: Some(Arc::new(revocations)),
    });
    Ok((service, ring))
}

/// Serve until `shutdown` is cancelled: GraphQL, JWKS, health, the outbox relay, the
/// `user.status.changed` consumer and the consumer mirroring `auth.session.revoked` into Redis.
pub async fn run(
    config: AuthConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (service, ring) = build(&config).await?;
    let kafka_producer = producer(&config.kafka)?;

    let relay = OutboxRelay::new(
        service.pool.clone(),
        &config.database.url,
        kafka_producer.clone(),
        config.relay.clone(),
    );
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let consumer = EventConsumer::new(config.consumer.clone())?;
    let handler = Arc::new(PgInbox::new(
        service.pool.clone(),
        config.consumer.group_id.clone(),
        UserStatusHandler::new(service.publisher()),
    ));
    let consumer_task = tokio::spawn(consumer.run(handler, shutdown.clone()));
    let mirror = EventConsumer::new(config.revocation.consumer.clone())?;
    let mirror_handler = Arc::new(RevocationMirror::new(
        Arc::new(RevocationCache::new(&config.revocation)?),
        shutdown.clone(),
    ));
    let mirror_task = tokio::spawn(mirror.run(mirror_handler, shutdown.clone()));

    // Auth verifies its own tokens from its key ring: no HTTP round trip to itself.
    let verifier = TokenVerifier::with_keys(
        VerifierConfig {
            jwks_url: String::new(),
            issuer: config.tokens.issuer.clone(),
            audience: config.tokens.audience.clone(),
            leeway: std::time::Duration::from_secs(30),
            min_refresh_interval: std::time::Duration::MAX,
            max_key_age: std::time::Duration::MAX,
        },
        &ring.jwks,
    );
    let jwks = Arc::new(ring.jwks);
    let readiness = Readiness::new()
        .with(db_readiness(service.pool.clone()))
        .with(kafka_readiness(kafka_producer));
    let app = graphql_router(schema::build(service), verifier)
        .route(
            "/.well-known/jwks.json",
            get(move || {
                let jwks = jwks.clone();
                async move { Json((*jwks).clone()) }
            }),
        )
        .merge(ops_router(readiness));
    tracing::info!(addr = %listener.local_addr()?, "auth subgraph listening");
    let stop = shutdown.clone();
    serve(listener, app, async move { stop.cancelled().await }).await?;
    shutdown.cancel();
    let _ = tokio::join!(relay_task, consumer_task, mirror_task);
    Ok(())
}
