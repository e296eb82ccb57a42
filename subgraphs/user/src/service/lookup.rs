//! The reads: profiles by id (for the entity loader) and the back-office listing. A read
//! refuses nothing, so these return a plain [`ServiceError`] rather than an `Outcome`; who may
//! read what is decided in the schema, before a read is made.

use tenor_platform::cursor::PageRequest;
use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::UserService;
use crate::domain::Profile;
use crate::store;

/// The store's filter, which the schema builds from the query's arguments.
pub use crate::store::ListFilter;

/// One page of the listing.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<Profile>,
    pub has_next: bool,
}

impl UserService {
    /// The stored profiles among `ids` (deleted ones included: the caller decides what shows),
    /// in one query.
    #[tracing::instrument(skip_all, fields(count = ids.len()))]
    pub async fn profiles(&self, ids: &[Uuid]) -> Result<Vec<Profile>, ServiceError> {
        let mut conn = self.conn().await?;
        Ok(store::find_many(&mut conn, ids).await?)
    }

    /// A page of visible accounts matching `filter`, oldest first.
    // The filter's query is staff-typed text that may be a name or a phone number.
    #[tracing::instrument(skip_all, fields(first = page.first))]
    pub async fn list_users(
        &self,
        filter: &ListFilter,
        page: PageRequest,
    ) -> Result<UserPage, ServiceError> {
        let mut conn = self.conn().await?;
        // One more row than asked tells whether there is a next page.
        let mut users = store::list(&mut conn, filter, page.after, page.fetch_limit()).await?;
        let has_next = users.len() > page.first;
        users.truncate(page.first);
        Ok(UserPage { users, has_next })
    }
}
