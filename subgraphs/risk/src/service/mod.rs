//! The use cases, one file each, on [`RiskService`]: take a submitted loan into the work queue
//! ([`intake`]), work the queue against the bureau ([`worker`]), record an evaluation with its
//! event ([`evaluation`]), and the reads — evaluations ([`reads`]) and raw reports, every one
//! logged ([`raw_access`]).

pub mod evaluation;
pub mod export;
pub mod intake;
pub mod raw_access;
pub mod reads;
pub mod worker;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use mongodb::Database;
use mongodb::bson::Document;
use tenor_events::MongoPublisher;
use tenor_platform::vault::Vault;
use tokio::sync::{Notify, mpsc};

pub use raw_access::Reader;

use crate::config::WorkerSettings;
use crate::domain::RiskRules;
use crate::store::{RiskRequest, access_log, evaluations, requests};

/// Everything a use case needs; cheap to clone.
#[derive(Clone)]
pub struct RiskService {
    pub db: Database,
    pub publisher: MongoPublisher,
    pub vault: Vault,
    pub settings: Arc<Settings>,
    /// Rung when a request becomes due: the worker does not wait for its poll.
    pub work: Arc<Notify>,
    /// A request the intake stored already claimed goes straight to the worker: the happy path
    /// costs no claim query (the poll's `claim_due` is for retries and for requests a crashed
    /// process had claimed, once their lease ends).
    handoff: mpsc::UnboundedSender<RiskRequest>,
    handed: Arc<Mutex<Option<mpsc::UnboundedReceiver<RiskRequest>>>>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub rules: RiskRules,
    pub worker: WorkerSettings,
}

impl RiskService {
    pub fn new(db: Database, publisher: MongoPublisher, vault: Vault, settings: Settings) -> Self {
        let (handoff, handed) = mpsc::unbounded_channel();
        Self {
            db,
            publisher,
            vault,
            settings: Arc::new(settings),
            work: Arc::new(Notify::new()),
            handoff,
            handed: Arc::new(Mutex::new(Some(handed))),
        }
    }

    /// The worker's end of the handoff (one worker per service).
    fn take_handed(&self) -> mpsc::UnboundedReceiver<RiskRequest> {
        self.handed
            .lock()
            .expect("handoff lock")
            .take()
            .expect("one worker per risk service")
    }

    fn requests(&self) -> mongodb::Collection<Document> {
        requests::collection(&self.db)
    }

    fn evaluations(&self) -> mongodb::Collection<Document> {
        evaluations::collection(&self.db)
    }

    fn access_log(&self) -> mongodb::Collection<Document> {
        access_log::collection(&self.db)
    }
}

/// Now, at the millisecond precision MongoDB stores, so what is written reads back equal.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
