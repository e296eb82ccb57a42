//! The events this context consumes: `user.registered.v1` from auth creates the profile;
//! `loan.status.changed.v1` from loan records the status of each of the account's loans, which
//! account deletion checks.

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::UserRegisteredV1;
use tenor_contracts::loan::LoanStatusChangedV1;
use tenor_events::{Envelope, HandlerError, TransactionalHandler};

use crate::domain::normalise_fullname;
use crate::store;

/// Applies each event inside [`tenor_events::PgInbox`], so one event id is applied once.
pub struct IncomingEvents;

#[async_trait]
impl TransactionalHandler for IncomingEvents {
    // The subject is the account (registration) or the loan; payloads stay out of the span.
    #[tracing::instrument(
        skip_all,
        fields(event_id = %event.id(), subject = event.subject().unwrap_or_default())
    )]
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if event.is::<UserRegisteredV1>() {
            let registered = event.decode().map_err(HandlerError::permanent)?;
            return create_profile(conn, registered).await;
        }
        if event.is::<LoanStatusChangedV1>() {
            let changed: LoanStatusChangedV1 = event.decode().map_err(HandlerError::permanent)?;
            return store::project_loan(
                conn,
                changed.loan_id,
                changed.user_id,
                changed.status.into(),
                changed.changed_at,
            )
            .await
            .map_err(HandlerError::retryable);
        }
        // The other events on auth.events and loan.events are none of our business.
        Ok(())
    }
}

/// The profile of a registered account. The insert is idempotent by user id, so a re-published
/// registration (new event id, same account) does not fail either.
async fn create_profile(
    conn: &mut AsyncPgConnection,
    mut registered: UserRegisteredV1,
) -> Result<(), HandlerError> {
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
