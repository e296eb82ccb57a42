//! The use cases, one file each, on [`NotificationService`]: keep the borrowers' contacts
//! ([`contacts`]), turn an event into an inbox item and its notifications ([`intake`]), deliver
//! them ([`delivery`]), the borrower's inbox ([`inbox`]) and the back office ([`back_office`]:
//! templates, one borrower's deliveries). [`policy`] holds the pure rules they share.

pub mod back_office;
pub mod contacts;
pub mod delivery;
pub mod export;
pub mod inbox;
pub mod intake;
pub mod policy;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use mongodb::Database;
use mongodb::bson::Document;
use tenor_events::MongoPublisher;
use tokio::sync::Notify;

use crate::channels::Channels;
use crate::clock::Clock;
use crate::config::DeliverySettings;
use crate::schedule::QuietHours;
use crate::store::cache::Cache;
use crate::store::{contacts as contact_store, inbox as inbox_store, notifications};

/// Everything a use case needs; cheap to clone.
#[derive(Clone)]
pub struct NotificationService {
    pub db: Database,
    pub publisher: MongoPublisher,
    pub cache: Arc<Cache>,
    pub channels: Arc<Channels>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    /// Rung when a notification becomes due: the worker does not wait for its poll.
    pub work: Arc<Notify>,
    /// Run by intake between reading the borrower's contact and storing what the event makes
    /// (tests: another replica's deletion landing in between). `None` in production.
    pub after_contact_read: Option<ContactReadHook>,
}

/// See [`NotificationService::after_contact_read`].
pub type ContactReadHook =
    Arc<dyn Fn(uuid::Uuid) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Settings {
    pub delivery: DeliverySettings,
    pub quiet_hours: QuietHours,
}

impl NotificationService {
    pub fn new(
        db: Database,
        publisher: MongoPublisher,
        cache: Cache,
        channels: Channels,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        Self {
            db,
            publisher,
            cache: Arc::new(cache),
            channels: Arc::new(channels),
            clock,
            settings: Arc::new(settings),
            work: Arc::new(Notify::new()),
            after_contact_read: None,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn contacts(&self) -> mongodb::Collection<Document> {
        contact_store::collection(&self.db)
    }

    fn notifications(&self) -> mongodb::Collection<Document> {
        notifications::collection(&self.db)
    }

    fn inbox(&self) -> mongodb::Collection<Document> {
        inbox_store::collection(&self.db)
    }

    fn announcements(&self) -> mongodb::Collection<Document> {
        inbox_store::announcements(&self.db)
    }
}
