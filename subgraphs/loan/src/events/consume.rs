//! Everything the loan service consumes, in one consumer group through the inbox: each event is
//! applied once, in the inbox's transaction (docs/conventions.md § Events).

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use tenor_contracts::credit::CreditDecisionMadeV1;
use tenor_contracts::identity::{AccountStatus, UserStatusChangedV1};
use tenor_contracts::kyc::{KycExpiredV1, KycRejectedV1, KycSubmittedV1, KycVerifiedV1};
use tenor_events::{Envelope, HandlerError, TransactionalHandler};
use tenor_platform::refusal::ServiceError;

use super::publish::Publisher;
use crate::domain::eligibility::{AccountState, KycStatus};
use crate::service::account_closure::withdraw_unpaid_loans;
use crate::service::decisions::{DecisionOutcome, apply_decision};
use crate::store::eligibility as projections;

/// The consumer group, also the handler's name in the inbox.
pub const CONSUMER_GROUP: &str = "tenor-loan";

/// The credit/kyc/user handler: credit's decisions, the eligibility projections, and a deleted
/// account's unpaid loans withdrawn.
pub struct IncomingEvents {
    publisher: Publisher,
}

impl IncomingEvents {
    pub fn new(publisher: Publisher) -> Self {
        Self { publisher }
    }
}

#[async_trait]
impl TransactionalHandler for IncomingEvents {
    #[tracing::instrument(skip_all, fields(event_id = %event.id(), event_type = %event.event_type()))]
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        if event.is::<CreditDecisionMadeV1>() {
            let decision: CreditDecisionMadeV1 = event.decode().map_err(HandlerError::permanent)?;
            return apply_credit_decision(conn, &self.publisher, &decision).await;
        }
        if event.is::<UserStatusChangedV1>() {
            let changed: UserStatusChangedV1 = event.decode().map_err(HandlerError::permanent)?;
            return apply_account_status(conn, &self.publisher, &changed)
                .await
                .map_err(HandlerError::retryable);
        }
        project_eligibility(conn, event).await
    }
}

/// The account-status projection (only ACTIVE accounts may apply or be paid out); a deleted
/// account's loans not yet paid out are withdrawn.
async fn apply_account_status(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    changed: &UserStatusChangedV1,
) -> Result<(), ServiceError> {
    let status = match changed.status {
        AccountStatus::Active => AccountState::Active,
        AccountStatus::Inactive => AccountState::Inactive,
        AccountStatus::Blocked => AccountState::Blocked,
        AccountStatus::Deleted => AccountState::Deleted,
    };
    projections::project_user_status(conn, changed.user_id, status, changed.changed_at).await?;
    if status == AccountState::Deleted {
        let withdrawn = withdraw_unpaid_loans(conn, publisher, changed.user_id).await?;
        tracing::info!(user_id = %changed.user_id, withdrawn, "account deleted");
    }
    Ok(())
}

/// A decision for a loan that is not waiting for one is logged and dropped; one for a loan we
/// do not know (or another borrower's) is parked in the dead-letter topic.
async fn apply_credit_decision(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    decision: &CreditDecisionMadeV1,
) -> Result<(), HandlerError> {
    let outcome = apply_decision(conn, publisher, decision)
        .await
        .map_err(HandlerError::retryable)?;
    match outcome {
        DecisionOutcome::Applied(status) => {
            tracing::info!(loan_id = %decision.loan_id, status = status.as_db(), "decision applied");
            Ok(())
        }
        DecisionOutcome::Ignored(why) => {
            tracing::warn!(loan_id = %decision.loan_id, why, "decision ignored");
            Ok(())
        }
        DecisionOutcome::UnknownLoan => Err(HandlerError::permanent(anyhow::anyhow!(
            "decision for unknown loan {} (or another borrower's)",
            decision.loan_id
        ))),
    }
}

/// The KYC projection. It keeps the state of the newest event seen, so a
/// redelivered or late event never reverts a newer state.
async fn project_eligibility(
    conn: &mut AsyncPgConnection,
    event: &Envelope,
) -> Result<(), HandlerError> {
    let decode_error = HandlerError::permanent;
    let result = if event.is::<KycVerifiedV1>() {
        let e: KycVerifiedV1 = event.decode().map_err(decode_error)?;
        projections::project_kyc(
            conn,
            e.user_id,
            KycStatus::Verified,
            Some(e.expires_at),
            e.verified_at,
        )
        .await
    } else if event.is::<KycRejectedV1>() {
        let e: KycRejectedV1 = event.decode().map_err(decode_error)?;
        projections::project_kyc(conn, e.user_id, KycStatus::Rejected, None, e.rejected_at).await
    } else if event.is::<KycExpiredV1>() {
        let e: KycExpiredV1 = event.decode().map_err(decode_error)?;
        projections::project_kyc(conn, e.user_id, KycStatus::Expired, None, e.expired_at).await
    } else if event.is::<KycSubmittedV1>() {
        // A resubmission after a verification does not withdraw it: only record a submission
        // for someone we know nothing newer about.
        let e: KycSubmittedV1 = event.decode().map_err(decode_error)?;
        match projections::kyc_eligibility(conn, e.user_id).await {
            Ok(Some(current)) if current.status == KycStatus::Verified => Ok(()),
            Ok(_) => {
                projections::project_kyc(
                    conn,
                    e.user_id,
                    KycStatus::Submitted,
                    None,
                    e.submitted_at,
                )
                .await
            }
            Err(error) => Err(error),
        }
    } else {
        // Other events on these topics are none of our business.
        Ok(())
    };
    result.map_err(HandlerError::retryable)
}
