//! The worker that drives the vendor ([`crate::vendor::KycVerifier`]).
//!
//! It reads PENDING submissions still AWAITING_VENDOR from the database, so a submission
//! accepted just before a crash is verified after the restart. The vendor call happens outside
//! any transaction; the outcome is applied in one transaction that re-checks the row is still
//! awaiting the vendor, so two replicas never decide it twice.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::AsyncConnection;
use tenor_contracts::kyc::KycDecisionSource;
use tenor_platform::refusal::ServiceError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::decision::{reject, verify};
use super::{KycService, now};
use crate::domain::{self, KycStatus, VerificationOutcome, VerificationStage};
use crate::store::{self, Submission};
use crate::vendor::{KycVerifier, VerificationRequest};

/// Submissions taken per pass.
const BATCH: i64 = 16;

impl KycService {
    /// Verify submissions awaiting the vendor until `shutdown`: woken by each submission, and
    /// polling every `interval` for anything left behind (a restart, a failed vendor call).
    #[tracing::instrument(name = "verification_worker", skip_all)]
    pub async fn run_verification(
        self,
        vendor: Arc<dyn KycVerifier>,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        loop {
            match self.verify_pending(vendor.as_ref()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(decided = n, "KYC submissions verified"),
                Err(error) => tracing::error!(%error, "KYC verification pass failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.submitted.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One pass over the submissions awaiting the vendor; how many were moved on.
    #[tracing::instrument(skip_all)]
    pub async fn verify_pending(&self, vendor: &dyn KycVerifier) -> Result<usize, ServiceError> {
        let ids = {
            let mut conn = self.conn().await?;
            store::awaiting_vendor(&mut conn, BATCH).await?
        };
        let mut moved = 0;
        for id in ids {
            match self.verify_one(vendor, id).await {
                Ok(true) => moved += 1,
                Ok(false) => {}
                // One bad submission (vendor down, object missing) must not stop the others.
                Err(error) => tracing::error!(%error, kyc_id = %id, "verifying a KYC submission"),
            }
        }
        Ok(moved)
    }

    async fn verify_one(&self, vendor: &dyn KycVerifier, id: Uuid) -> Result<bool, ServiceError> {
        let Some(submission) = store::find_submission(&mut *self.conn().await?, id).await? else {
            return Ok(false);
        };
        let request = self.verification_request(&submission).await?;
        let answer = vendor.verify(&request).await?;
        let outcome = domain::decide(
            self.settings.thresholds,
            &request.document_number,
            answer.ocr.document_number.as_deref(),
            answer.face_match_score,
        );

        let publisher = &self.publisher;
        let validity = self.settings.validity;
        let mut conn = self.conn().await?;
        conn.transaction::<_, ServiceError, _>(async |conn| {
            let Some(mut current) = store::lock_submission(conn, id).await? else {
                return Ok(false);
            };
            if current.status != KycStatus::Pending
                || current.verification_stage != VerificationStage::AwaitingVendor
            {
                return Ok(false); // another replica got there first
            }
            current.face_match_score = Some(answer.face_match_score);
            let source = KycDecisionSource::Automatic;
            match outcome {
                VerificationOutcome::Verify => {
                    verify(conn, publisher, &mut current, source, None, validity).await?
                }
                VerificationOutcome::Reject { code, reason } => {
                    reject(conn, publisher, &mut current, source, None, code, &reason).await?
                }
                VerificationOutcome::ManualReview => {
                    current.verification_stage = VerificationStage::ManualReview;
                    current.updated_at = now();
                    store::save_submission(conn, &current).await?;
                }
            }
            Ok(true)
        })
        .await
    }

    /// Decrypt what the vendor needs (on the blocking pool, via the vault and object store).
    async fn verification_request(
        &self,
        submission: &Submission,
    ) -> Result<VerificationRequest, ServiceError> {
        let document_number = self.document_number(submission).await?;
        let document_image = self.objects.get(&submission.document_image_path).await?;
        let selfie_image = self.objects.get(&submission.selfie_image_path).await?;
        Ok(VerificationRequest {
            kyc_id: submission.id,
            document_type: submission.document_type.into(),
            document_number,
            document_image,
            selfie_image,
        })
    }

    /// The submission's document number in clear (decrypted on the blocking pool). Not logged:
    /// callers that hand it out log the read first (see `pii`).
    #[tracing::instrument(skip_all, fields(kyc_id = %submission.id))]
    pub async fn document_number(&self, submission: &Submission) -> Result<String, ServiceError> {
        let vault = self.vault.clone();
        let context = submission.number_context();
        let sealed = submission.document_number_ciphertext.clone();
        let plain = tokio::task::spawn_blocking(move || vault.open(&context, &sealed))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(anyhow::Error::from)?;
        Ok(String::from_utf8(plain).map_err(anyhow::Error::from)?)
    }
}
