//! The inbox: effectively-once handling on PostgreSQL.
//!
//! [`PgInbox`] runs a [`TransactionalHandler`] inside a transaction that first records the
//! event id for this consumer. A redelivered event finds its id already there and is skipped;
//! a failed handler rolls back the id together with its effect, so the retry starts clean.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tenor_platform::db::PgPool;

use crate::consumer::{EventHandler, HandlerError};
use crate::envelope::Envelope;

diesel::table! {
    inbox_events (consumer, event_id) {
        consumer -> Text,
        event_id -> Uuid,
        event_type -> Text,
        received_at -> Timestamptz,
    }
}

/// Applies an event's effect using the given connection, which is inside the inbox transaction.
#[async_trait]
pub trait TransactionalHandler: Send + Sync {
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError>;
}

pub struct PgInbox<H> {
    pool: PgPool,
    consumer: String,
    handler: H,
}

impl<H: TransactionalHandler> PgInbox<H> {
    /// `consumer` names this handler in the inbox (use the consumer group id): two different
    /// consumers of one event each apply it once.
    pub fn new(pool: PgPool, consumer: impl Into<String>, handler: H) -> Self {
        Self {
            pool,
            consumer: consumer.into(),
            handler,
        }
    }
}

#[async_trait]
impl<H: TransactionalHandler> EventHandler for PgInbox<H> {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let mut conn = self.pool.get().await.map_err(HandlerError::retryable)?;
        let handler = &self.handler;
        let consumer = self.consumer.as_str();
        conn.transaction::<_, HandlerError, _>(async |conn| {
            let recorded = diesel::insert_into(inbox_events::table)
                .values((
                    inbox_events::consumer.eq(consumer),
                    inbox_events::event_id.eq(event.id()),
                    inbox_events::event_type.eq(event.event_type()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if recorded == 0 {
                tracing::debug!(event_id = %event.id(), "duplicate delivery skipped");
                metrics::counter!("events_duplicates_skipped_total").increment(1);
                return Ok(());
            }
            handler.apply(conn, event).await
        })
        .await
    }
}
