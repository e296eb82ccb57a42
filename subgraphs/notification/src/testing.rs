//! Test support (feature `test-support`): this subgraph running in-process against the stack's
//! MongoDB, Redis, Kafka and Mailpit — each [`TestService`] gets its own database, topics,
//! Redis key prefix, consumer group and token issuer, and may stand on a [`ManualClock`] — plus
//! helpers to publish the events it reacts to and to read what it stored and sent.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::{Document, doc};
use tenor_contracts::identity::{AccountKind, UserProfileUpdatedV1, UserRegisteredV1};
use tenor_contracts::loan::{LoanApprovedV1, LoanInstallmentDueV1, LoanRejectedV1};
use tenor_events::{DomainEvent, Envelope};
use tenor_platform::config::Env;
pub use tenor_platform::testing::{GraphqlClient, error_code, user_error_codes};
use tenor_platform::testing::{TestIssuer, kafka_brokers, mongodb_url, redis_url};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use crate::channels::receiver::{Receiver, Reply};
pub use crate::clock::ManualClock;
use crate::store::{Contact, Notification, NotificationStatus, contacts, notifications};
use crate::{NotificationConfig, Wiring};

/// A [`NotificationConfig`] from `pairs`; panics naming every bad variable.
pub fn config_from_pairs<K: Into<String>, V: Into<String>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> NotificationConfig {
    let mut env = Env::from_pairs(pairs);
    let config = NotificationConfig::from_env(&mut env);
    env.finish(config).expect("notification test configuration")
}

/// The stack's Mailpit SMTP server (`NOTIFICATION_SMTP_URL` from `./dev env`).
pub fn smtp_url() -> String {
    std::env::var("NOTIFICATION_SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:21025".to_owned())
}

/// The stack's Mailpit HTTP API (`MAILPIT_API_URL` from `./dev env`).
pub fn mailpit_api_url() -> String {
    std::env::var("MAILPIT_API_URL").unwrap_or_else(|_| "http://127.0.0.1:28025".to_owned())
}

/// `name` on the stack's MongoDB server.
pub async fn database(name: &str) -> Database {
    tenor_platform::mongo::database(&tenor_platform::mongo::MongoConfig {
        url: mongodb_url(),
        database: name.to_owned(),
    })
    .await
    .expect("MongoDB client (is the stack up? `./dev up`)")
}

/// The topics one test service reads and writes.
#[derive(Debug, Clone)]
pub struct Topics {
    pub loan: String,
    pub kyc: String,
    pub auth: String,
    pub user: String,
    pub credit: String,
    pub notification: String,
}

