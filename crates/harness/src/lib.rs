//! The router as it runs in production — the `tenor-router` binary as a child process — in
//! front of real subgraphs running in-process against the stack's PostgreSQL and Kafka. Used by
//! the router's acceptance tests and by `tenor-bench router`.
//!
//! Each [`RouterStack`] has its own databases, topics and signing key; the router gets a config
//! generated from the committed `router/router.config.yaml` with only what must differ per test
//! changed (port, subgraph URLs, JWKS URL, Redis key prefix), written next to the committed file
//! so the relative paths in it keep working.

pub mod journeys;
pub mod ws;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use serde_yaml::Value as Yaml;
use tenor_auth::service::AuthService;
use tenor_contracts::identity::AccountKind;
use tenor_events::kafka::ensure_topics;
use tenor_platform::config::Env;
use tenor_platform::testing::{TestDatabase, kafka_brokers, redis_url};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const PASSWORD: &str = "kopi susu di pagi hari";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned()
}

/// A binary of this workspace's build (same profile as the running executable): next to it for a
/// binary (`target/release/tenor-bench`), one level up for a test (`target/debug/deps/…`).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the running executable");
    let dir = exe.parent().unwrap();
    [dir.join(name), dir.parent().unwrap().join(name)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no {name} binary next to {}: build it (cargo build [--release] -p tenor-router --bins)",
                exe.display()
            )
        })
}

