//! The use cases of the user context: what the API asks of an account, one file per group.
//!
//! Reads top-down: [`profile`] (the owner edits their profile), [`blocking`] (staff block and
//! unblock), [`deletion`] (the owner closes the account), [`lookup`] (profiles by id and the
//! back-office listing). Each change runs in one transaction: lock the row, let the domain
//! decide, write the new state and its event to the outbox. Either both commit or neither does;
//! a refusal writes nothing. Every use case returns [`Outcome`]: the value, the domain's
//! refusals (in the account's language), or a [`tenor_platform::refusal::ServiceError`].

mod blocking;
mod deletion;
mod lookup;
mod profile;

use chrono::{DateTime, SubsecRound, Utc};
use tenor_platform::db::{PgConn, PgPool};
use tenor_platform::refusal::ServiceError;

use crate::domain::{Profile, UserRefusal};
use crate::events::Publisher;

pub use lookup::{ListFilter, UserPage};

/// What a use case of this context returns.
pub type Outcome<T> = tenor_platform::refusal::Outcome<T, UserRefusal>;

/// The user context's use cases, shared by every request.
#[derive(Clone)]
pub struct UserService {
    pool: PgPool,
    publisher: Publisher,
}

impl UserService {
    pub fn new(pool: PgPool, publisher: Publisher) -> Self {
        Self { pool, publisher }
    }

    async fn conn(&self) -> Result<PgConn, ServiceError> {
        Ok(self.pool.get().await?)
    }
}

/// PostgreSQL keeps microseconds: round now so the value returned equals the value stored (and
/// the one in the event).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Deleted accounts do not exist for staff either.
fn visible(profile: Option<Profile>) -> Option<Profile> {
    profile.filter(Profile::is_visible)
}