/// One running notification service and everything it was started with.
pub struct TestService {
    pub db: Database,
    pub db_name: String,
    pub issuer: TestIssuer,
    pub topics: Topics,
    pub client: GraphqlClient,
    pub base_url: String,
    /// The clock the service reads (when started on one).
    pub clock: Option<ManualClock>,
    run: String,
    extra_env: Vec<(String, String)>,
    after_contact_read: Option<crate::service::ContactReadHook>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestService {
    /// With email to Mailpit and no SMS or push provider.
    pub async fn start() -> Self {
        Self::start_with(&[], None).await
    }

    /// With extra environment variables (e.g. `NOTIFICATION_SMS_URL` of a [`Receiver`]) and,
    /// when given, on a manual clock.
    pub async fn start_with(extra_env: &[(&str, &str)], clock: Option<ManualClock>) -> Self {
        Self::start_wired(extra_env, clock, None).await
    }

    /// Like [`Self::start`], with intake running `hook` between reading a borrower's contact and
    /// storing what the event makes (a deletion landing in between).
    pub async fn start_with_contact_hook(hook: crate::service::ContactReadHook) -> Self {
        Self::start_wired(&[], None, Some(hook)).await
    }

    async fn start_wired(
        extra_env: &[(&str, &str)],
        clock: Option<ManualClock>,
        after_contact_read: Option<crate::service::ContactReadHook>,
    ) -> Self {
        tenor_platform::crypto::install_providers();
        let db_name = format!("test_notification_{}", Uuid::new_v4().simple());
        let topics = Topics {
            loan: tenor_events::testing::fresh_topic("loan.events", 3).await,
            kyc: tenor_events::testing::fresh_topic("kyc.events", 3).await,
            auth: tenor_events::testing::fresh_topic("auth.events", 3).await,
            user: tenor_events::testing::fresh_topic("user.events", 3).await,
            credit: tenor_events::testing::fresh_topic("credit.events", 3).await,
            notification: tenor_events::testing::fresh_topic("notification.events", 3).await,
        };
        let mut service = Self {
            db: database(&db_name).await,
            db_name,
            issuer: TestIssuer::start().await,
            topics,
            client: GraphqlClient::new("http://127.0.0.1:0"),
            base_url: String::new(),
            clock,
            run: Uuid::new_v4().simple().to_string(),
            extra_env: extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            after_contact_read,
            shutdown: CancellationToken::new(),
            task: None,
        };
        service.launch().await;
        service
    }

    /// The configuration this service runs with.
    pub fn config(&self) -> NotificationConfig {
        let mut pairs: Vec<(String, String)> = vec![
            ("MONGODB_URL".into(), mongodb_url()),
            ("NOTIFICATION_MONGODB_DATABASE".into(), self.db_name.clone()),
            ("REDIS_URL".into(), redis_url()),
            (
                "NOTIFICATION_REDIS_PREFIX".into(),
                format!("test:notification:{}", self.run),
            ),
            ("KAFKA_BROKERS".into(), kafka_brokers()),
            ("LOAN_EVENTS_TOPIC".into(), self.topics.loan.clone()),
            ("KYC_EVENTS_TOPIC".into(), self.topics.kyc.clone()),
            ("AUTH_EVENTS_TOPIC".into(), self.topics.auth.clone()),
            ("USER_EVENTS_TOPIC".into(), self.topics.user.clone()),
            ("CREDIT_EVENTS_TOPIC".into(), self.topics.credit.clone()),
            (
                "NOTIFICATION_EVENTS_TOPIC".into(),
                self.topics.notification.clone(),
            ),
            ("NOTIFICATION_SMTP_URL".into(), smtp_url()),
            ("OUTBOX_POLL_INTERVAL".into(), "100ms".into()),
            ("NOTIFICATION_WORKER_POLL".into(), "100ms".into()),
            ("NOTIFICATION_RETRY_INITIAL".into(), "100ms".into()),
            ("NOTIFICATION_RETRY_MAX".into(), "400ms".into()),
            ("CONSUMER_INITIAL_BACKOFF".into(), "20ms".into()),
            ("CONSUMER_MAX_BACKOFF".into(), "200ms".into()),
        ];
        pairs.extend(self.extra_env.iter().cloned());
        let mut config = config_from_pairs(pairs);
        config.verifier = self.issuer.verifier_config();
        // A group per test: parallel tests in one group would rebalance each other's partitions.
        config.consumer.group_id = format!("tenor-notification-test-{}", self.run);
        config
    }

    async fn launch(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.base_url = format!("http://{}", listener.local_addr().unwrap());
        self.client = GraphqlClient::new(&self.base_url);
        self.shutdown = CancellationToken::new();
        let mut wiring = Wiring::default();
        if let Some(clock) = &self.clock {
            wiring.clock = std::sync::Arc::new(clock.clone());
        }
        wiring.after_contact_read = self.after_contact_read.clone();
        self.task = Some(tokio::spawn(crate::run_with(
            self.config(),
            wiring,
            listener,
            self.shutdown.clone(),
        )));
        let ready = tenor_platform::testing::wait_until_ready(&self.base_url).await;
        if !ready {
            let task = self.task.take().expect("just started");
            if task.is_finished() {
                panic!("the notification service stopped: {:?}", task.await);
            }
            let body = reqwest::get(format!("{}/ready", self.base_url)).await;
            let body = match body {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(error) => error.to_string(),
            };
            panic!("the notification service did not become ready: {body}");
        }
    }

    /// Stop the service — cancelling whatever it was doing, sends in flight included, as a
    /// crash would — and wait for it.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Stop, then start a fresh instance on the same database, topics and Redis prefix.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// Set `var` for the next [`Self::restart`].
    pub fn set_env(&mut self, var: &str, value: &str) {
        self.extra_env.retain(|(k, _)| k != var);
        self.extra_env.push((var.to_owned(), value.to_owned()));
    }

    pub fn token(&self, user: Uuid, scopes: &str) -> String {
        self.issuer.token(user, scopes)
    }

    /// Publish `event` about `subject` on `topic`; the envelope.
    pub async fn publish<E: DomainEvent>(&self, topic: &str, subject: Uuid, event: &E) -> Envelope {
        let envelope = Envelope::new("/tenor/test", subject.to_string(), event, None).unwrap();
        tenor_events::testing::publish(topic, &envelope).await;
        envelope
    }

    /// A borrower registered with these contacts and this profile, waited for until the
    /// projection has both.
    pub async fn borrower(&self, borrower: &Borrower) {
        let registered = UserRegisteredV1 {
            user_id: borrower.id,
            email: borrower.email.clone(),
            phone_number: borrower.phone.clone(),
            fullname: borrower.fullname.clone(),
            kind: AccountKind::Customer,
            registered_at: Utc::now() - chrono::Duration::minutes(5),
        };
        self.publish(&self.topics.auth, borrower.id, &registered)
            .await;
        let profile = UserProfileUpdatedV1 {
            user_id: borrower.id,
            fullname: borrower.fullname.clone(),
            language: borrower.language.to_owned(),
            notification_channels: borrower.channels.iter().map(|c| c.to_string()).collect(),
            marketing_consent: false,
            time_zone: borrower.time_zone.map(str::to_owned),
            updated_at: Utc::now() - chrono::Duration::minutes(4),
        };
        self.publish(&self.topics.user, borrower.id, &profile).await;
        let seen = tenor_platform::testing::wait_for(async || {
            self.contact(borrower.id)
                .await
                .is_some_and(|c| c.email.is_some() && c.channels.is_some())
        })
        .await;
        assert!(seen, "the contact projection did not get {borrower:?}");
    }

    /// `user`'s projected contact.
    pub async fn contact(&self, user: Uuid) -> Option<Contact> {
        contacts::find(&contacts::collection(&self.db), user)
            .await
            .unwrap()
    }

    /// Publish `loan.approved.v1` for a new loan of `user` of `amount` rupiah; the envelope.
    pub async fn approve_loan(&self, user: Uuid, amount: i64) -> Envelope {
        let loan = Uuid::now_v7();
        let event = LoanApprovedV1 {
            loan_id: loan,
            user_id: user,
            amount,
            tenor_months: 6,
            score: 720,
            reason_codes: vec![],
            approved_at: Utc::now(),
        };
        self.publish(&self.topics.loan, loan, &event).await
    }

    /// Publish `loan.rejected.v1` for a new loan of `user`, with credit's codes and English
    /// reason; the envelope.
    pub async fn reject_loan(&self, user: Uuid, reason_codes: &[&str], reason: &str) -> Envelope {
        let loan = Uuid::now_v7();
        let event = LoanRejectedV1 {
            loan_id: loan,
            user_id: user,
            score: 480,
            reason_codes: reason_codes.iter().map(|c| (*c).to_owned()).collect(),
            reason: Some(reason.to_owned()),
            rejected_at: Utc::now(),
        };
        self.publish(&self.topics.loan, loan, &event).await
    }

    /// Publish `loan.installment.due.v1` for a new loan of `user`; the envelope.
    pub async fn installment_due(&self, user: Uuid, due_date: NaiveDate, amount: i64) -> Envelope {
        let loan = Uuid::now_v7();
        let event = LoanInstallmentDueV1 {
            loan_id: loan,
            user_id: user,
            installment_number: 1,
            due_date,
            amount_due: amount,
        };
        self.publish(&self.topics.loan, loan, &event).await
    }

    /// Re-publish `envelope` as it was (a redelivery).
    pub async fn redeliver(&self, topic: &str, envelope: &Envelope) {
        tenor_events::testing::publish(topic, envelope).await;
    }

    /// Every notification of `user`, oldest first.
    pub async fn notifications(&self, user: Uuid) -> Vec<Notification> {
        let documents: Vec<Document> = notifications::collection(&self.db)
            .find(doc! { "user_id": user.to_string() })
            .sort(doc! { "created_at": 1, "_id": 1 })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let ids: Vec<Uuid> = documents
            .iter()
            .filter_map(|d| d.get_str("event_id").ok()?.parse().ok())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        notifications::of_events(&notifications::collection(&self.db), &ids)
            .await
            .unwrap()
    }

    /// The notifications of `user` once `done` holds for them (or after 20 s, whatever they
    /// are then).
    pub async fn notifications_when(
        &self,
        user: Uuid,
        done: impl Fn(&[Notification]) -> bool,
    ) -> Vec<Notification> {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let found = self.notifications(user).await;
            if done(&found) || std::time::Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Delete the Redis dedupe key of `event`, as if it had expired: a redelivery then meets
    /// only the unique indexes.
    pub async fn forget_handled(&self, event: Uuid) {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let key = format!("test:notification:{}:handled:{event}", self.run);
        let deleted: u32 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(deleted, 1, "{key} was set once the event was handled");
    }

    /// How many documents `collection` holds matching `filter`.
    pub async fn count(&self, collection: &str, filter: Document) -> u64 {
        self.db
            .collection::<Document>(collection)
            .count_documents(filter)
            .await
            .unwrap()
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown.cancel();
        // Drop runs inside the test's runtime: remove the database from a thread of its own.
        let name = self.db_name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(async { database(&name).await.drop().await })
        })
        .join();
    }
}

