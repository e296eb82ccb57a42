//! Test databases: each test gets its own PostgreSQL database, cloned from a template that was
//! migrated once per test process (the crates.io pattern). Cloning a template takes tens of
//! milliseconds, so tests stay isolated without paying for migrations each time.
//!
//! Needs the stack's PostgreSQL (`./dev up`); the admin URL comes from `TENOR_PG_ADMIN_URL`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diesel_migrations::EmbeddedMigrations;
use tokio::sync::Mutex;
use tokio_postgres::NoTls;

use crate::db::{DbConfig, PgPool, pool, run_migrations};

mod graphql_client;
pub use graphql_client::{GraphqlClient, error_code, user_error_codes};

/// Polls `condition` every 100 ms for up to 30 s; whether it became true.
pub async fn wait_for(mut condition: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..300 {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// How many SQL statements requests have sent to `database` so far, as the service at
/// `base_url` reports on `/metrics` ([`crate::db::STATEMENTS`]`{origin="request"}`; 0 before the
/// first). A test reads it before and after an operation to count what that operation cost.
pub async fn request_statements(base_url: &str, database: &str) -> u64 {
    let labels = [("database", database), ("origin", "request")];
    metric(base_url, crate::db::STATEMENTS, &labels)
        .await
        .into_iter()
        .map(|value| value as u64)
        .sum()
}

/// The values of every series of metric `name` carrying all of `labels`, as the service at
/// `base_url` reports them on `/metrics` (empty before the metric is first set).
pub async fn metric(base_url: &str, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
    let page = reqwest::get(format!("{}/metrics", base_url.trim_end_matches('/')))
        .await
        .and_then(reqwest::Response::error_for_status)
        .unwrap_or_else(|e| panic!("GET {base_url}/metrics: {e}"))
        .text()
        .await
        .expect("a metrics page");
    let series = format!("{name}{{");
    let labels: Vec<String> = labels
        .iter()
        .map(|(label, value)| format!("{label}=\"{value}\""))
        .collect();
    page.lines()
        .filter(|line| line.starts_with(&series))
        .filter(|line| labels.iter().all(|label| line.contains(label.as_str())))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .collect()
}

/// Waits (up to 30 s) until the service at `base_url` answers `/ready` with success: its
/// database, broker and consumers are up, so a test's first event or request is not lost.
pub async fn wait_until_ready(base_url: &str) -> bool {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let ready = format!("{base_url}/ready");
    wait_for(async || {
        http.get(&ready)
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
    })
    .await
}

/// Panics unless each `(field, scope)` of `fields` names a line of `sdl` starting with `field`
/// that requires exactly `scope`: the router enforces what the SDL declares, nothing more.
pub fn assert_field_scopes(sdl: &str, fields: &[(&str, &str)]) {
    for (field, scope) in fields {
        let line = sdl
            .lines()
            .find(|l| l.trim_start().starts_with(field))
            .unwrap_or_else(|| panic!("{field} missing from the SDL"));
        assert!(
            line.contains(&format!("@requiresScopes(scopes: [[\"{scope}\"]])")),
            "{line}"
        );
    }
}

/// The stack's superuser connection (see `./dev env`).
pub fn admin_url() -> String {
    std::env::var("TENOR_PG_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://tenor:tenor@127.0.0.1:25432/postgres".to_owned())
}

/// `KAFKA_BROKERS` of the stack.
pub fn kafka_brokers() -> String {
    std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:29092".to_owned())
}

/// `MONGODB_URL` of the stack.
pub fn mongodb_url() -> String {
    std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27117/".to_owned())
}

/// `REDIS_URL` of the stack.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:26479/".to_owned())
}

fn with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

static TEMPLATES: Mutex<Option<HashMap<String, String>>> = Mutex::const_new(None);
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database that lives as long as the value; dropped (forcefully) afterwards.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// A fresh database with `migrations` applied. `key` names the template (one per schema).
    pub async fn new(key: &str, migrations: impl FnOnce() -> Vec<EmbeddedMigrations>) -> Self {
        let template = template(key, migrations).await;
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("t_{key}_{pid}_{n}");
        let admin = admin().await;
        // A clone fails while anything is still connected to the template (e.g. the migration
        // connection closing in the background): retry briefly.
        let mut attempt = 0;
        loop {
            let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
            match admin.simple_query(&sql).await {
                Ok(_) => break,
                Err(e) if attempt < 50 && e.to_string().contains("being accessed") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cloning {template} into {name}: {e}"),
            }
        }
        let url = with_database(&admin_url(), &name);
        Self { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// This database as if its server were down (`true`) or back (`false`), without touching
    /// the stack's shared PostgreSQL: new connections are refused and open ones ended, as a
    /// stopping server ends them (`57P01`).
    pub async fn refuse_connections(&self, refuse: bool) {
        let admin = admin().await;
        let name = &self.name;
        admin
            .simple_query(&format!(
                "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {}",
                !refuse
            ))
            .await
            .expect("ALTER DATABASE … ALLOW_CONNECTIONS");
        if refuse {
            admin
                .simple_query(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .await
                .expect("ending the database's sessions");
        }
    }

    pub fn pool(&self) -> PgPool {
        pool(&DbConfig {
            url: self.url.clone(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        })
        .expect("test pool")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
        // Wait for it, but not for long: DROP DATABASE … WITH (FORCE) waits for a connection
        // to the database that is still authenticating, and when that connection belongs to
        // this blocked runtime it can only finish after PostgreSQL's 60 s authentication
        // timeout — which stalled every other connection of the test too (CI saw
        // service_settings fail so). After the wait the drop finishes on its own.
        let name = self.name.clone();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&admin_url(), NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client
                        .simple_query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
            let _ = done.send(());
        });
        let _ = finished.recv_timeout(Duration::from_secs(2));
    }
}

async fn admin() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&admin_url(), NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach the stack's PostgreSQL ({e}); start it with `./dev up`")
        });
    tokio::spawn(connection);
    client
}

