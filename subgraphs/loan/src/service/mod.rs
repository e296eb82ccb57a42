//! The use cases, one file each: [`applications`] (quote, apply, cancel), [`account_closure`]
//! (a deleted account's unpaid loans withdrawn, from the consumer), [`disbursement`] and
//! [`repayment`] (money through a provider, both following [`money_movement`]), [`decisions`]
//! (credit's decision, from the consumer), [`daily`] (due/overdue job) and [`reads`] (what the
//! GraphQL layer reads). Rules come from [`crate::domain`], rows from [`crate::store`], events go
//! out through [`crate::events::publish`]; every use case returns an [`Outcome`].

pub mod account_closure;
pub mod applications;
pub mod daily;
pub mod decisions;
pub mod disbursement;
pub mod export;
pub mod money_movement;
pub mod reads;
pub mod repayment;

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Object;
use tenor_platform::db::PgPool;
use tenor_platform::refusal::{Failure, ServiceError};

use crate::domain::LoanRefusal;
use crate::domain::product::Product;
use crate::events::Publisher;
use crate::providers::Providers;

pub use applications::Quote;
pub use daily::DailyReport;
pub use repayment::Payment;

/// What every loan use case returns: the value, the rules' refusal, or a service error.
pub type Outcome<T> = tenor_platform::refusal::Outcome<T, LoanRefusal>;

/// How stalled money movements are finished (see [`money_movement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MovementSettings {
    /// An intent nobody has touched for this long is taken over by the resumer. Longer than
    /// any provider call takes, so an intent still in flight is left to its request.
    pub resume_after: Duration,
    /// How often the resumer looks.
    pub resume_every: Duration,
}

impl Default for MovementSettings {
    fn default() -> Self {
        Self {
            resume_after: Duration::from_secs(30),
            resume_every: Duration::from_secs(5),
        }
    }
}

/// The loan service: the pool, the outbox publisher, the product on offer and the providers.
#[derive(Clone)]
pub struct Loans {
    pool: PgPool,
    publisher: Publisher,
    product: Product,
    providers: Providers,
    /// Applications one borrower may make in any 24 hours (`LOAN_APPLICATIONS_PER_DAY`).
    applications_per_day: u32,
}

impl Loans {
    pub fn new(
        pool: PgPool,
        publisher: Publisher,
        product: Product,
        providers: Providers,
        applications_per_day: u32,
    ) -> Self {
        Self {
            pool,
            publisher,
            product,
            providers,
            applications_per_day,
        }
    }

    pub fn product(&self) -> &Product {
        &self.product
    }

    async fn conn(&self) -> Result<Object<AsyncPgConnection>, ServiceError> {
        Ok(self.pool.get().await?)
    }
}

/// Whether `failure` is a unique violation (of `constraint`, when one is named).
fn is_unique_violation<R>(failure: &Failure<R>, constraint: Option<&str>) -> bool {
    let Failure::Error(ServiceError::Database(DieselError::DatabaseError(
        DatabaseErrorKind::UniqueViolation,
        info,
    ))) = failure
    else {
        return false;
    };
    constraint.is_none_or(|name| info.constraint_name() == Some(name))
}

/// A row that must exist (it was read or written moments ago under a lock) does not.
fn missing(id: uuid::Uuid) -> ServiceError {
    ServiceError::Other(anyhow::anyhow!("row {id} disappeared"))
}
