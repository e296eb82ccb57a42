//! The use cases, one file each, on [`RiskService`]: take a submitted loan into the work queue
//! ([`intake`]), work the queue against the bureau ([`worker`]), record an evaluation with its
//! event ([`evaluation`]), and the reads — evaluations ([`reads`]) and raw reports, every one
//! logged ([`raw_access`]).

pub mod evaluation;
pub mod intake;
pub mod raw_access;
pub mod reads;
pub mod worker;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use mongodb::Database;
use mongodb::bson::Document;
use tenor_events::MongoPublisher;
use tenor_platform::vault::Vault;
use tokio::sync::Notify;

pub use raw_access::Reader;

use crate::config::WorkerSettings;
use crate::domain::RiskRules;
use crate::store::{access_log, evaluations, requests};

/// Everything a use case needs; cheap to clone.
#[derive(Clone)]
pub struct RiskService {
    pub db: Database,
    pub publisher: MongoPublisher,
    pub vault: Vault,
    pub settings: Arc<Settings>,
    /// Rung when a request is stored or becomes due: the worker does not wait for its poll.
    pub work: Arc<Notify>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub rules: RiskRules,
    pub worker: WorkerSettings,
}

impl RiskService {
    pub fn new(db: Database, publisher: MongoPublisher, vault: Vault, settings: Settings) -> Self {
        Self {
            db,
            publisher,
            vault,
            settings: Arc::new(settings),
            work: Arc::new(Notify::new()),
        }
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
