//! Credit and risk — the two contexts that decide a submitted loan — as deployed: their binaries
//! as child processes (see [`ServiceProcess`]) on this stack's topics, a fresh credit database
//! and a fresh risk MongoDB database. A test can kill either the hard way and start it again.
//!
//! Only stacks started with [`crate::Subgraphs::start_deciding`] have them; the others leave
//! decisions to a test producer (tests that need to choose the decision and its moment).

use tenor_platform::testing::{TestDatabase, kafka_brokers, mongodb_url};
pub use tenor_risk::bureau::sandbox::{self as bureau, BureauProfile};
use uuid::Uuid;

use crate::process::ServiceProcess;
use crate::subgraphs::Topics;

pub struct Deciders {
    pub credit: ServiceProcess,
    pub risk: ServiceProcess,
    pub credit_db: TestDatabase,
    /// Risk's database (evaluations, the bureau work queue, the simulated bureau's sandbox).
    pub risk_db: mongodb::Database,
}

impl Deciders {
    /// Risk first: credit decides once risk has answered, and both must hear every
    /// `loan.submitted` from the start of the topic's life.
    pub(crate) async fn start(run: &str, topics: &Topics, auth_url: &str) -> Self {
        let credit_db =
            tenor_events::testing::service_database("router_credit", tenor_credit::MIGRATIONS)
                .await;
        let risk_database = format!("tenor_risk_test_{run}");
        let jwks = format!("{auth_url}/.well-known/jwks.json");
        let common = |extra: &[(&str, String)]| -> Vec<(String, String)> {
            [
                ("KAFKA_BROKERS", kafka_brokers()),
                ("AUTH_JWKS_URL", jwks.clone()),
                // Each stack its own consumer groups: a member killed in one test must not stall
                // another test's partitions until its session times out.
                ("CONSUMER_GROUP_PREFIX", format!("test-{run}-")),
                ("CONSUMER_INITIAL_BACKOFF", "50ms".to_owned()),
                // librdkafka's default session: a restarted decider (same CONSUMER_INSTANCE_ID,
                // `ServiceProcess::start`) must take its partitions back at once rather than
                // wait for its killed self to expire, which would outlast the tests' patience
                // (`killed_deciders_decide_each_loan_exactly_once_after_restart`).
                ("CONSUMER_SESSION_TIMEOUT", "45s".to_owned()),
                ("LOAN_EVENTS_TOPIC", topics.loan.clone()),
                ("RISK_EVENTS_TOPIC", topics.risk.clone()),
                ("CREDIT_EVENTS_TOPIC", topics.credit.clone()),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
        };
        let risk = ServiceProcess::start(
            "risk",
            common(&[
                ("MONGODB_URL", mongodb_url()),
                ("RISK_MONGODB_DATABASE", risk_database.clone()),
                (
                    "RISK_MASTER_KEY",
                    tenor_platform::vault::Key32::random().to_base64(),
                ),
                // A bureau that keeps failing gives up quickly here (production: 60s).
                ("RISK_BUREAU_DEADLINE", "3s".to_owned()),
                // A risk killed in the middle of a relay round leaves its outbox lease behind,
                // and the restarted process waits for it to expire before relaying (production:
                // 60s, README § What is not there yet); the restart tests wait 30 s.
                ("OUTBOX_LEASE", "5s".to_owned()),
                ("RISK_WORKER_POLL", "200ms".to_owned()),
            ]),
        )
        .await;
        let credit = ServiceProcess::start(
            "credit",
            common(&[
                ("CREDIT_DATABASE_URL", credit_db.url().to_owned()),
                ("AUTH_EVENTS_TOPIC", topics.auth.clone()),
                ("USER_EVENTS_TOPIC", topics.user.clone()),
                ("KYC_EVENTS_TOPIC", topics.kyc.clone()),
            ]),
        )
        .await;
        let client = mongodb::Client::with_uri_str(mongodb_url())
            .await
            .expect("MongoDB client");
        Self {
            credit,
            risk,
            credit_db,
            risk_db: client.database(&risk_database),
        }
    }

    /// Gives `user` this file at the simulated bureau (e.g. `bureau::delinquent()`): the
    /// bureau's sandbox, which decides what risk hears about the borrower.
    pub async fn bureau_file(&self, user: Uuid, profile: &BureauProfile) {
        bureau::set_bureau_profile(&self.risk_db, user, profile)
            .await
            .expect("writing the bureau sandbox");
    }

    /// `tenor-credit replay --all` on this stack's credit database: (exit success, output).
    pub async fn replay_all(&self) -> (bool, String) {
        let output = tokio::process::Command::new(crate::workspace_binary("tenor-credit"))
            .args(["replay", "--all"])
            .env("CREDIT_DATABASE_URL", self.credit_db.url())
            .env_remove("LOG_LEVEL")
            .output()
            .await
            .expect("running tenor-credit replay");
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), text)
    }
}
