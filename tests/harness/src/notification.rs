//! The notification subgraph as deployed: its binary as a child process (see [`ServiceProcess`])
//! on this stack's topics, with a fresh MongoDB database, a Redis key prefix of its own, email
//! to the stack's Mailpit and SMS to a [`Receiver`] this stack holds, so a test reads what was
//! sent. A process, not a task: a test kills it the hard way (SIGKILL, no clean shutdown) while
//! decisions keep coming, as it does credit and risk.
//!
//! Only stacks started with [`crate::Subgraphs::start_deciding`] run it (the journeys that end
//! in a decision a borrower hears about); the others route `notification` nowhere.

use std::time::Duration;

use futures::TryStreamExt as _;
use mongodb::bson::{Document, doc};
use tenor_notification::store::{contacts, inbox, notifications};
use tenor_notification::templates::store as templates;
use tenor_platform::testing::{kafka_brokers, mongodb_url, redis_url};
use uuid::Uuid;

pub use tenor_notification::channels::receiver::{ReceivedRequest, Receiver};
pub use tenor_notification::testing::{CaughtEmail, emails_to, wait_for_emails};

use crate::process::ServiceProcess;
use crate::subgraphs::Topics;

/// Every collection that holds what notification keeps about borrowers and templates — what a
/// refused request must leave as it was. Left out: the announcements (the outbox, emptied by
/// the relay in the background) and the seed bookkeeping.
pub const STATE_COLLECTIONS: &[&str] = &[
    templates::VERSIONS,
    templates::HEADS,
    inbox::COLLECTION,
    notifications::COLLECTION,
    contacts::COLLECTION,
];

/// The inbox items (`_id` = the event's id; `user_id`, `event_type`, `read_at`, …).
pub const INBOX: &str = inbox::COLLECTION;

pub struct Notifications {
    pub process: ServiceProcess,
    /// Its database (notifications, inbox, templates, contacts).
    pub db: mongodb::Database,
    /// The SMS provider it sends to: every request it made, as the provider saw it.
    pub sms: Receiver,
}

impl Notifications {
    pub(crate) async fn start(run: &str, topics: &Topics, auth_url: &str) -> Self {
        let database = format!("tenor_notification_test_{run}");
        let sms = Receiver::answering([200]).await;
        let env = [
            ("MONGODB_URL", mongodb_url()),
            ("NOTIFICATION_MONGODB_DATABASE", database.clone()),
            ("REDIS_URL", redis_url()),
            (
                "NOTIFICATION_REDIS_PREFIX",
                format!("tenor-test-{run}:notification"),
            ),
            ("KAFKA_BROKERS", kafka_brokers()),
            ("AUTH_JWKS_URL", format!("{auth_url}/.well-known/jwks.json")),
            // Its own consumer group per stack: a member killed in one test must not stall
            // another test's partitions until its session times out.
            ("CONSUMER_GROUP_PREFIX", format!("test-{run}-")),
            ("CONSUMER_INITIAL_BACKOFF", "50ms".to_owned()),
            ("LOAN_EVENTS_TOPIC", topics.loan.clone()),
            ("KYC_EVENTS_TOPIC", topics.kyc.clone()),
            ("AUTH_EVENTS_TOPIC", topics.auth.clone()),
            ("USER_EVENTS_TOPIC", topics.user.clone()),
            ("CREDIT_EVENTS_TOPIC", topics.credit.clone()),
            ("NOTIFICATION_EVENTS_TOPIC", topics.notification.clone()),
            (
                "NOTIFICATION_SMTP_URL",
                tenor_notification::testing::smtp_url(),
            ),
            ("NOTIFICATION_SMS_URL", sms.url()),
            ("OUTBOX_POLL_INTERVAL", "200ms".to_owned()),
            // As risk's (`deciders.rs`): a kill in the middle of a relay round leaves a lease
            // the restarted process waits out.
            ("OUTBOX_LEASE", "5s".to_owned()),
            ("NOTIFICATION_WORKER_POLL", "200ms".to_owned()),
            // A send cut off by a kill is taken over after the lease (production: 30s).
            ("NOTIFICATION_SEND_TIMEOUT", "3s".to_owned()),
            ("NOTIFICATION_SMTP_TIMEOUT", "3s".to_owned()),
            ("NOTIFICATION_PROVIDER_TIMEOUT", "3s".to_owned()),
            ("NOTIFICATION_CLAIM_LEASE", "5s".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let process = ServiceProcess::start("notification", env).await;
        let client = mongodb::Client::with_uri_str(mongodb_url())
            .await
            .expect("MongoDB client");
        Self {
            process,
            db: client.database(&database),
            sms,
        }
    }

    /// The SMS sent to `phone` so far (the provider's view: `to`, `text`, `reference`).
    pub fn sms_to(&self, phone: &str) -> Vec<ReceivedRequest> {
        self.sms
            .received()
            .into_iter()
            .filter(|request| request.json["to"] == phone)
            .collect()
    }

    /// `user`'s contact as notification projected it from `user.*` events (`None` before the
    /// first one): what decides the language and the channels of their messages.
    pub async fn contact(&self, user: Uuid) -> Option<Document> {
        self.db
            .collection::<Document>(contacts::COLLECTION)
            .find_one(doc! { "_id": user.to_string() })
            .await
            .expect("reading notification_contacts")
    }

    /// Until nothing is in flight: no notification waiting for a send and no inbox item whose
    /// announcement the relay has still to publish.
    pub async fn settle(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let pending = self
                .db
                .collection::<Document>(notifications::COLLECTION)
                .count_documents(doc! { "status": "pending" })
                .await
                .unwrap();
            let unannounced = self
                .db
                .collection::<Document>(inbox::ANNOUNCEMENTS)
                .count_documents(doc! { "outbox_pending": true })
                .await
                .unwrap();
            if pending == 0 && unannounced == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "notification still busy after 30 s: {pending} pending, {unannounced} unannounced"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every document of every [`STATE_COLLECTIONS`] collection, as relaxed extended JSON in
    /// `_id` order, by collection: equal snapshots mean nothing was written.
    pub async fn snapshot(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for name in STATE_COLLECTIONS {
            let documents: Vec<Document> = self
                .db
                .collection::<Document>(name)
                .find(doc! {})
                .sort(doc! { "_id": 1 })
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let documents = documents
                .into_iter()
                .map(|d| {
                    mongodb::bson::Bson::Document(d)
                        .into_relaxed_extjson()
                        .to_string()
                })
                .collect();
            out.push((format!("notification.{name}"), documents));
        }
        out
    }
}
