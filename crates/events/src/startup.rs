//! The event side of a subgraph's start-up, written once: every PostgreSQL subgraph migrates
//! (its tables plus the outbox/inbox), runs an outbox relay, and consumes what it reacts to.
//! Each piece runs on the runner's [`Tasks`], so it stops when serving stops.

use std::sync::Arc;

use anyhow::Context as _;
use diesel_migrations::EmbeddedMigrations;
use tenor_platform::db::{self, DbConfig, PgPool};
use tenor_platform::http::Readiness;
use tenor_platform::runner::Tasks;

use crate::kafka::{self, KafkaConfig};
use crate::{ConsumerConfig, EventConsumer, EventHandler, OutboxRelay, RelayConfig};

/// A PostgreSQL subgraph's first step: the outbox/inbox tables and the service's own
/// `migrations` applied (under the migration lock), then the pool.
pub async fn migrated_pool(
    db: &DbConfig,
    migrations: EmbeddedMigrations,
) -> anyhow::Result<PgPool> {
    db::run_migrations(&db.url, vec![crate::MIGRATIONS, migrations])
        .await
        .context("migrating the database")?;
    db::pool(db).context("connecting to the database")
}

/// Relay `pool`'s outbox to Kafka on `tasks`. The readiness it returns checks the database and
/// the broker: the two things a request that publishes needs.
pub fn start_outbox_relay(
    tasks: &mut Tasks,
    pool: &PgPool,
    db: &DbConfig,
    kafka: &KafkaConfig,
    relay: &RelayConfig,
) -> anyhow::Result<Readiness> {
    let producer = kafka::producer(kafka).context("creating the Kafka producer")?;
    let relay = OutboxRelay::new(
        pool.clone(),
        db.url.clone(),
        producer.clone(),
        relay.clone(),
    );
    tasks.spawn("outbox relay", relay.run(tasks.token()));
    Ok(Readiness::new()
        .with(db::readiness(pool.clone()))
        .with(kafka::readiness(producer)))
}

/// Consume with `config` (topics, group) into `handler` on `tasks`, under `name` in the logs.
pub fn start_consumer(
    tasks: &mut Tasks,
    name: &'static str,
    config: &ConsumerConfig,
    handler: Arc<dyn EventHandler>,
) -> anyhow::Result<()> {
    let consumer = EventConsumer::new(config.clone())
        .with_context(|| format!("subscribing the {name} to Kafka"))?;
    tasks.spawn(name, consumer.run(handler, tasks.token()));
    Ok(())
}