/// A borrower for a test: unique address, chosen language, channels and zone.
#[derive(Debug, Clone)]
pub struct Borrower {
    pub id: Uuid,
    pub email: String,
    pub phone: Option<String>,
    pub fullname: String,
    /// `id` or `en`.
    pub language: &'static str,
    /// As the user service names them: `EMAIL`, `SMS`, `WHATSAPP`, `PUSH`.
    pub channels: Vec<&'static str>,
    pub time_zone: Option<&'static str>,
}

impl Borrower {
    /// An Indonesian-speaking borrower in WIB reached by email and SMS.
    pub fn new(fullname: &str) -> Self {
        let id = Uuid::new_v4();
        Self {
            id,
            email: format!("{}@tenor-test.example.id", id.simple()),
            phone: Some(format!("+62812{}", &id.as_u128().to_string()[..8])),
            fullname: fullname.to_owned(),
            language: "id",
            channels: vec!["EMAIL", "SMS"],
            time_zone: None,
        }
    }

    pub fn english(mut self) -> Self {
        self.language = "en";
        self
    }

    pub fn channels(mut self, channels: &[&'static str]) -> Self {
        self.channels = channels.to_vec();
        self
    }
}

/// One message Mailpit caught.
#[derive(Debug, Clone)]
pub struct CaughtEmail {
    pub id: String,
    pub subject: String,
    pub text: String,
    /// `X-Tenor-Notification-Id`.
    pub notification_id: Option<String>,
}

/// The messages Mailpit caught for `to`, newest first (subject, text, notification id).
pub async fn emails_to(to: &str) -> Vec<CaughtEmail> {
    let http = reqwest::Client::new();
    let api = mailpit_api_url();
    let found: serde_json::Value = http
        .get(format!(
            "{api}/api/v1/search?query={}",
            percent_encode(&format!("to:\"{to}\""))
        ))
        .send()
        .await
        .expect("Mailpit API (is the stack up?)")
        .json()
        .await
        .unwrap();
    let mut emails = Vec::new();
    for message in found["messages"].as_array().cloned().unwrap_or_default() {
        let id = message["ID"].as_str().unwrap_or_default().to_owned();
        let full: serde_json::Value = http
            .get(format!("{api}/api/v1/message/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let headers: serde_json::Value = http
            .get(format!("{api}/api/v1/message/{id}/headers"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        emails.push(CaughtEmail {
            id,
            subject: full["Subject"].as_str().unwrap_or_default().to_owned(),
            text: full["Text"].as_str().unwrap_or_default().to_owned(),
            notification_id: headers["X-Tenor-Notification-Id"][0]
                .as_str()
                .map(str::to_owned),
        });
    }
    emails
}

/// The emails for `to` once there are at least `n` (or after `timeout`, whatever there is).
pub async fn wait_for_emails(to: &str, n: usize, timeout: Duration) -> Vec<CaughtEmail> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let emails = emails_to(to).await;
        if emails.len() >= n || std::time::Instant::now() > deadline {
            return emails;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether every notification is in one of the final states.
pub fn all_settled(notifications: &[Notification]) -> bool {
    !notifications.is_empty()
        && notifications
            .iter()
            .all(|n| n.status != NotificationStatus::Pending)
}

/// `at` given as local WIB wall-clock time, e.g. `wib("2027-01-15 22:00")`.
pub fn wib(local: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    (naive - chrono::Duration::hours(7)).and_utc()
}

/// `text` with everything but unreserved characters percent-encoded (a query value).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
