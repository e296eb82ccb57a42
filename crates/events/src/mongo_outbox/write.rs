//! The writer's side: pending events put into a document in the same single-document write as
//! the state change they describe.

use std::sync::Arc;

use mongodb::bson::{Bson, DateTime, Document, doc};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{OUTBOX_FIELD, PENDING_FIELD};
use crate::envelope::{DomainEvent, Envelope, EnvelopeError};

/// Where one MongoDB-backed service's events go (its CloudEvents `source` and its topic), and
/// the doorbell of its in-process relay.
#[derive(Debug, Clone)]
pub struct MongoPublisher {
    source: &'static str,
    topic: String,
    wake: Arc<Notify>,
}

impl MongoPublisher {
    pub fn new(source: &'static str, topic: impl Into<String>) -> Self {
        Self {
            source,
            topic: topic.into(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// An empty list of events for one write.
    pub fn events(&self) -> PendingEvents {
        PendingEvents {
            source: self.source,
            topic: self.topic.clone(),
            entries: Vec::new(),
            ids: Vec::new(),
        }
    }

    /// Tell the relay a write with events succeeded, so it does not wait for its next poll.
    pub fn wake_relay(&self) {
        self.wake.notify_one();
    }

    /// What [`super::MongoOutboxRelay::new`] listens on.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// The events of one write, in the order they happened. Put them into the insert
/// ([`Self::into_new_document`]) or the update ([`Self::into_update`]) that carries the change.
#[derive(Debug)]
pub struct PendingEvents {
    source: &'static str,
    topic: String,
    entries: Vec<Bson>,
    ids: Vec<Uuid>,
}

impl PendingEvents {
    /// Add `event` about the aggregate `subject` (also its Kafka key).
    pub fn add<E: DomainEvent>(
        &mut self,
        subject: impl Into<String>,
        event: &E,
    ) -> Result<&mut Self, EnvelopeError> {
        let envelope = Envelope::new(self.source, subject, event, None)?;
        Ok(self.add_envelope(&envelope))
    }

    /// Add an already built envelope, keyed by its subject.
    pub fn add_envelope(&mut self, envelope: &Envelope) -> &mut Self {
        self.ids.push(envelope.id());
        self.entries.push(Bson::Document(doc! {
            "id": envelope.id().to_string(),
            "topic": self.topic.as_str(),
            "key": envelope.subject().unwrap_or_default(),
            "envelope": envelope.to_json().to_string(),
            "created_at": DateTime::now(),
        }));
        self
    }

    /// The event ids, in order.
    pub fn ids(&self) -> &[Uuid] {
        &self.ids
    }

    /// `document` with these events as its pending list, for an insert.
    pub fn into_new_document(self, mut document: Document) -> Document {
        let pending = !self.entries.is_empty();
        document.insert(OUTBOX_FIELD, self.entries);
        document.insert(PENDING_FIELD, pending);
        document
    }

    /// `update` (e.g. `{ "$set": { "status": "APPROVED" } }`) that also appends these events to
    /// the pending list, after any already there. Operators already in `update` are kept.
    pub fn into_update(self, mut update: Document) -> Document {
        if self.entries.is_empty() {
            return update;
        }
        operator(&mut update, "$push").insert(OUTBOX_FIELD, doc! { "$each": self.entries });
        operator(&mut update, "$set").insert(PENDING_FIELD, true);
        update
    }
}

/// The `name` operator's document inside `update`, created if missing.
fn operator<'a>(update: &'a mut Document, name: &str) -> &'a mut Document {
    if !matches!(update.get(name), Some(Bson::Document(_))) {
        update.insert(name, Document::new());
    }
    update.get_document_mut(name).expect("just ensured")
}
