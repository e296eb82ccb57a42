//! One relay at a time per collection, like the PostgreSQL relay's advisory lock.
//!
//! The local server has no transactions and applies a conditional update without re-checking
//! its filter, so a lease field claimed by update would not exclude a second relay. An insert
//! with a taken `_id` is refused by the unique `_id` index on every server, so a lease is a
//! document `{ _id: <collection>, owner, until }` in `outbox_leases`: inserting it claims the
//! collection, deleting it releases it. A relay that dies holding it blocks the collection until
//! `until`, when another relay deletes the expired lease and takes over (two relays taking over
//! the same expired lease at the same instant may both hold it: duplicates, never a loss).

use std::time::{Duration, Instant};

use mongodb::bson::{DateTime, Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::{Collection, Database};
use uuid::Uuid;

const DUPLICATE_KEY: i32 = 11000;

pub(super) struct Leases {
    leases: Collection<Document>,
    owner: String,
    ttl: Duration,
}

/// A claimed collection. Work under it stops by `renew_before`, well inside the lease.
pub(super) struct Held {
    name: String,
    pub renew_before: Instant,
}

impl Leases {
    pub fn new(db: &Database, ttl: Duration) -> Self {
        Self {
            leases: db.collection(super::LEASE_COLLECTION),
            owner: Uuid::new_v4().to_string(),
            ttl,
        }
    }

    /// Claim `name`, taking over a lease that expired; `None` while another relay holds it.
    pub async fn acquire(&self, name: &str) -> mongodb::error::Result<Option<Held>> {
        if self.try_insert(name).await? {
            return Ok(Some(self.held(name)));
        }
        let expired = doc! { "_id": name, "until": { "$lt": DateTime::now() } };
        if self.leases.delete_one(expired).await?.deleted_count == 0 {
            return Ok(None);
        }
        Ok(self.try_insert(name).await?.then(|| self.held(name)))
    }

    pub async fn release(&self, held: Held) -> mongodb::error::Result<()> {
        let mine = doc! { "_id": held.name, "owner": &self.owner };
        self.leases.delete_one(mine).await.map(|_| ())
    }

    async fn try_insert(&self, name: &str) -> mongodb::error::Result<bool> {
        let until = DateTime::from_system_time(std::time::SystemTime::now() + self.ttl);
        let lease = doc! { "_id": name, "owner": &self.owner, "until": until };
        match self.leases.insert_one(lease).await {
            Ok(_) => Ok(true),
            Err(error) if is_duplicate_key(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn held(&self, name: &str) -> Held {
        Held {
            name: name.to_owned(),
            renew_before: Instant::now() + self.ttl / 2,
        }
    }
}

fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY
    )
}
