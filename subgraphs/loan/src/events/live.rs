//! Live loan status for subscribers: the hub the `loanStatusChanged` subscription
//! (`schema/subscriptions.rs`) listens to — [`tenor_events::live`], fed with `loan.status.changed`
//! from `loan.events` and `auth.session.revoked` from `auth.events`. A revoked session ends every
//! local subscription opened with a token of that session (`sid`), with `UNAUTHENTICATED` — the
//! same way a subscription ends when its token expires.

use chrono::{DateTime, Utc};
use tenor_contracts::identity::SessionRevokedV1;
use tenor_contracts::loan::LoanStatusChangedV1;
use tenor_events::kafka::KafkaConfig;
use tenor_events::live::Live;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::publish::domain_status;
use crate::domain::LoanStatus;

/// One status change as the hub hands it to subscribers: the loan's id and owner, not the loan
/// (a subscriber reads the loan as it is now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub loan_id: Uuid,
    pub user_id: Uuid,
    pub status: LoanStatus,
    pub previous_status: Option<LoanStatus>,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
}

impl From<LoanStatusChangedV1> for StatusChange {
    fn from(event: LoanStatusChangedV1) -> Self {
        Self {
            loan_id: event.loan_id,
            user_id: event.user_id,
            status: domain_status(event.status),
            previous_status: event.previous_status.map(domain_status),
            reason: event.reason,
            changed_at: event.changed_at,
        }
    }
}

impl tenor_events::live::Addressed for StatusChange {
    fn recipient(&self) -> Uuid {
        self.user_id
    }
}

/// Status changes and session revocations received by this process, for its subscribers.
pub type LiveHub = tenor_events::live::LiveHub<StatusChange>;

/// Consume `loan_topic` and `auth_topic` until `shutdown`, forwarding status changes and
/// session revocations to `hub`.
pub async fn run(
    hub: LiveHub,
    kafka: KafkaConfig,
    loan_topic: String,
    auth_topic: String,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    hub.run(
        kafka,
        "tenor-loan-live",
        &[&loan_topic, &auth_topic],
        |message, envelope| {
            if envelope.is::<LoanStatusChangedV1>() {
                // The change's trace ends here, in this replica's fan-out to its subscribers.
                let span = tenor_events::consumer::event_span(message, envelope, "fan out");
                let _in_span = span.enter();
                match envelope.decode::<LoanStatusChangedV1>() {
                    Ok(event) => Some(Live::Item(event.into())),
                    Err(error) => {
                        tracing::warn!(%error, "undecodable loan.status.changed");
                        None
                    }
                }
            } else if envelope.is::<SessionRevokedV1>() {
                match envelope.decode::<SessionRevokedV1>() {
                    Ok(event) => Some(Live::Revoked(event.session_id)),
                    Err(error) => {
                        tracing::warn!(%error, "undecodable auth.session.revoked");
                        None
                    }
                }
            } else {
                None
            }
        },
        shutdown,
    )
    .await
}