/// The committed router configuration, parsed.
pub fn committed_config() -> Yaml {
    let text = std::fs::read_to_string(repo_root().join("router/router.config.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Sets `value` at a dotted `path` in a YAML mapping, creating mappings on the way.
pub fn set(config: &mut Yaml, path: &str, value: Yaml) {
    let mut node = config;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let map = node.as_mapping_mut().expect("a mapping on the path");
        let key = Yaml::String(key.to_owned());
        if keys.peek().is_none() {
            map.insert(key, value);
            return;
        }
        node = map
            .entry(key)
            .or_insert_with(|| Yaml::Mapping(Default::default()));
    }
}

pub fn yaml(value: Value) -> Yaml {
    serde_yaml::to_value(value).unwrap()
}

/// auth + user in-process, wired through Kafka as in production.
pub struct Subgraphs {
    pub auth_url: String,
    pub user_url: String,
    pub kyc_url: String,
    pub loan_url: String,
    pub auth: Arc<AuthService>,
    pub redis_prefix: String,
    /// This stack's topics (each test has its own).
    pub topics: Topics,
    pub kyc_db: TestDatabase,
    pub loan_db: TestDatabase,
    _auth_db: TestDatabase,
    _user_db: TestDatabase,
    key_file: PathBuf,
    kyc_objects: PathBuf,
    shutdown: CancellationToken,
}

#[derive(Debug, Clone)]
pub struct Topics {
    pub auth: String,
    pub user: String,
    pub kyc: String,
    pub loan: String,
    /// Where credit would publish `credit.decision.made` (tests produce it until credit exists).
    pub credit: String,
}

impl Subgraphs {
    pub async fn start() -> Self {
        tenor_platform::telemetry::install_tls_provider();
        let auth_db = TestDatabase::new("router_auth", || {
            vec![tenor_events::MIGRATIONS, tenor_auth::MIGRATIONS]
        })
        .await;
        let user_db = TestDatabase::new("router_user", || {
            vec![tenor_events::MIGRATIONS, tenor_user::MIGRATIONS]
        })
        .await;
        let kyc_db = TestDatabase::new("router_kyc", || {
            vec![tenor_events::MIGRATIONS, tenor_kyc::MIGRATIONS]
        })
        .await;
        let loan_db = TestDatabase::new("router_loan", || {
            vec![tenor_events::MIGRATIONS, tenor_loan::MIGRATIONS]
        })
        .await;
        let run = Uuid::new_v4().simple().to_string();
        let auth_topic = format!("test.{run}.auth.events");
        let user_topic = format!("test.{run}.user.events");
        let kyc_topic = format!("test.{run}.kyc.events");
        let loan_topic = format!("test.{run}.loan.events");
        let credit_topic = format!("test.{run}.credit.events");
        ensure_topics(
            &kafka_brokers(),
            &[
                (&auth_topic, 1),
                (&user_topic, 1),
                (&kyc_topic, 1),
                (&loan_topic, 1),
                (&credit_topic, 1),
                (&format!("{auth_topic}.dlq"), 1),
                (&format!("{user_topic}.dlq"), 1),
                (&format!("{kyc_topic}.dlq"), 1),
                (&format!("{credit_topic}.dlq"), 1),
            ],
        )
        .await
        .expect("creating topics (is the stack up? ./dev infra)");
        let key_file = std::env::temp_dir().join(format!("tenor-router-test-{run}.pem"));
        std::fs::write(&key_file, tenor_auth::keys::generate_pem()).unwrap();
        let shutdown = CancellationToken::new();

        let auth_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let auth_url = format!("http://{}", auth_listener.local_addr().unwrap());
        let mut env = Env::from_pairs([
            ("AUTH_DATABASE_URL".to_owned(), auth_db.url().to_owned()),
            ("KAFKA_BROKERS".to_owned(), kafka_brokers()),
            (
                "AUTH_SIGNING_KEYS".to_owned(),
                format!("k1={}", key_file.display()),
            ),
            ("AUTH_ACTIVE_SIGNING_KEY".to_owned(), "k1".to_owned()),
            ("AUTH_EVENTS_TOPIC".to_owned(), auth_topic.clone()),
            ("USER_EVENTS_TOPIC".to_owned(), user_topic.clone()),
            ("OUTBOX_POLL_INTERVAL".to_owned(), "200ms".to_owned()),
            ("CONSUMER_INITIAL_BACKOFF".to_owned(), "50ms".to_owned()),
        ]);
        let auth_config = tenor_auth::config::AuthConfig::from_env(&mut env);
        let mut auth_config = env.finish(auth_config).unwrap();
        // Its own group per run: parallel tests would otherwise rebalance one shared group.
        auth_config.revocation.consumer.group_id = format!("tenor-auth-revocations-test-{run}");
        let (auth, _) = tenor_auth::build(&auth_config).await.unwrap();
        tokio::spawn(tenor_auth::run(
            auth_config,
            auth_listener,
            shutdown.clone(),
        ));

        let user_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let user_url = format!("http://{}", user_listener.local_addr().unwrap());
        let mut env = Env::from_pairs([
            ("USER_DATABASE_URL".to_owned(), user_db.url().to_owned()),
            ("KAFKA_BROKERS".to_owned(), kafka_brokers()),
            ("AUTH_EVENTS_TOPIC".to_owned(), auth_topic.clone()),
            ("USER_EVENTS_TOPIC".to_owned(), user_topic.clone()),
            (
                "AUTH_JWKS_URL".to_owned(),
                format!("{auth_url}/.well-known/jwks.json"),
            ),
            ("OUTBOX_POLL_INTERVAL".to_owned(), "200ms".to_owned()),
            ("CONSUMER_INITIAL_BACKOFF".to_owned(), "50ms".to_owned()),
        ]);
        let user_config = tenor_user::config::UserConfig::from_env(&mut env);
        let mut user_config = env.finish(user_config).unwrap();
        user_config.consumer.group_id = format!("tenor-user-router-test-{run}");
        tokio::spawn(tenor_user::run(
            user_config,
            user_listener,
            shutdown.clone(),
        ));

        // kyc, with keys of its own and objects in a temporary folder.
        let kyc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let kyc_url = format!("http://{}", kyc_listener.local_addr().unwrap());
        let kyc_objects = std::env::temp_dir().join(format!("tenor-router-kyc-{run}"));
        std::fs::create_dir_all(&kyc_objects).unwrap();
        let key = || tenor_kyc::crypto::Key32::random().to_base64();
        let mut env = Env::from_pairs([
            ("KYC_DATABASE_URL".to_owned(), kyc_db.url().to_owned()),
            ("KAFKA_BROKERS".to_owned(), kafka_brokers()),
            ("KYC_EVENTS_TOPIC".to_owned(), kyc_topic.clone()),
            (
                "KYC_OBJECT_STORE_URL".to_owned(),
                format!("file://{}", kyc_objects.display()),
            ),
            ("KYC_PUBLIC_URL".to_owned(), kyc_url.clone()),
            ("KYC_MASTER_KEY".to_owned(), key()),
            ("KYC_BLIND_INDEX_KEY".to_owned(), key()),
            ("KYC_URL_SIGNING_KEY".to_owned(), key()),
            (
                "KYC_VERIFICATION_POLL_INTERVAL".to_owned(),
                "200ms".to_owned(),
            ),
            (
                "AUTH_JWKS_URL".to_owned(),
                format!("{auth_url}/.well-known/jwks.json"),
            ),
            ("OUTBOX_POLL_INTERVAL".to_owned(), "200ms".to_owned()),
        ]);
        let kyc_config = tenor_kyc::config::KycConfig::from_env(&mut env);
        let kyc_config = env.finish(kyc_config).unwrap();
        tokio::spawn(tenor_kyc::run(kyc_config, kyc_listener, shutdown.clone()));

        // loan, eligible once kyc says so (through Kafka), decided by `credit.decision.made`.
        let loan_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let loan_url = format!("http://{}", loan_listener.local_addr().unwrap());
        let mut env = Env::from_pairs([
            ("LOAN_DATABASE_URL".to_owned(), loan_db.url().to_owned()),
            ("KAFKA_BROKERS".to_owned(), kafka_brokers()),
            ("LOAN_EVENTS_TOPIC".to_owned(), loan_topic.clone()),
            ("CREDIT_EVENTS_TOPIC".to_owned(), credit_topic.clone()),
            ("KYC_EVENTS_TOPIC".to_owned(), kyc_topic.clone()),
            ("USER_EVENTS_TOPIC".to_owned(), user_topic.clone()),
            ("AUTH_EVENTS_TOPIC".to_owned(), auth_topic.clone()),
            (
                "AUTH_JWKS_URL".to_owned(),
                format!("{auth_url}/.well-known/jwks.json"),
            ),
            ("OUTBOX_POLL_INTERVAL".to_owned(), "200ms".to_owned()),
            ("CONSUMER_INITIAL_BACKOFF".to_owned(), "50ms".to_owned()),
        ]);
        let loan_config = tenor_loan::config::LoanConfig::from_env(&mut env);
        let mut loan_config = env.finish(loan_config).unwrap();
        loan_config.consumer.group_id = format!("tenor-loan-router-test-{run}");
        tokio::spawn(tenor_loan::run(
            loan_config,
            loan_listener,
            shutdown.clone(),
        ));

        let me = Self {
            auth_url,
            user_url,
            kyc_url,
            loan_url,
            auth,
            redis_prefix: format!("tenor-test-{run}"),
            topics: Topics {
                auth: auth_topic,
                user: user_topic,
                kyc: kyc_topic,
                loan: loan_topic,
                credit: credit_topic,
            },
            kyc_db,
            loan_db,
            _auth_db: auth_db,
            _user_db: user_db,
            key_file,
            kyc_objects,
            shutdown,
        };
        wait_until_up(&format!("{}/health", me.auth_url)).await;
        wait_until_up(&format!("{}/health", me.user_url)).await;
        wait_until_up(&format!("{}/health", me.kyc_url)).await;
        // /ready includes the live consumer's partitions: subscriptions miss nothing after it.
        wait_until_ready(&format!("{}/ready", me.loan_url)).await;
        me
    }

    /// The router config for these subgraphs: the committed one with per-test values.
    pub fn router_config(&self, port: u16) -> Yaml {
        let mut config = committed_config();
        set(&mut config, "http.port", yaml(json!(port)));
        set(
            &mut config,
            "override_subgraph_urls.subgraphs",
            yaml(json!({
                "auth": { "url": format!("{}/graphql", self.auth_url) },
                "user": { "url": format!("{}/graphql", self.user_url) },
                "kyc": { "url": format!("{}/graphql", self.kyc_url) },
                "loan": { "url": format!("{}/graphql", self.loan_url) },
            })),
        );
        let jwks = config["jwt"]["jwks_providers"][0].clone();
        let mut jwks = jwks;
        set(
            &mut jwks,
            "url",
            yaml(json!(format!("{}/.well-known/jwks.json", self.auth_url))),
        );
        // auth is up before the router here; in ./dev they start together.
        set(&mut jwks, "prefetch", yaml(json!(true)));
        set(
            &mut config,
            "jwt.jwks_providers",
            Yaml::Sequence(vec![jwks]),
        );
        if config["plugins"]["rate_limit"].is_mapping() {
            set(
                &mut config,
                "plugins.rate_limit.config.redis_url",
                yaml(json!(redis_url())),
            );
            set(
                &mut config,
                "plugins.rate_limit.config.key_prefix",
                yaml(json!(self.redis_prefix)),
            );
        }
        config
    }

    /// A customer account (registered through auth; the user profile follows via Kafka).
    pub async fn customer(&self) -> Account {
        let n = Uuid::new_v4().as_u128();
        let email = format!("cust{}@example.id", n % 1_000_000_000_000);
        let user_id = Uuid::now_v7();
        let hash = tenor_auth::domain::password::hash_async(PASSWORD.into()).await;
        let mut conn = self.auth.conn().await.unwrap();
        self.auth
            .create_account(
                &mut conn,
                user_id,
                &email,
                None,
                "Siti Rahayu",
                &hash,
                AccountKind::Customer,
                vec!["loan:apply".into(), "kyc:submit".into()],
            )
            .await
            .unwrap();
        Account {
            user_id,
            identifier: email,
            password: PASSWORD.to_owned(),
        }
    }

    /// A staff account with `scopes`, created the way the operator command does.
    pub async fn staff(&self, scopes: &[&str]) -> Account {
        let n = Uuid::new_v4().as_u128();
        let email = format!("staff{}@tenor.id", n % 1_000_000_000_000);
        let user_id = Uuid::now_v7();
        let hash = tenor_auth::domain::password::hash_async(PASSWORD.into()).await;
        let mut conn = self.auth.conn().await.unwrap();
        self.auth
            .create_account(
                &mut conn,
                user_id,
                &email,
                None,
                "Back Office",
                &hash,
                AccountKind::Staff,
                scopes.iter().map(|s| s.to_string()).collect(),
            )
            .await
            .unwrap();
        Account {
            user_id,
            identifier: email,
            password: PASSWORD.to_owned(),
        }
    }

    /// Every service database of this stack, by service name (auth, user, kyc, loan).
    pub fn database_urls(&self) -> [(&'static str, &str); 4] {
        [
            ("auth", self._auth_db.url()),
            ("user", self._user_db.url()),
            ("kyc", self.kyc_db.url()),
            ("loan", self.loan_db.url()),
        ]
    }

    /// The PEM file auth signs with (key id `k1`).
    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    /// Rows in an auth table.
    pub async fn count(&self, table: &str) -> i64 {
        let rows = self
            .query_strings(&format!("SELECT count(*)::text FROM {table}"))
            .await;
        rows[0].parse().unwrap()
    }

    /// The first column of every row of `sql` on auth's database, as text.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        let (client, connection) =
            tokio_postgres::connect(self._auth_db.url(), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(connection);
        client
            .query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect()
    }

    /// Logs in straight at auth (not through a router) and returns the access token.
    pub async fn token(&self, account: &Account) -> String {
        let response = post_graphql(
            &format!("{}/graphql", self.auth_url),
            LOGIN,
            json!({ "i": { "identifier": account.identifier, "password": account.password } }),
            None,
        )
        .await;
        response["data"]["login"]["tokens"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {response}"))
            .to_owned()
    }
}

impl Drop for Subgraphs {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = std::fs::remove_file(&self.key_file);
        let _ = std::fs::remove_dir_all(&self.kyc_objects);
    }
}

pub const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken refreshToken userId } userErrors { code message } } }";

