//! A submitted loan enters the work queue: one request document per loan, stored if absent and
//! already claimed by this process, then handed to the worker. The bureau is never called here
//! (see [`super::worker`]); if this process dies before the worker is done, the request's claim
//! runs out and any replica's poll takes it over.

use chrono::DurationRound;
use tenor_contracts::loan::LoanSubmittedV1;

use super::{RiskService, now};
use crate::store::{NewRequest, StoreError, requests};

impl RiskService {
    /// Queue the bureau check of `submitted`; whether it was new (a redelivered or repeated
    /// event for the same loan changes nothing).
    #[tracing::instrument(skip_all, fields(loan_id = %submitted.loan_id))]
    pub async fn accept_submission(
        &self,
        submitted: &LoanSubmittedV1,
        traceparent: Option<String>,
    ) -> Result<bool, StoreError> {
        // Rounded up to the millisecond MongoDB stores, so the request never gives up before
        // its deadline (truncating made it fail up to 1 ms early; CI saw it).
        let deadline = (submitted.submitted_at
            + chrono::Duration::from_std(self.settings.worker.deadline)
                .unwrap_or(chrono::Duration::MAX))
        .duration_round_up(chrono::TimeDelta::milliseconds(1))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let request = NewRequest {
            loan_id: submitted.loan_id,
            user_id: submitted.user_id,
            amount: submitted.amount,
            tenor_months: submitted.tenor_months,
            submitted_at: submitted.submitted_at,
            deadline,
            traceparent,
        };
        let lease = self.settings.worker.claim_lease;
        let claimed = requests::insert_if_absent(&self.requests(), &request, now(), lease).await?;
        let inserted = claimed.is_some();
        if let Some(claimed) = claimed {
            // The worker's end lives as long as the service; if it is gone the lease still
            // brings the request back.
            let _ = self.handoff.send(claimed);
            tracing::info!("bureau check queued");
        } else {
            tracing::info!("bureau check already queued");
        }
        Ok(inserted)
    }

    /// The borrower cancelled the loan: stop asking the bureau about it (each inquiry may show
    /// on their credit file, and costs).
    #[tracing::instrument(skip_all, fields(%loan_id))]
    pub async fn withdraw(&self, loan_id: uuid::Uuid) -> Result<bool, StoreError> {
        let ended = requests::withdraw(&self.requests(), loan_id, now()).await?;
        if ended {
            tracing::info!("bureau check withdrawn with the loan");
        }
        Ok(ended)
    }
}
