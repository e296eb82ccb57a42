//! Verification by a vendor (OCR of the document, face match of the selfie against it) behind
//! the [`KycVerifier`] trait, and the worker that drives it.
//!
//! The worker reads PENDING submissions still AWAITING_VENDOR from the database, so a
//! submission accepted just before a crash is verified after the restart. The vendor call
//! happens outside any transaction; the outcome is applied in one transaction that re-checks
//! the row is still awaiting the vendor, so two replicas never decide it twice.

use std::sync::Arc;

use async_trait::async_trait;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use sha2::{Digest, Sha256};
use tenor_contracts::kyc::{DocumentType, KycDecisionSource, KycRejectedV1, KycVerifiedV1};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::{self, KycStatus, VerificationOutcome, VerificationStage};
use crate::events::Publisher;
use crate::service::{KycService, ServiceError, chrono_duration, now};
use crate::store::{self, Submission};

/// What the vendor is sent. The images and number are plaintext here: this is the one place
/// they leave encryption, to go to the verification provider.
pub struct VerificationRequest {
    pub kyc_id: Uuid,
    pub document_type: DocumentType,
    pub document_number: String,
    pub document_image: Vec<u8>,
    pub selfie_image: Vec<u8>,
}

/// What an OCR vendor reads off a document (a subset of the KTP fields, domain facts §4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct OcrFields {
    /// `None` when the document could not be read.
    pub document_number: Option<String>,
    pub birth_date: Option<chrono::NaiveDate>,
    pub gender: Option<domain::Gender>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VendorAnswer {
    pub ocr: OcrFields,
    /// 0–1 similarity of the selfie to the document photo.
    pub face_match_score: f64,
}

/// A KYC verification provider (OCR + face match; Dukcapil behind it in production).
#[async_trait]
pub trait KycVerifier: Send + Sync {
    async fn verify(&self, request: &VerificationRequest) -> anyhow::Result<VendorAnswer>;
}

/// **Simulated** vendor, the default and the one tests use. Deterministic:
///
/// - OCR "reads" the submitted number back (it cannot read images), with birth date and gender
///   taken from the NIK's structure for a KTP.
/// - The face-match score is the first two bytes of SHA-256(document image ‖ 0x00 ‖ selfie
///   image) as a big-endian integer divided by 65535. A test that needs a score above, between
///   or below the thresholds varies trailing bytes of an image (JPEG/PNG decoders ignore bytes
///   after the end marker) until [`SimulatedKycVendor::face_match_score`] lands in the band.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimulatedKycVendor;

impl SimulatedKycVendor {
    pub fn face_match_score(document_image: &[u8], selfie_image: &[u8]) -> f64 {
        let digest = Sha256::new()
            .chain_update(document_image)
            .chain_update([0u8])
            .chain_update(selfie_image)
            .finalize();
        f64::from(u16::from_be_bytes([digest[0], digest[1]])) / f64::from(u16::MAX)
    }
}

