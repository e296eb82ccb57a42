//! What every start shares ([`World`]): databases, topics, keys, the shared auth and its
//! customer; and filling the placeholders of a setting's value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tenor_events::kafka::ensure_topics;
use tenor_platform::testing::{TestDatabase, kafka_brokers, mongodb_url, redis_url};
use uuid::Uuid;

use super::POSTGRES;
use super::Svc::{self, *};
use super::documentation::repo_root;
use super::running::{Running, register_and_login};

/// What every start shares: databases, topics, keys, the shared auth and its customer.
pub(super) struct World {
    run: String,
    pub(super) dir: PathBuf,
    /// Empty for the bad-value test (configuration is read before anything connects).
    databases: BTreeMap<Svc, TestDatabase>,
    pems: Vec<PathBuf>,
    kyc_keys: [String; 3],
    topics: BTreeMap<&'static str, String>,
    /// The MongoDB databases handed out (risk's and notification's, one per start), dropped by [`World::clean_up`].
    mongo_databases: Mutex<Vec<String>>,
    pub(super) shared_auth: Option<Running>,
    pub(super) customer: Option<Customer>,
}

pub(super) struct Customer {
    pub(super) access_token: String,
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn random_key() -> String {
    let bytes: [u8; 32] = rand::random();
    STANDARD.encode(bytes)
}

pub(super) fn redis_with_db(db: u8) -> String {
    format!("{}/{db}", redis_url().trim_end_matches('/'))
}

async fn fresh_topic(name: &str, run: &str) -> String {
    let topic = format!("test.settings.{run}.{name}");
    let dlq = format!("{topic}.dlq");
    ensure_topics(&kafka_brokers(), &[(&topic, 1), (&dlq, 1)])
        .await
        .expect("creating topics (is the stack up? `./dev up`)");
    topic
}

/// The topics every start gets (each service reads some), plus the shared auth's own.
const TOPICS: &[&str] = &[
    "auth",
    "user",
    "kyc",
    "loan",
    "credit",
    "risk",
    "notification",
    "shared-auth",
];

/// A directory holding one credit rule set: the shipped one under a new version, effective
/// later (a valid operator addition).
fn rules_dir(dir: &Path) -> PathBuf {
    let rules = dir.join(format!("rules-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&rules).unwrap();
    let shipped =
        std::fs::read_to_string(repo_root().join("subgraphs/credit/rules/2026-12-01.toml"))
            .unwrap();
    let text = shipped
        .replace("version = \"2026-12-01\"", "version = \"ops-settings\"")
        .replace("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    assert_ne!(
        text, shipped,
        "the shipped rule set changed its version line"
    );
    std::fs::write(rules.join("ops-settings.toml"), text).unwrap();
    rules
}

/// A notification holiday file adding one day the compiled-in lists do not have.
fn holidays_file(dir: &Path) -> PathBuf {
    let file = dir.join(format!("holidays-{}.toml", Uuid::new_v4().simple()));
    std::fs::write(
        &file,
        "[[holiday]]\ndate = 2028-01-01\nname = \"Tahun Baru 2028 Masehi\"\n",
    )
    .unwrap();
    file
}

/// A notification holiday file that does not parse where `text` stands (an unquoted name), so
/// a parser message quoting the line would show it.
fn broken_holidays_file(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join(format!("broken-holidays-{}.toml", Uuid::new_v4().simple()));
    std::fs::write(
        &file,
        format!("[[holiday]]\ndate = 2028-01-01\nname = {text}\n"),
    )
    .unwrap();
    file
}

/// The stack's Mailpit SMTP address, host:port (`./dev env` exports `NOTIFICATION_SMTP_URL`).
fn mailpit_smtp() -> String {
    std::env::var("NOTIFICATION_SMTP_URL")
        .ok()
        .and_then(|url| url.strip_prefix("smtp://").map(str::to_owned))
        .map_or_else(
            || "127.0.0.1:21025".to_owned(),
            |rest| rest.trim_end_matches('/').to_owned(),
        )
}

/// A directory holding a credit rule file that does not parse; `first_line` is a comment.
fn broken_rules_dir(dir: &Path, first_line: &str) -> PathBuf {
    let rules = dir.join(format!("broken-rules-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("broken.toml"),
        format!("# {first_line}\nversion = "),
    )
    .unwrap();
    rules
}

impl World {
    /// Keys, directories and topics only: enough to start services that must refuse to.
    pub(super) async fn bare() -> Self {
        Self::create(false).await
    }

    /// Also a database per service and the shared auth with a customer.
    pub(super) async fn new() -> Self {
        Self::create(true).await
    }

    async fn create(full: bool) -> Self {
        let run = Uuid::new_v4().simple().to_string()[..12].to_owned();
        let dir = std::env::temp_dir().join(format!("tenor-settings-{run}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut pems = Vec::new();
        for n in 1..=2 {
            let pem = dir.join(format!("k{n}.pem"));
            std::fs::write(&pem, tenor_auth::keys::generate_pem()).unwrap();
            pems.push(pem);
        }
        let mut databases = BTreeMap::new();
        let mut topics = BTreeMap::new();
        if !full {
            for name in TOPICS {
                topics.insert(*name, format!("test.settings.{run}.{name}"));
            }
            return Self {
                run,
                dir,
                databases,
                pems,
                kyc_keys: [random_key(), random_key(), random_key()],
                topics,
                mongo_databases: Mutex::default(),
                shared_auth: None,
                customer: None,
            };
        }
        databases.insert(
            Auth,
            tenor_events::testing::service_database("settings_auth", tenor_auth::MIGRATIONS).await,
        );
        databases.insert(
            User,
            tenor_events::testing::service_database("settings_user", tenor_user::MIGRATIONS).await,
        );
        databases.insert(
            Kyc,
            tenor_events::testing::service_database("settings_kyc", tenor_kyc::MIGRATIONS).await,
        );
        databases.insert(
            Loan,
            tenor_events::testing::service_database("settings_loan", tenor_loan::MIGRATIONS).await,
        );
        // Credit's database starts empty: the tests crate does not link tenor-credit for its
        // migrations, so the first credit start migrates it (under the migration lock, which
        // makes concurrent starts wait for it).
        databases.insert(Credit, TestDatabase::new("settings_credit", Vec::new).await);
        for name in TOPICS {
            topics.insert(*name, fresh_topic(name, &run).await);
        }
        let mut world = Self {
            run,
            dir,
            databases,
            pems,
            kyc_keys: [random_key(), random_key(), random_key()],
            topics,
            mongo_databases: Mutex::default(),
            shared_auth: None,
            customer: None,
        };
        // The auth whose tokens the other services verify, with one customer.
        let mut env = world.base_env(Auth, free_port());
        env.insert(
            "AUTH_EVENTS_TOPIC".into(),
            world.topics["shared-auth"].clone(),
        );
        let auth = Running::start(Auth, env, "127.0.0.1").await.unwrap();
        let (access_token, _) = register_and_login(&auth).await.unwrap();
        world.customer = Some(Customer { access_token });
        world.shared_auth = Some(auth);
        world
    }

    /// Stops the shared auth, drops the MongoDB databases handed out and removes the directory.
    pub(super) async fn clean_up(mut self) {
        if let Some(auth) = self.shared_auth.take() {
            auth.stop().await;
        }
        let names = std::mem::take(&mut *self.mongo_databases.lock().unwrap());
        for name in names {
            if let Ok(db) = mongo_database(&name).await {
                let _ = db.drop().await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// A fresh MongoDB database name, remembered for [`World::clean_up`].
    fn fresh_mongo_database(&self) -> String {
        let name = format!(
            "test_settings_{}_{}",
            self.run,
            &Uuid::new_v4().simple().to_string()[..8]
        );
        self.mongo_databases.lock().unwrap().push(name.clone());
        name
    }

    fn jwks_url(&self) -> String {
        format!(
            "{}/.well-known/jwks.json",
            self.shared_auth.as_ref().unwrap().url
        )
    }

    /// What `./dev env` and `./dev up` give each service, with this test's databases, topics,
    /// keys and a free port.
    pub(super) fn base_env(&self, svc: Svc, port: u16) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            env.insert(k.to_owned(), v);
        };
        set("PORT", port.to_string());
        set("KAFKA_BROKERS", kafka_brokers());
        if POSTGRES.contains(&svc) {
            set(
                &format!("{}_DATABASE_URL", svc.name().to_uppercase()),
                self.databases.get(&svc).map_or_else(
                    || "postgres://tenor:tenor@127.0.0.1:1/unused".to_owned(),
                    |db| db.url().to_owned(),
                ),
            );
        }
        set("AUTH_EVENTS_TOPIC", self.topics["auth"].clone());
        set("USER_EVENTS_TOPIC", self.topics["user"].clone());
        set("KYC_EVENTS_TOPIC", self.topics["kyc"].clone());
        set("LOAN_EVENTS_TOPIC", self.topics["loan"].clone());
        set("CREDIT_EVENTS_TOPIC", self.topics["credit"].clone());
        set("RISK_EVENTS_TOPIC", self.topics["risk"].clone());
        set(
            "NOTIFICATION_EVENTS_TOPIC",
            self.topics["notification"].clone(),
        );
        if svc != Auth && self.shared_auth.is_some() {
            set("AUTH_JWKS_URL", self.jwks_url());
        }
        match svc {
            Auth => {
                set("REDIS_URL", redis_url());
                set(
                    "AUTH_SIGNING_KEYS",
                    format!("k1={}", self.pems[0].display()),
                );
                set("AUTH_ACTIVE_SIGNING_KEY", "k1".into());
            }
            Kyc => {
                set(
                    "KYC_OBJECT_STORE_URL",
                    format!("file://{}", self.dir.join("objects").display()),
                );
                set("KYC_PUBLIC_URL", format!("http://127.0.0.1:{port}"));
                set("KYC_MASTER_KEY", self.kyc_keys[0].clone());
                set("KYC_BLIND_INDEX_KEY", self.kyc_keys[1].clone());
                set("KYC_URL_SIGNING_KEY", self.kyc_keys[2].clone());
            }
            Risk => {
                set("MONGODB_URL", mongodb_url());
                set("RISK_MONGODB_DATABASE", self.fresh_mongo_database());
                set("RISK_MASTER_KEY", random_key());
            }
            Notification => {
                set("MONGODB_URL", mongodb_url());
                set("NOTIFICATION_MONGODB_DATABASE", self.fresh_mongo_database());
                set("REDIS_URL", redis_url());
                set(
                    "NOTIFICATION_SMTP_URL",
                    format!("smtp://{}", mailpit_smtp()),
                );
            }
            User | Loan | Credit => {}
        }
        env
    }

    /// `template` with its placeholders filled in.
    pub(super) async fn fill(
        &self,
        template: &str,
        svc: Svc,
        port: u16,
        extra: &mut Extra,
    ) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            let key = &rest[start + 1..end];
            let value = match key.split_once(':') {
                None => match key {
                    "port" => port.to_string(),
                    "jwks" => self.jwks_url(),
                    "brokers" => kafka_brokers(),
                    "key32" => random_key(),
                    // A valid non-default spelling of the stack's URL.
                    "mongo-url" => format!(
                        "{}/?connectTimeoutMS=5000",
                        mongodb_url().trim_end_matches('/')
                    ),
                    "mongo-db" => self.fresh_mongo_database(),
                    "rules" => rules_dir(&self.dir).display().to_string(),
                    "holidays" => holidays_file(&self.dir).display().to_string(),
                    "smtp" => mailpit_smtp(),
                    "shared-auth-topic" => self.topics["shared-auth"].clone(),
                    "db" => {
                        let db = TestDatabase::new("settings_empty", Vec::new).await;
                        // A valid non-default spelling of the same URL.
                        let url = db.url().replacen("postgres://", "postgresql://", 1);
                        extra.database = Some(db);
                        url
                    }
                    other => panic!("unknown placeholder {other}"),
                },
                Some(("topic", name)) => {
                    fresh_topic(&format!("{name}-{}", svc.name()), &self.run).await
                }
                Some(("broken-rules", first_line)) => broken_rules_dir(&self.dir, first_line)
                    .display()
                    .to_string(),
                Some(("broken-holidays", text)) => {
                    broken_holidays_file(&self.dir, text).display().to_string()
                }
                Some(("redis-db", n)) => redis_with_db(n.parse().unwrap()),
                Some(("pem", n)) => self.pems[n.parse::<usize>().unwrap() - 1]
                    .display()
                    .to_string(),
                Some(("dir", name)) => {
                    let dir = self.dir.join(format!("{name}-{}", Uuid::new_v4().simple()));
                    extra.directory = Some(dir.clone());
                    dir.display().to_string()
                }
                Some((other, _)) => panic!("unknown placeholder {other}"),
            };
            if key.starts_with("topic:") {
                extra.topic = Some(value.clone());
            }
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// The database `name` on the stack's MongoDB server.
pub(super) async fn mongo_database(name: &str) -> Result<mongodb::Database, String> {
    tenor_platform::mongo::database(&tenor_platform::mongo::MongoConfig {
        url: mongodb_url(),
        database: name.to_owned(),
    })
    .await
    .map_err(|e| format!("MongoDB client: {e}"))
}

/// What filling a value created.
#[derive(Default)]
pub(super) struct Extra {
    pub(super) database: Option<TestDatabase>,
    pub(super) directory: Option<PathBuf>,
    pub(super) topic: Option<String>,
    /// The MongoDB database the service was started with (risk, notification).
    pub(super) mongo_database: Option<String>,
}
