//! The events this context consumes: `user.registered.v1` from auth creates the profile.

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::UserRegisteredV1;
use tenor_events::{Envelope, HandlerError, TransactionalHandler};

use crate::domain::normalise_fullname;
use crate::store;

/// Creates the profile of every registered account. Runs inside [`tenor_events::PgInbox`], so
/// one event id is applied once; the insert itself is also idempotent by user id, so a
/// re-published registration (new event id, same account) does not fail either.
pub struct RegistrationHandler;

#[async_trait]
impl TransactionalHandler for RegistrationHandler {
    // The subject is the account id; the payload (email, phone, name) stays out of the span.
    #[tracing::instrument(
        skip_all,
        fields(event_id = %event.id(), user_id = event.subject().unwrap_or_default())
    )]
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        // auth.events carries other auth events too; they are none of our business.
        if !event.is::<UserRegisteredV1>() {
            return Ok(());
        }
        let mut registered: UserRegisteredV1 = event.decode().map_err(HandlerError::permanent)?;
        // Stored the way updateProfile would store it. A name our rules refuse is kept as auth
        // accepted it: refusing here would leave a registered account without a profile.
        if let Ok(name) = normalise_fullname(&registered.fullname) {
            registered.fullname = name;
        }
        let created = store::create_registered(conn, &registered)
            .await
            .map_err(HandlerError::retryable)?;
        tracing::info!(user_id = %registered.user_id, created, "profile for registered account");
        Ok(())
    }
}