#[async_trait]
impl KycVerifier for SimulatedKycVendor {
    async fn verify(&self, request: &VerificationRequest) -> anyhow::Result<VendorAnswer> {
        let nik = match request.document_type {
            DocumentType::Ktp => {
                let year = chrono::Datelike::year(&chrono::Utc::now());
                domain::parse_nik(&request.document_number, year).ok()
            }
            _ => None,
        };
        Ok(VendorAnswer {
            ocr: OcrFields {
                document_number: Some(request.document_number.clone()),
                birth_date: nik.map(|n| n.birth_date),
                gender: nik.map(|n| n.gender),
            },
            face_match_score: Self::face_match_score(
                &request.document_image,
                &request.selfie_image,
            ),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Applying decisions (shared by the worker and staff review)

/// PENDING → VERIFIED, valid for the configured period; `kyc.verified`.
pub(crate) async fn verify(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    submission: &mut Submission,
    source: KycDecisionSource,
    decided_by: Option<Uuid>,
    validity: std::time::Duration,
) -> Result<(), ServiceError> {
    let at = now();
    let expires_at = at + chrono_duration(validity);
    submission.status = KycStatus::Verified.as_db().to_owned();
    submission.verification_stage = VerificationStage::Decided.as_db().to_owned();
    submission.decision_source = Some(source_db(source).to_owned());
    submission.decided_by = decided_by;
    submission.decided_at = Some(at);
    submission.expires_at = Some(expires_at);
    submission.updated_at = at;
    store::save_submission(conn, submission).await?;
    let event = KycVerifiedV1 {
        kyc_id: submission.id,
        user_id: submission.user_id,
        document_type: submission.document_type(),
        source,
        decided_by,
        verified_at: at,
        expires_at,
    };
    publisher.publish(conn, submission.user_id, &event).await?;
    Ok(())
}

/// PENDING → REJECTED with a reason; the document number is released; `kyc.rejected`.
pub(crate) async fn reject(
    conn: &mut AsyncPgConnection,
    publisher: &Publisher,
    submission: &mut Submission,
    source: KycDecisionSource,
    decided_by: Option<Uuid>,
    code: &str,
    reason: &str,
) -> Result<(), ServiceError> {
    let at = now();
    submission.status = KycStatus::Rejected.as_db().to_owned();
    submission.verification_stage = VerificationStage::Decided.as_db().to_owned();
    submission.decision_source = Some(source_db(source).to_owned());
    submission.decided_by = decided_by;
    submission.decided_at = Some(at);
    submission.rejection_reason_code = Some(code.to_owned());
    submission.rejection_reason = Some(reason.to_owned());
    submission.updated_at = at;
    store::save_submission(conn, submission).await?;
    store::release_claim(conn, submission.id).await?;
    let event = KycRejectedV1 {
        kyc_id: submission.id,
        user_id: submission.user_id,
        document_type: submission.document_type(),
        source,
        decided_by,
        reason_code: code.to_owned(),
        reason: reason.to_owned(),
        rejected_at: at,
    };
    publisher.publish(conn, submission.user_id, &event).await?;
    Ok(())
}

fn source_db(source: KycDecisionSource) -> &'static str {
    match source {
        KycDecisionSource::Automatic => "AUTOMATIC",
        KycDecisionSource::Manual => "MANUAL",
    }
}

// ---------------------------------------------------------------------------------------------
// The worker

const BATCH: i64 = 16;

impl KycService {
    /// Verify submissions awaiting the vendor until `shutdown`: woken by each submission, and
    /// polling every `interval` for anything left behind (a restart, a failed vendor call).
    pub async fn run_verification(
        self,
        vendor: Arc<dyn KycVerifier>,
        interval: std::time::Duration,
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
            if current.status() != KycStatus::Pending
                || current.stage() != VerificationStage::AwaitingVendor
            {
                return Ok(false); // another replica got there first
            }
            current.face_match_score = Some(answer.face_match_score);
            match outcome {
                VerificationOutcome::Verify => {
                    verify(
                        conn,
                        publisher,
                        &mut current,
                        KycDecisionSource::Automatic,
                        None,
                        validity,
                    )
                    .await?
                }
                VerificationOutcome::Reject { code, reason } => {
                    reject(
                        conn,
                        publisher,
                        &mut current,
                        KycDecisionSource::Automatic,
                        None,
                        code,
                        &reason,
                    )
                    .await?
                }
                VerificationOutcome::ManualReview => {
                    current.verification_stage = VerificationStage::ManualReview.as_db().into();
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
            document_type: submission.document_type(),
            document_number,
            document_image,
            selfie_image,
        })
    }

    /// The submission's document number in clear (decrypted on the blocking pool).
    pub async fn document_number(&self, submission: &Submission) -> Result<String, ServiceError> {
        let vault = self.vault.clone();
        let context = submission.number_context();
        let sealed = submission.document_number_ciphertext.clone();
        let plain = tokio::task::spawn_blocking(move || vault.open(&context, &sealed))
            .await
            .map_err(|e| ServiceError::Other(e.into()))?
            .map_err(|e| ServiceError::Other(e.into()))?;
        String::from_utf8(plain).map_err(|e| ServiceError::Other(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_scores_are_deterministic_and_spread() {
        let a = SimulatedKycVendor::face_match_score(b"doc", b"selfie");
        assert_eq!(a, SimulatedKycVendor::face_match_score(b"doc", b"selfie"));
        assert!((0.0..=1.0).contains(&a));
        // Varying a trailing byte reaches every band quickly.
        let scores: Vec<f64> = (0u8..64)
            .map(|i| SimulatedKycVendor::face_match_score(b"doc", &[b's', i]))
            .collect();
        assert!(scores.iter().any(|&s| s >= 0.85));
        assert!(scores.iter().any(|&s| s < 0.5));
        assert!(scores.iter().any(|&s| (0.5..0.85).contains(&s)));
    }

    #[tokio::test]
    async fn simulated_ocr_reads_the_nik_structure() {
        let answer = SimulatedKycVendor
            .verify(&VerificationRequest {
                kyc_id: Uuid::nil(),
                document_type: DocumentType::Ktp,
                document_number: "3174055203050042".into(),
                document_image: vec![1],
                selfie_image: vec![2],
            })
            .await
            .unwrap();
        assert_eq!(
            answer.ocr.document_number.as_deref(),
            Some("3174055203050042")
        );
        assert_eq!(answer.ocr.gender, Some(domain::Gender::Female));
        assert_eq!(
            answer.ocr.birth_date,
            chrono::NaiveDate::from_ymd_opt(2005, 3, 12)
        );
    }
}