#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: Uuid,
    pub identifier: String,
    pub password: String,
}

/// One `tenor-router` process. Killed on drop.
pub struct Router {
    pub url: String,
    pub port: u16,
    config_file: PathBuf,
    log_file: PathBuf,
    child: Child,
}

impl Router {
    /// Starts the router binary on `config` and waits until it is ready.
    pub async fn start(config: &Yaml) -> Self {
        Self::start_binary(&workspace_binary("tenor-router"), config).await
    }

    /// Like [`Router::start`] with another build of the router (the benchmark's stock one).
    pub async fn start_binary(binary: &Path, config: &Yaml) -> Self {
        Self::start_binary_with_env(binary, config, &[]).await
    }

    /// Like [`Router::start`] with extra environment variables.
    pub async fn start_with_env(config: &Yaml, env: &[(&str, &str)]) -> Self {
        Self::start_binary_with_env(&workspace_binary("tenor-router"), config, env).await
    }

    async fn start_binary_with_env(binary: &Path, config: &Yaml, env: &[(&str, &str)]) -> Self {
        let port = config["http"]["port"].as_u64().unwrap() as u16;
        let mut router = Self::spawn_binary(binary, config, env).await;
        let ready = format!("http://127.0.0.1:{port}/readiness");
        for _ in 0..300 {
            if let Ok(Some(status)) = router.child.try_wait() {
                panic!(
                    "router exited with {status} before it was ready:\n{}",
                    router.log()
                );
            }
            if let Ok(response) = reqwest::get(&ready).await
                && response.status().is_success()
            {
                return router;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("router not ready after 30 s:\n{}", router.log());
    }

    /// Starts the router binary on `config` without waiting (for start-up refusals).
    pub async fn spawn(config: &Yaml) -> Self {
        Self::spawn_with_env(config, &[]).await
    }

    /// Like [`Router::spawn`] with extra environment variables.
    pub async fn spawn_with_env(config: &Yaml, env: &[(&str, &str)]) -> Self {
        Self::spawn_binary(&workspace_binary("tenor-router"), config, env).await
    }

    async fn spawn_binary(binary: &Path, config: &Yaml, env: &[(&str, &str)]) -> Self {
        let port = config["http"]["port"].as_u64().unwrap() as u16;
        let id = Uuid::new_v4().simple();
        // Beside the committed file, so its relative paths resolve the same way.
        let config_file = repo_root().join(format!("router/.test-router-{id}.config.yaml"));
        std::fs::write(&config_file, serde_yaml::to_string(config).unwrap()).unwrap();
        let log_file = std::env::temp_dir().join(format!("tenor-router-{id}.log"));
        let log = std::fs::File::create(&log_file).unwrap();
        let child = Command::new(binary)
            .env("ROUTER_CONFIG_FILE_PATH", &config_file)
            .env_remove("PORT")
            .env_remove("LOG_LEVEL")
            .envs(env.iter().copied())
            .current_dir(repo_root())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("starting tenor-router");
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            config_file,
            log_file,
            child,
        }
    }

    /// Waits for the process to exit (start-up refusals) and returns its status and output.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("router still running after 60 s")
            .unwrap();
        (status, self.log())
    }

