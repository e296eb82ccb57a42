//! The notification subgraph: tells borrowers about every decision, payment, KYC result and
//! security event — email, SMS, push and an in-app inbox — from versioned templates.
//!
//! An event of the [`templates`] catalog on `loan.events`, `kyc.events` or `auth.events` becomes,
//! on the consumer ([`events::consume`] → [`service::intake`]), one inbox item and one
//! notification per channel the borrower chose, rendered at once in their language with the
//! active template and stored (MongoDB, unique per event and channel; a Redis key is the fast
//! path of the dedupe). The delivery worker ([`service::delivery`]) claims due notifications
//! with a lease and sends them through the [`channels`] (email over SMTP, SMS/WhatsApp/push over
//! HTTP), retrying with backoff and jitter, holding reminders and collection messages to
//! 08:00–20:00 local on working days ([`schedule`]) and each borrower to a rate limit. The
//! contacts and preferences it needs are a projection of `user.*` events
//! ([`service::contacts`]). New inbox items are announced on `notification.events` through the
//! MongoDB outbox and pushed live to `notificationReceived` by every replica's [`events::live`]
//! hub. Staff manage templates behind `notification:admin` ([`schema`]).
//!
//! Reads top-down like every subgraph: [`run`] below starts it; [`schema`] and
//! [`events::consume`] call [`service`], which uses [`domain`], [`store`], [`templates`],
//! [`schedule`], [`channels`] and [`events::publish`]. Time comes from a [`clock::Clock`], so
//! tests stand at 22:00 WIB without sleeping.

pub mod channels;
pub mod clock;
pub mod config;
pub mod domain;
pub mod events;
pub mod schedule;
pub mod schema;
pub mod service;
pub mod store;
pub mod templates;
#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;

use anyhow::Context as _;
use tenor_events::kafka;
use tenor_events::{MongoOutboxRelay, MongoPublisher, start_consumer};
use tenor_platform::auth::TokenVerifier;
use tenor_platform::graphql::graphql_router_with_subscriptions;
use tenor_platform::http::{Readiness, check};
use tenor_platform::runner::{self, Subgraph, Tasks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::NotificationConfig;
pub use schema::sdl;

use crate::channels::Channels;
use crate::clock::Clock;
use crate::events::IncomingEvents;
use crate::events::live::LiveHub;
use crate::service::{NotificationService, Settings};
use crate::store::cache::Cache;

tenor_platform::subgraph! {
    /// What the shared runner needs to know about this subgraph.
    pub struct NotificationSubgraph {
        name: "notification",
        config: NotificationConfig,
        sdl: schema::sdl,
        run: run,
    }
}

/// What [`run_with`] may be given instead of the defaults (tests).
pub struct Wiring {
    /// Where "now" comes from (default: the system clock).
    pub clock: Arc<dyn Clock>,
    /// The channels (default: built from the configuration).
    pub channels: Option<Channels>,
    /// See [`NotificationService::after_contact_read`] (default: none).
    pub after_contact_read: Option<service::ContactReadHook>,
}

impl Default for Wiring {
    fn default() -> Self {
        Self {
            clock: clock::system(),
            channels: None,
            after_contact_read: None,
        }
    }
}

/// Run the service on `listener` until `shutdown` is cancelled.
pub async fn run(
    config: NotificationConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with(config, Wiring::default(), listener, shutdown).await
}

/// The start-up: indexes and default templates → the service → background tasks (outbox relay,
/// delivery worker, the event consumer, the live feed) → readiness → GraphQL (HTTP + WebSocket)
/// with `/health`, `/ready`, `/metrics` until shutdown.
pub async fn run_with(
    config: NotificationConfig,
    wiring: Wiring,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let db = tenor_platform::mongo::database(&config.mongo)
        .await
        .context("connecting to MongoDB")?;
    store::ensure_indexes(&db)
        .await
        .context("creating the notification indexes")?;
    templates::store::ensure_indexes(&db)
        .await
        .context("creating the template indexes")?;
    let seeded = templates::store::seed_defaults(&db)
        .await
        .context("seeding the default templates")?;
    tracing::info!(?seeded, "default templates in place");
    let channels = match wiring.channels {
        Some(channels) => channels,
        None => Channels::from_config(&config.channels).context("setting up the channels")?,
    };
    let cache = Cache::new(&config.redis_url, &config.redis_prefix).context("the Redis client")?;
    let publisher = MongoPublisher::new(
        tenor_contracts::sources::NOTIFICATION,
        config.notification_events_topic.clone(),
    );
    let mut service = NotificationService::new(
        db.clone(),
        publisher.clone(),
        cache,
        channels,
        wiring.clock,
        Settings {
            delivery: config.delivery.clone(),
            quiet_hours: config.quiet_hours.clone(),
        },
    );
    service.after_contact_read = wiring.after_contact_read;

    let mut tasks = Tasks::new(&shutdown);
    let producer = kafka::producer(&config.kafka).context("creating the Kafka producer")?;
    let relay = MongoOutboxRelay::new(
        &db,
        &[store::inbox::ANNOUNCEMENTS],
        producer.clone(),
        config.relay.clone(),
        publisher.waker(),
    );
    relay
        .ensure_indexes()
        .await
        .context("creating the outbox index")?;
    tasks.spawn("outbox relay", relay.run(tasks.token()));
    tasks.spawn("delivery worker", service.clone().run_worker(tasks.token()));
    start_consumer(
        &mut tasks,
        "event consumer",
        &config.consumer,
        Arc::new(IncomingEvents::new(service.clone())),
    )?;
    let hub = LiveHub::new().with_subscription_cap(config.live_subscriptions_per_user);
    let live = events::live::run(
        hub.clone(),
        config.kafka.clone(),
        config.notification_events_topic.clone(),
        config.source_topics.auth.clone(),
        tasks.token(),
    );
    tasks.spawn("live consumer", async move {
        if let Err(error) = live.await {
            tracing::error!(error = %format!("{error:#}"), "live consumer stopped");
        }
    });

    let live_hub = hub.clone();
    let readiness = Readiness::new()
        .with(tenor_platform::mongo::readiness(db))
        .with(kafka::readiness(producer))
        .with(check("live-consumer", move || {
            let live = live_hub.is_live();
            async move {
                if live {
                    Ok(())
                } else {
                    Err("waiting for notification.events and auth.events partitions".to_owned())
                }
            }
        }));
    let app = graphql_router_with_subscriptions(
        schema::build(service, hub),
        TokenVerifier::new(config.verifier.clone()),
    );
    runner::serve(NotificationSubgraph::NAME, listener, app, readiness, tasks).await
}