/// The migrated template for `key`, built once per process.
async fn template(key: &str, migrations: impl FnOnce() -> Vec<EmbeddedMigrations>) -> String {
    let mut templates = TEMPLATES.lock().await;
    let templates = templates.get_or_insert_with(HashMap::new);
    if let Some(name) = templates.get(key) {
        return name.clone();
    }
    let admin = admin().await;
    sweep_leftovers(&admin).await;
    let name = format!("t_{key}_{}_tmpl", std::process::id());
    admin
        .simple_query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("dropping an old template");
    admin
        .simple_query(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("creating the template");
    run_migrations(&with_database(&admin_url(), &name), migrations())
        .await
        .expect("migrating the template");
    templates.insert(key.to_owned(), name.clone());
    name
}

/// Drop databases left behind by test processes that died (their pid is in the name).
async fn sweep_leftovers(admin: &tokio_postgres::Client) {
    let Ok(rows) = admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'",
            &[],
        )
        .await
    else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        let pid = name
            .split('_')
            .rev()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = admin
                .simple_query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// Issues access tokens the way the auth service does (ES256, `kid`, `iss`, `aud`, `sub`, `sid`,
/// `scope`) and serves the matching JWKS on a loopback port, so a subgraph under test verifies
/// real signatures without the auth service running.
pub struct TestIssuer {
    kid: String,
    signing: p256::ecdsa::SigningKey,
    jwks_url: String,
}

impl TestIssuer {
    pub const ISSUER: &'static str = "tenor-auth";
    pub const AUDIENCE: &'static str = "tenor";

    pub async fn start() -> Self {
        use axum::routing::get;
        let signing = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let kid = format!("test-{}", uuid::Uuid::new_v4().simple());
        let mut jwk = serde_json::to_value(p256::PublicKey::from(signing.verifying_key()).to_jwk())
            .expect("JWK");
        jwk["kid"] = kid.clone().into();
        jwk["alg"] = "ES256".into();
        jwk["use"] = "sig".into();
        let body = serde_json::json!({ "keys": [jwk] });
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let body = body.clone();
                async move { axum::Json(body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind JWKS");
        let jwks_url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            kid,
            signing,
            jwks_url,
        }
    }

    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    /// A verifier configuration pointing at this issuer.
    pub fn verifier_config(&self) -> crate::auth::VerifierConfig {
        crate::auth::VerifierConfig {
            jwks_url: self.jwks_url.clone(),
            issuer: Self::ISSUER.into(),
            audience: Self::AUDIENCE.into(),
            leeway: Duration::from_secs(0),
            min_refresh_interval: Duration::from_secs(1),
            max_key_age: Duration::from_secs(300),
        }
    }

    /// A 15-minute token for `user` with `scopes` (space-separated).
    pub fn token(&self, user: uuid::Uuid, scopes: &str) -> String {
        self.token_with(serde_json::json!({
            "sub": user.to_string(),
            "sid": uuid::Uuid::new_v4().to_string(),
            "scope": scopes,
        }))
    }

    /// A token with the standard claims filled in and `claims` merged over them.
    pub fn token_with(&self, claims: serde_json::Value) -> String {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        let now = chrono::Utc::now().timestamp();
        let mut all = serde_json::json!({
            "iss": Self::ISSUER,
            "aud": Self::AUDIENCE,
            "iat": now,
            "exp": now + 900,
        });
        for (k, v) in claims.as_object().expect("claims object") {
            all[k] = v.clone();
        }
        crate::crypto::install_providers();
        let pem = self.signing.to_pkcs8_pem(LineEnding::LF).expect("PEM");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(
            &header,
            &all,
            &jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).expect("EC key"),
        )
        .expect("signing")
    }
}
