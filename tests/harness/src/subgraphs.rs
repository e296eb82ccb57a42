//! The subgraphs (auth, user, kyc, loan) in-process against the stack's PostgreSQL and Kafka,
//! each stack with its own databases, topics, signing key and object folder; with
//! [`Subgraphs::start_deciding`] also credit and risk ([`Deciders`]) and notification
//! ([`Notifications`]), as processes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tenor_auth::service::AuthService;
use tenor_events::kafka::ensure_topics;
use tenor_platform::config::Env;
use tenor_platform::manifest;
use tenor_platform::testing::{TestDatabase, kafka_brokers};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::client::{wait_until_ready, wait_until_up};
use crate::deciders::Deciders;
use crate::notification::Notifications;

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
    /// Credit and risk, when this stack decides loans itself ([`Subgraphs::start_deciding`]).
    pub deciders: Option<Deciders>,
    /// Notification, which tells borrowers about the decisions (with [`Subgraphs::start_deciding`]).
    pub notification: Option<Notifications>,
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
    /// Where credit publishes `credit.decision.made` (a test producer does, in stacks without
    /// [`Deciders`]).
    pub credit: String,
    pub risk: String,
    pub notification: String,
}

impl Subgraphs {
    /// auth, user, kyc and loan; loans stay SUBMITTED until a test publishes a decision.
    pub async fn start() -> Self {
        Self::start_with(false, false).await
    }

    /// Also credit and risk (as processes): every submitted loan gets decided, as in production;
    /// and notification (a process too), which tells the borrower.
    pub async fn start_deciding() -> Self {
        Self::start_with(true, true).await
    }

    /// Credit and risk without notification: the decision path alone, for a benchmark that
    /// wants to tell its cost apart from notification's share of the machine.
    pub async fn start_deciding_without_notification() -> Self {
        Self::start_with(true, false).await
    }

    async fn start_with(deciding: bool, telling: bool) -> Self {
        tenor_platform::crypto::install_providers();
        let auth_db =
            tenor_events::testing::service_database("router_auth", tenor_auth::MIGRATIONS).await;
        let user_db =
            tenor_events::testing::service_database("router_user", tenor_user::MIGRATIONS).await;
        let kyc_db =
            tenor_events::testing::service_database("router_kyc", tenor_kyc::MIGRATIONS).await;
        let loan_db =
            tenor_events::testing::service_database("router_loan", tenor_loan::MIGRATIONS).await;
        let run = Uuid::new_v4().simple().to_string();
        // The consumers running inside this process are static members of their groups under
        // this name (a replica started as a process has its own, `ServiceProcess::start`).
        let in_process = format!("in-process-{run}");
        let auth_topic = format!("test.{run}.auth.events");
        let user_topic = format!("test.{run}.user.events");
        let kyc_topic = format!("test.{run}.kyc.events");
        let loan_topic = format!("test.{run}.loan.events");
        let credit_topic = format!("test.{run}.credit.events");
        let risk_topic = format!("test.{run}.risk.events");
        let notification_topic = format!("test.{run}.notification.events");
        // Every topic of services.toml under this run's prefix; one partition each keeps
        // topic creation quick for the many stacks a test run starts.
        let topics: Vec<String> = manifest::topics()
            .iter()
            .map(|topic| format!("test.{run}.{}", topic.name))
            .collect();
        let specs: Vec<(&str, i32)> = topics.iter().map(|name| (name.as_str(), 1)).collect();
        ensure_topics(&kafka_brokers(), &specs)
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
            ("CONSUMER_INSTANCE_ID".to_owned(), in_process.clone()),
        ]);
        let auth_config = tenor_auth::config::AuthConfig::from_env(&mut env);
        let mut auth_config = env.finish(auth_config).unwrap();
        // Its own groups per run: parallel tests would otherwise rebalance shared groups, and a
        // finished stack's static members would linger in them for a session.
        auth_config.consumer.group_id = format!("tenor-auth-test-{run}");
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
            // Which loans are open: an account is not deleted while one is.
            ("LOAN_EVENTS_TOPIC".to_owned(), loan_topic.clone()),
            ("USER_EVENTS_TOPIC".to_owned(), user_topic.clone()),
            (
                "AUTH_JWKS_URL".to_owned(),
                format!("{auth_url}/.well-known/jwks.json"),
            ),
            ("OUTBOX_POLL_INTERVAL".to_owned(), "200ms".to_owned()),
            ("CONSUMER_INITIAL_BACKOFF".to_owned(), "50ms".to_owned()),
            ("CONSUMER_INSTANCE_ID".to_owned(), in_process.clone()),
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
            // A deleted account's KYC data is erased on user's status event.
            ("USER_EVENTS_TOPIC".to_owned(), user_topic.clone()),
            ("CONSUMER_GROUP_PREFIX".to_owned(), format!("test-{run}-")),
            ("CONSUMER_INSTANCE_ID".to_owned(), in_process.clone()),
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
            ("CONSUMER_INSTANCE_ID".to_owned(), in_process.clone()),
            // The dashboard test gives one borrower four loans within a minute; the limit of 3
            // a day is loan's own tests' to prove.
            ("LOAN_APPLICATIONS_PER_DAY".to_owned(), "10".to_owned()),
        ]);
        let loan_config = tenor_loan::config::LoanConfig::from_env(&mut env);
        let mut loan_config = env.finish(loan_config).unwrap();
        // The form CONSUMER_GROUP_PREFIX gives (`<prefix>tenor-loan`), so a replica started as a
        // process joins this same group (`Subgraphs::loan_replica`).
        loan_config.consumer.group_id = format!("router-test-{run}-tenor-loan");
        tokio::spawn(tenor_loan::run(
            loan_config,
            loan_listener,
            shutdown.clone(),
        ));

        let topics = Topics {
            auth: auth_topic,
            user: user_topic,
            kyc: kyc_topic,
            loan: loan_topic,
            credit: credit_topic,
            risk: risk_topic,
            notification: notification_topic,
        };
        // Side by side: notification's start (its consumer groups joining) adds no wait to
        // that of credit and risk.
        let (deciders, notification) = match (deciding, telling) {
            (true, true) => {
                let (deciders, notification) = tokio::join!(
                    Deciders::start(&run, &topics, &auth_url),
                    Notifications::start(&run, &topics, &auth_url),
                );
                (Some(deciders), Some(notification))
            }
            (true, false) => (Some(Deciders::start(&run, &topics, &auth_url).await), None),
            (false, _) => (None, None),
        };
        let me = Self {
            auth_url,
            user_url,
            kyc_url,
            loan_url,
            auth,
            redis_prefix: format!("tenor-test-{run}"),
            topics,
            kyc_db,
            deciders,
            notification,
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

    /// Every PostgreSQL service database of this stack, by service name (auth, user, kyc, loan,
    /// and credit when the stack decides loans).
    pub fn database_urls(&self) -> Vec<(&'static str, &str)> {
        let mut urls = vec![
            ("auth", self._auth_db.url()),
            ("user", self._user_db.url()),
            ("kyc", self.kyc_db.url()),
            ("loan", self.loan_db.url()),
        ];
        if let Some(deciders) = &self.deciders {
            urls.push(("credit", deciders.credit_db.url()));
        }
        urls
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
}

impl Drop for Subgraphs {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = std::fs::remove_file(&self.key_file);
        let _ = std::fs::remove_dir_all(&self.kyc_objects);
    }
}
