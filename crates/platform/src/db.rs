//! PostgreSQL: connection pool and embedded migrations. Every pooled connection counts its
//! statements (see [`statements`]).

mod statements;

use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::{Connection, ConnectionResult};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use futures::FutureExt as _;

use crate::config::{Env, HumanDuration};

pub use statements::{CountRequestStatements, Origin, STATEMENTS, spawn_with_origin};

pub type PgPool = Pool<AsyncPgConnection>;
pub type PgConn = Object<AsyncPgConnection>;

#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    pub max_connections: usize,
    pub acquire_timeout: Duration,
}

impl DbConfig {
    /// `<PREFIX>_DATABASE_URL` (required), `DB_MAX_CONNECTIONS` (10), `DB_ACQUIRE_TIMEOUT` (5s).
    pub fn from_env(env: &mut Env, url_var: &str) -> Self {
        let url: String = env.required(url_var);
        if !url.is_empty() && url.parse::<tokio_postgres::Config>().is_err() {
            // Caught here rather than at the first connection, with the variable's name.
            env.fail(
                url_var,
                "is not a PostgreSQL URL (postgres://user:password@host:port/database)".to_owned(),
            );
        }
        Self {
            url,
            max_connections: env.optional("DB_MAX_CONNECTIONS", 10),
            acquire_timeout: env
                .optional("DB_ACQUIRE_TIMEOUT", HumanDuration(Duration::from_secs(5)))
                .into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("building the connection pool: {0}")]
    Pool(String),
    #[error("running migrations: {0}")]
    Migrations(String),
}

pub fn pool(config: &DbConfig) -> Result<PgPool, DbError> {
    // The counters register with the process-wide recorder, which must exist first.
    crate::telemetry::metrics_handle();
    let database = database_name(&config.url);
    let mut manager_config = ManagerConfig::default();
    // No `SELECT 1` on every checkout (diesel-async's default, `Verified`): it doubled the round
    // trips of a one-query read. A connection the server closed is still dropped at checkout
    // (`is_broken` sees the closed socket); one closed in between fails its query once.
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup =
        Box::new(move |url| connect_counted(url, database.clone()).boxed());
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        &config.url,
        manager_config,
    );
    Pool::builder(manager)
        .max_size(config.max_connections)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.acquire_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// A new connection that counts its statements into [`STATEMENTS`]. Its outcome tells
/// [`crate::outage`] whether the database can be reached.
async fn connect_counted(url: &str, database: String) -> ConnectionResult<AsyncPgConnection> {
    use diesel_async::AsyncConnection as _;
    let attempt = crate::outage::ConnectAttempt::begin();
    let mut conn = AsyncPgConnection::establish(url).await?;
    attempt.succeeded();
    conn.set_instrumentation(statements::StatementCounter::new(&database));
    Ok(conn)
}

/// The database a URL names (the `database` label of the statement counter and of gauges that
/// say which database they describe).
pub fn database_name(url: &str) -> String {
    url.parse::<tokio_postgres::Config>()
        .ok()
        .and_then(|config| config.get_dbname().map(str::to_owned))
        .unwrap_or_default()
}

/// An arbitrary constant: replicas starting together take turns instead of racing each other
/// through the same migrations.
const MIGRATION_LOCK: i64 = 0x7ea0_0001;

/// Apply every pending migration of each set, in order, under a cluster-wide advisory lock.
/// A service passes its own set plus the shared ones it uses (e.g. the outbox/inbox tables).
pub async fn run_migrations(url: &str, sets: Vec<EmbeddedMigrations>) -> Result<(), DbError> {
    let url = url.to_owned();
    // The migration harness is synchronous; keep it off the async worker threads.
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| DbError::Migrations(e.to_string()))?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut conn)
            .map_err(|e| DbError::Migrations(e.to_string()))?;
        let result = sets.into_iter().try_for_each(|set| {
            conn.run_pending_migrations(set)
                .map(|applied| {
                    for version in applied {
                        tracing::info!(%version, "migration applied");
                    }
                })
                .map_err(|e| DbError::Migrations(e.to_string()))
        });
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .execute(&mut conn);
        result
    })
    .await
    .map_err(|e| DbError::Migrations(format!("migration task failed: {e}")))?
}

/// A readiness check: one round trip through the pool.
pub fn readiness(pool: PgPool) -> std::sync::Arc<dyn crate::http::ReadinessCheck> {
    crate::http::check("postgres", move || {
        let pool = pool.clone();
        async move {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            diesel_async::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), &mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
}
