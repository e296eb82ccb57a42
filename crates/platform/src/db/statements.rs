//! Counting the SQL statements a service sends, by database and by origin.
//!
//! Every pooled connection carries a diesel [`Instrumentation`] that counts each statement it
//! starts (queries, `BEGIN`/`COMMIT`, the pool's liveness check) into the Prometheus counter
//! `tenor_db_statements_total{database, origin}` served at `/metrics`. `origin` is `request`
//! for statements made while answering a GraphQL request — the schema carries
//! [`CountRequestStatements`] and its DataLoaders spawn their batches with
//! [`spawn_with_origin`] — and `background` for everything else (outbox relay, consumers,
//! jobs, readiness checks, live subscriptions, and the requests of a schema without the
//! extension).
//!
//! This is what proves "one query per batch, never one per item" (docs/conventions.md § API
//! conventions) for a whole operation: a test reads the `request` counter of each subgraph's
//! database before and after one query and compares borrowers with one loan and with many.
//!
//! The origin travels in a tokio task-local: resolvers run inside the request's task, and a
//! DataLoader batch runs in a task of its own, so [`spawn_with_origin`] hands the origin on to
//! it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_graphql::Response;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use metrics::Counter;

/// The counter's name (Prometheus adds nothing: it already ends in `_total`).
pub const STATEMENTS: &str = "tenor_db_statements_total";

/// Why a statement was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Answering a GraphQL request.
    Request,
    /// Anything else: relays, consumers, jobs, health checks.
    Background,
}

impl Origin {
    fn label(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Background => "background",
        }
    }

    /// The origin of the code running now.
    pub fn current() -> Self {
        ORIGIN
            .try_with(|origin| *origin)
            .unwrap_or(Self::Background)
    }
}

tokio::task_local! {
    static ORIGIN: Origin;
}

/// `tokio::spawn` that keeps the caller's origin: the spawner DataLoaders run their batches
/// with, so a batch loaded for a request counts as the request's.
pub fn spawn_with_origin<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(ORIGIN.scope(Origin::current(), future))
}

/// The instrumentation installed on every pooled connection: one increment per statement.
pub(super) struct StatementCounter {
    request: Counter,
    background: Counter,
}

impl StatementCounter {
    pub(super) fn new(database: &str) -> Self {
        let counter = |origin: Origin| metrics::counter!(STATEMENTS, "database" => database.to_owned(), "origin" => origin.label());
        Self {
            request: counter(Origin::Request),
            background: counter(Origin::Background),
        }
    }
}

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            // diesel-async reports the start synchronously, on the task that sends the statement.
            InstrumentationEvent::StartQuery { .. } => match Origin::current() {
                Origin::Request => self.request.increment(1),
                Origin::Background => self.background.increment(1),
            },
            // A statement answered — even refused — means the database is there; one whose
            // connection closed under it (server gone, or the session terminated) means it
            // may not be. Either way before the caller sees the result.
            InstrumentationEvent::FinishQuery { error, .. } => {
                crate::outage::note_database(!error.is_some_and(lost_connection));
            }
            _ => {}
        }
    }
}

/// The statement failed because its connection is gone: closed or broken (diesel-async reports
/// an error without SQLSTATE, i.e. from the socket, as `UnableToSendCommand`), or its session
/// ended by the server (`57P01` admin shutdown, how a stopping server or an operator's
/// `pg_terminate_backend` ends it; diesel-async passes no SQLSTATE on, so the server's English
/// message is what tells it apart).
fn lost_connection(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        Error::DatabaseError(_, info) => info.message().contains("terminating connection"),
        _ => false,
    }
}

/// The schema extension that counts a request's statements as `origin="request"`:
/// `Schema::build(..).extension(CountRequestStatements)`.
pub struct CountRequestStatements;

impl ExtensionFactory for CountRequestStatements {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestScope)
    }
}

struct RequestScope;

// `Extension` is declared with `#[async_trait]`; this is the signature that macro expands to,
// written out so this crate needs no proc-macro for one method.
impl Extension for RequestScope {
    fn request<'life0, 'life1, 'life2, 'life3, 'async_trait>(
        &'life0 self,
        ctx: &'life1 ExtensionContext<'life2>,
        next: NextRequest<'life3>,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(ORIGIN.scope(Origin::Request, next.run(ctx)))
    }
}