    /// Asks the router to stop (SIGTERM, as `./dev down`, a container runtime or Kubernetes do)
    /// and returns how it exited and its output.
    pub async fn terminate(self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().expect("router still running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        self.exit().await
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/graphql", self.port)
    }

    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        post_graphql(&self.graphql_url(), query, variables, token).await
    }

    /// Logs in through the router and returns the access token.
    pub async fn login(&self, account: &Account) -> String {
        let response = self
            .gql(
                LOGIN,
                json!({ "i": { "identifier": account.identifier, "password": account.password } }),
                None,
            )
            .await;
        response["data"]["login"]["tokens"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login through the router failed: {response}"))
            .to_owned()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.config_file);
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log_file);
        } else {
            eprintln!("router log kept at {}", self.log_file.display());
        }
    }
}

/// Subgraphs plus one router in front of them: what most tests need.
pub struct RouterStack {
    pub subgraphs: Subgraphs,
    pub router: Router,
}

impl RouterStack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`RouterStack::start`], with `adjust` applied to the generated router config.
    pub async fn start_with(adjust: impl FnOnce(&mut Yaml)) -> Self {
        let subgraphs = Subgraphs::start().await;
        let mut config = subgraphs.router_config(free_port());
        adjust(&mut config);
        let router = Router::start(&config).await;
        Self { subgraphs, router }
    }

    pub fn router_url(&self) -> &str {
        &self.router.url
    }

    pub async fn customer(&self) -> Account {
        self.subgraphs.customer().await
    }

    pub async fn staff(&self, scopes: &[&str]) -> Account {
        self.subgraphs.staff(scopes).await
    }

    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.router.gql(query, variables, token).await
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn post_graphql(url: &str, query: &str, variables: Value, token: Option<&str>) -> Value {
    // A hang is a failure to report, not a test that never ends.
    let mut request = reqwest::Client::new()
        .post(url)
        .timeout(Duration::from_secs(30))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

async fn wait_until_up(url: &str) {
    for _ in 0..200 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not come up");
}

async fn wait_until_ready(url: &str) {
    for _ in 0..300 {
        if let Ok(response) = reqwest::get(url).await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} was not ready within 30 s");
}

/// Polls `check` until it holds (events cross Kafka asynchronously).
pub async fn eventually(mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition not reached within 20 s");
}

/// Error codes of a GraphQL response, in order.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}
