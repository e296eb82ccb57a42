//! Everything credit consumes, in one consumer group through the inbox: each event is applied
//! once, in the inbox's transaction (docs/conventions.md § Events). Projections never call
//! another subgraph; they are kept from events only.

use std::sync::Arc;

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use tenor_contracts::identity::{AccountKind, UserRegisteredV1, UserStatusChangedV1};
use tenor_contracts::kyc::{KycExpiredV1, KycRejectedV1, KycSubmittedV1, KycVerifiedV1};
use tenor_contracts::loan::{
    LoanActivatedV1, LoanApprovedV1, LoanInstallmentOverdueV1, LoanPaidV1, LoanRejectedV1,
    LoanStatusChangedV1, LoanSubmittedV1,
};
use tenor_contracts::risk::{RiskEvaluatedV1, RiskEvaluationFailedV1};
use tenor_events::{
    DomainEvent, Envelope, EventHandler, HandlerError, PgInbox, TransactionalHandler,
};

use crate::domain::status::{AccountState, KycState, LoanState};
use crate::service::Credit;
use crate::store::{projections, scores};

/// The consumer group (overridable in configuration) and the handler's name in the inbox.
pub const CONSUMER_GROUP: &str = "tenor-credit";

/// The handler of every topic credit reads.
pub struct IncomingEvents {
    credit: Credit,
}

impl IncomingEvents {
    pub fn new(credit: Credit) -> Self {
        Self { credit }
    }
}

fn decode<E: DomainEvent>(event: &Envelope) -> Result<E, HandlerError> {
    event.decode().map_err(HandlerError::permanent)
}

#[async_trait]
impl TransactionalHandler for IncomingEvents {
    #[tracing::instrument(skip_all, fields(event_id = %event.id(), event_type = %event.event_type()))]
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let retry = HandlerError::retryable;
        if event.is::<LoanSubmittedV1>() {
            let e: LoanSubmittedV1 = decode(event)?;
            self.credit
                .on_loan_submitted(conn, &e)
                .await
                .map_err(retry)?;
        } else if event.is::<RiskEvaluatedV1>() {
            let e: RiskEvaluatedV1 = decode(event)?;
            self.credit
                .on_risk_evaluated(conn, &e)
                .await
                .map_err(retry)?;
        } else if event.is::<RiskEvaluationFailedV1>() {
            let e: RiskEvaluationFailedV1 = decode(event)?;
            self.credit.on_risk_failed(conn, &e).await.map_err(retry)?;
        } else {
            project(conn, event).await?;
        }
        Ok(())
    }
}

/// The account's status; a deleted account's human reviews that nobody decided are withdrawn.
async fn project_account_status(
    conn: &mut AsyncPgConnection,
    e: &UserStatusChangedV1,
) -> diesel::QueryResult<()> {
    let state = AccountState::from(e.status);
    projections::project_account_status(conn, e.user_id, state, e.changed_at).await?;
    if state == AccountState::Deleted {
        let withdrawn = scores::withdraw_reviews_of(conn, e.user_id).await?;
        tracing::info!(user_id = %e.user_id, withdrawn, "account deleted: human reviews withdrawn");
    }
    Ok(())
}

/// Borrower and loan-history projections.
async fn project(conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
    let result = if event.is::<UserRegisteredV1>() {
        let e: UserRegisteredV1 = decode(event)?;
        let kind = match e.kind {
            AccountKind::Customer => "CUSTOMER",
            AccountKind::Staff => "STAFF",
        };
        projections::project_registration(conn, e.user_id, kind, e.registered_at).await
    } else if event.is::<UserStatusChangedV1>() {
        let e: UserStatusChangedV1 = decode(event)?;
        project_account_status(conn, &e).await
    } else if event.is::<KycVerifiedV1>() {
        let e: KycVerifiedV1 = decode(event)?;
        let (at, expires) = (e.verified_at, Some(e.expires_at));
        projections::project_kyc(conn, e.user_id, KycState::Verified, Some(at), expires, at).await
    } else if event.is::<KycRejectedV1>() {
        let e: KycRejectedV1 = decode(event)?;
        projections::project_kyc(
            conn,
            e.user_id,
            KycState::Rejected,
            None,
            None,
            e.rejected_at,
        )
        .await
    } else if event.is::<KycExpiredV1>() {
        let e: KycExpiredV1 = decode(event)?;
        projections::project_kyc(conn, e.user_id, KycState::Expired, None, None, e.expired_at).await
    } else if event.is::<KycSubmittedV1>() {
        let e: KycSubmittedV1 = decode(event)?;
        projections::project_kyc(
            conn,
            e.user_id,
            KycState::Submitted,
            None,
            None,
            e.submitted_at,
        )
        .await
    } else if event.is::<LoanApprovedV1>() {
        let e: LoanApprovedV1 = decode(event)?;
        projections::project_loan_status(conn, e.loan_id, LoanState::Approved, e.approved_at).await
    } else if event.is::<LoanRejectedV1>() {
        let e: LoanRejectedV1 = decode(event)?;
        projections::project_loan_status(conn, e.loan_id, LoanState::Rejected, e.rejected_at).await
    } else if event.is::<LoanActivatedV1>() {
        let e: LoanActivatedV1 = decode(event)?;
        projections::project_loan_status(conn, e.loan_id, LoanState::Active, e.activated_at).await
    } else if event.is::<LoanPaidV1>() {
        let e: LoanPaidV1 = decode(event)?;
        projections::project_loan_status(conn, e.loan_id, LoanState::Paid, e.paid_at).await
    } else if event.is::<LoanStatusChangedV1>() {
        let e: LoanStatusChangedV1 = decode(event)?;
        let state = LoanState::from(e.status);
        projections::project_loan_status(conn, e.loan_id, state, e.changed_at).await?;
        if state == LoanState::Cancelled && scores::withdraw(conn, e.loan_id).await? {
            tracing::info!(loan_id = %e.loan_id, "withdrawn by the borrower: no longer scored or queued");
        }
        Ok(())
    } else if event.is::<LoanInstallmentOverdueV1>() {
        let e: LoanInstallmentOverdueV1 = decode(event)?;
        let number = i32::try_from(e.installment_number).unwrap_or(i32::MAX);
        let days = i32::try_from(e.days_past_due).unwrap_or(i32::MAX);
        projections::project_overdue(conn, e.loan_id, number, days).await
    } else {
        // Other events on these topics are none of our business.
        Ok(())
    };
    result.map_err(HandlerError::retryable)
}

/// The inbox, plus a wake-up of the external-score worker once an event's transaction has
/// committed (a new score may be waiting for its external score).
pub struct WakingInbox {
    inbox: PgInbox<IncomingEvents>,
    credit: Credit,
}

impl WakingInbox {
    pub fn new(inbox: PgInbox<IncomingEvents>, credit: Credit) -> Arc<Self> {
        Arc::new(Self { inbox, credit })
    }
}

#[async_trait]
impl EventHandler for WakingInbox {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.inbox.handle(event).await?;
        if event.is::<LoanSubmittedV1>() {
            self.credit.wake_worker();
        }
        Ok(())
    }
}
