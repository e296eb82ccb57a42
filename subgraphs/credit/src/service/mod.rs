//! The use cases, one file each: [`intake`] (a submitted loan and risk's answer, from the
//! consumer), [`deciding`] (the automatic decision, whenever an input arrives), [`external`]
//! (the external-score worker: the provider is called outside any transaction), [`sweeper`]
//! (inputs past the timeout), [`staff`] (manual score and decision), [`review`] (the borrower's
//! request for a human review) and [`reads`]. Every use case returns an [`Outcome`].

pub mod deciding;
pub mod export;
pub mod external;
pub mod intake;
pub mod reads;
pub mod review;
pub mod staff;
pub mod sweeper;

use std::sync::Arc;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Object;
use tenor_platform::db::PgPool;
use tenor_platform::refusal::ServiceError;
use tokio::sync::Notify;

use crate::domain::{CreditRefusal, RuleBook};
use crate::events::Publisher;
use crate::providers::ScoreProvider;

pub use reads::Assessment;

/// What every credit use case returns: the value, the rules' refusal, or a service error.
pub type Outcome<T> = tenor_platform::refusal::Outcome<T, CreditRefusal>;

/// Timings of the decision process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// An input still missing this long after the loan was received refers it (`MISSING_INPUT`).
    pub input_timeout: Duration,
    /// How long after an automatic rejection the borrower may ask for a human review.
    pub human_review_window: Duration,
    /// The external-score worker's polling (it is also woken after each new score).
    pub worker_poll: Duration,
    /// First retry after the score provider failed; doubles up to `external_retry_max`.
    pub external_retry_initial: Duration,
    pub external_retry_max: Duration,
    /// How often overdue inputs are looked for.
    pub sweep_every: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            input_timeout: Duration::from_secs(120),
            human_review_window: Duration::from_secs(14 * 24 * 3600),
            worker_poll: Duration::from_secs(2),
            external_retry_initial: Duration::from_secs(1),
            external_retry_max: Duration::from_secs(30),
            sweep_every: Duration::from_secs(5),
        }
    }
}

/// The credit service: the pool, the outbox publisher, the rule book, the score provider and
/// the bell that wakes the external-score worker after a commit.
#[derive(Clone)]
pub struct Credit {
    pool: PgPool,
    publisher: Publisher,
    rules: Arc<RuleBook>,
    provider: Arc<dyn ScoreProvider>,
    settings: Settings,
    wake: Arc<Notify>,
}

impl Credit {
    pub fn new(
        pool: PgPool,
        publisher: Publisher,
        rules: RuleBook,
        provider: Arc<dyn ScoreProvider>,
        settings: Settings,
    ) -> Self {
        Self {
            pool,
            publisher,
            rules: Arc::new(rules),
            provider,
            settings,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn rules(&self) -> &RuleBook {
        &self.rules
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Wake the external-score worker (after a commit that created work for it).
    pub fn wake_worker(&self) {
        self.wake.notify_one();
    }

    async fn conn(&self) -> Result<Object<AsyncPgConnection>, ServiceError> {
        Ok(self.pool.get().await?)
    }
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}
