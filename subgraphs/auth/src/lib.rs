//! The auth subgraph: credentials, sessions, refresh-token rotation, biometric devices, signing
//! keys and the JWKS every other service verifies tokens with.
//!
//! Reads top-down: [`schema`] (GraphQL, thin) → [`service`] (the use cases, one file per group)
//! → [`domain`] (pure rules and every refusal) / [`store`] (PostgreSQL and the Redis revocation
//! set) / [`events`] (what auth publishes through the outbox and what it consumes). [`run`] is
//! the start-up; [`keys`] loads the signing keys; `main.rs` adds the operator commands.

pub mod config;
pub mod domain;
pub mod events;
pub mod keys;
pub mod schema;
pub mod service;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use tenor_events::{PgInbox, migrated_pool, start_consumer, start_outbox_relay};
use tenor_platform::auth::{TokenVerifier, VerifierConfig};
use tenor_platform::graphql::graphql_router;
use tenor_platform::runner::{self, Subgraph, Tasks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{AuthConfig, RevocationConfig, check_signing_keys};
use crate::domain::tokens::AccessTokenSigner;
use crate::events::consume::{RevocationMirror, UserStatusHandler};
use crate::service::AuthService;
use crate::service::revocation::keep_revocations_seeded;
use crate::store::revocations::RevocationCache;

/// The auth tables (`migrations/auth`); the outbox and inbox come from `tenor_events`.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/auth");

tenor_platform::subgraph! {
    /// The auth subgraph, as the runner starts it.
    pub struct AuthSubgraph {
        name: "auth",
        config: AuthConfig,
        read_config: read_config,
        sdl: sdl,
        run: run,
    }
}

/// The configuration, with the signing-key files read at once: a missing or unusable key stops
/// the service at start-up (exit 2, naming `AUTH_SIGNING_KEYS`).
fn read_config(env: &mut tenor_platform::config::Env) -> AuthConfig {
    let config = AuthConfig::from_env(env);
    check_signing_keys(env, &config);
    config
}

/// The SDL this subgraph contributes to the supergraph.
pub fn sdl() -> String {
    schema::sdl()
}

/// Everything the use cases need, built from configuration (used by [`run`], by the operator
/// commands and by tests): the signing keys, the migrated database, the service.
pub async fn build(config: &AuthConfig) -> anyhow::Result<(Arc<AuthService>, keys::KeyRing)> {
    let ring = keys::load(&config.signing_keys, &config.active_signing_key)?;
    let pool = migrated_pool(&config.database, MIGRATIONS).await?;
    let signer = AccessTokenSigner {
        kid: ring.active_kid.clone(),
        key: ring.active.clone(),
        issuer: config.tokens.issuer.clone(),
        audience: config.tokens.audience.clone(),
        ttl: chrono::Duration::from_std(config.tokens.access_ttl)?,
    };
    let service = Arc::new(AuthService {
        pool,
        signer: Arc::new(signer),
        tokens: config.tokens.clone(),
        throttle: config.throttle.clone(),
        auth_events_topic: config.auth_events_topic.clone(),
        revocations: Some(Arc::new(revocation_cache(&config.revocation)?)),
    });
    Ok((service, ring))
}

/// Serve until `shutdown` is cancelled: GraphQL, JWKS, health, the outbox relay, the
/// `user.status.changed` consumer, the consumer mirroring `auth.session.revoked` into Redis, and
/// the keeper that writes the revocation set again should Redis lose it.
pub async fn run(
    config: AuthConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (service, ring) = build(&config).await?;

    let mut tasks = Tasks::new(&shutdown);
    let readiness = start_outbox_relay(
        &mut tasks,
        &service.pool,
        &config.database,
        &config.kafka,
        &config.relay,
    )?;
    let statuses = PgInbox::new(
        service.pool.clone(),
        config.consumer.group_id.clone(),
        UserStatusHandler::new(service.publisher()),
    );
    start_consumer(
        &mut tasks,
        "user.status.changed consumer",
        &config.consumer,
        Arc::new(statuses),
    )?;
    let mirror = RevocationMirror::new(
        Arc::new(revocation_cache(&config.revocation)?),
        tasks.token(),
    );
    start_consumer(
        &mut tasks,
        "revocation mirror",
        &config.revocation.consumer,
        Arc::new(mirror),
    )?;
    if let Some(cache) = service.revocations.clone() {
        tasks.spawn(
            "revocation set keeper",
            keep_revocations_seeded(
                service.clone(),
                cache,
                REVOCATION_CHECK_EVERY,
                tasks.token(),
            ),
        );
    }

    let app = graphql_router(schema::build(service), own_verifier(&config, &ring))
        .route("/.well-known/jwks.json", jwks_route(ring.jwks));
    runner::serve(AuthSubgraph::NAME, listener, app, readiness, tasks).await
}

/// How often auth checks that Redis still holds the revocation set: the longest a session
/// ended before Redis lost its data works again at the router (one `EXISTS` per round).
const REVOCATION_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Auth verifies its own tokens from its key ring: no HTTP round trip to itself.
fn own_verifier(config: &AuthConfig, ring: &keys::KeyRing) -> TokenVerifier {
    TokenVerifier::with_keys(
        VerifierConfig {
            jwks_url: String::new(),
            issuer: config.tokens.issuer.clone(),
            audience: config.tokens.audience.clone(),
            leeway: std::time::Duration::from_secs(30),
            min_refresh_interval: std::time::Duration::MAX,
            max_key_age: std::time::Duration::MAX,
        },
        &ring.jwks,
    )
}

/// Every configured key, published for the verifiers of every other service.
fn jwks_route(jwks: jsonwebtoken::jwk::JwkSet) -> axum::routing::MethodRouter {
    let jwks = Arc::new(jwks);
    get(move || {
        let jwks = jwks.clone();
        async move { Json((*jwks).clone()) }
    })
}

fn revocation_cache(config: &RevocationConfig) -> redis::RedisResult<RevocationCache> {
    RevocationCache::new(
        &config.redis_url,
        &config.key_prefix,
        config.ttl,
        config.timeout,
    )
}
