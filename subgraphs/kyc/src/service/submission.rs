//! `submitKyc`: validate the document number, check the two uploaded images, claim the number
//! for this account, store the submission (number encrypted + blind index + mask) and
//! `kyc.submitted` in one transaction. A refusal stores nothing. At most
//! `KYC_SUBMISSIONS_PER_DAY` submissions per account in any 24 hours: each buys a vendor check.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::AsyncConnection;
use tenor_contracts::kyc::DocumentType;
use tenor_platform::quota;
use tenor_platform::refusal::{Failure, Outcome, ServiceError, refuse};
use uuid::Uuid;

use super::{KycService, now};
use crate::domain::refusal::{DOCUMENT_UPLOAD_FIELD, SELFIE_UPLOAD_FIELD};
use crate::domain::{
    KycStatus, StoredDocumentType, SubmitRefusal, UploadKind, UploadStatus, VerificationStage,
    parse_document_number,
};
use crate::events::publish;
use crate::store::{self, Submission, Upload};

/// What the customer submits. `Debug` is deliberately not derived: it holds the number.
pub struct SubmitKyc {
    pub document_type: DocumentType,
    pub document_number: String,
    pub document_upload_id: Option<Uuid>,
    pub selfie_upload_id: Option<Uuid>,
}

/// An upload that can be attached: the caller's, of the right kind, received and unused.
fn usable(
    upload: Option<Upload>,
    user_id: Uuid,
    kind: UploadKind,
    field: &'static str,
) -> Result<Upload, SubmitRefusal> {
    let upload = upload
        .filter(|u| u.user_id == user_id)
        .ok_or(SubmitRefusal::UploadNotFound(field))?;
    if upload.kind != kind {
        return Err(SubmitRefusal::UploadWrongKind(field));
    }
    match upload.status {
        UploadStatus::Stored => Ok(upload),
        UploadStatus::Used => Err(SubmitRefusal::UploadAlreadyUsed(field)),
        UploadStatus::Requested => Err(SubmitRefusal::UploadNotReceived(field)),
    }
}

impl KycService {
    #[tracing::instrument(skip(self, input), fields(document_type = ?input.document_type))]
    pub async fn submit(
        &self,
        user_id: Uuid,
        input: SubmitKyc,
    ) -> Outcome<Submission, SubmitRefusal> {
        let number = parse_document_number(input.document_type, &input.document_number)
            .map_err(|e| Failure::refused(SubmitRefusal::DocumentNumber(e)))?;
        let Some(document_upload_id) = input.document_upload_id else {
            return refuse(SubmitRefusal::UploadNotFound(DOCUMENT_UPLOAD_FIELD));
        };
        let Some(selfie_upload_id) = input.selfie_upload_id else {
            return refuse(SubmitRefusal::UploadNotFound(SELFIE_UPLOAD_FIELD));
        };
        let document_type = StoredDocumentType::from(number.document_type);
        let hash = self.blind_index.of(document_type.as_db(), &number.digits);
        let kyc_id = Uuid::now_v7();
        let ciphertext = {
            let vault = self.vault.clone();
            let digits = number.digits.clone();
            tokio::task::spawn_blocking(move || {
                vault.seal(&store::number_context(kyc_id), digits.as_bytes())
            })
            .await
            .map_err(anyhow::Error::from)?
        };

        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        let outcome = conn
            .transaction::<_, Failure<SubmitRefusal>, _>(async |conn| {
                if let Some(live) = store::lock_live_for_user(conn, user_id).await? {
                    return refuse(match live.status {
                        KycStatus::Verified => SubmitRefusal::AlreadyVerified,
                        _ => SubmitRefusal::AlreadyPending,
                    });
                }
                // Read under no lock, but exact: the one-live-submission index lets only one
                // of two racing submissions be stored.
                let at = now();
                let since = store::submitted_since(conn, user_id, at - quota::DAY).await?;
                let limit = self.settings.submissions_per_day;
                if let Some(hours) = quota::hours_until_room(&since, limit, quota::DAY, at) {
                    return refuse(SubmitRefusal::SubmissionLimit { limit, hours });
                }
                let document = store::lock_upload(conn, document_upload_id).await?;
                let document = usable(
                    document,
                    user_id,
                    UploadKind::DocumentFront,
                    DOCUMENT_UPLOAD_FIELD,
                )
                .map_err(Failure::refused)?;
                let selfie = store::lock_upload(conn, selfie_upload_id).await?;
                let selfie = usable(selfie, user_id, UploadKind::Selfie, SELFIE_UPLOAD_FIELD)
                    .map_err(Failure::refused)?;
                // The claim is the race-free guard of one number, one account; it is the first
                // write, so a refusal here still leaves nothing behind.
                if !store::claim_document(conn, &hash, user_id, kyc_id).await? {
                    return refuse(SubmitRefusal::DocumentNumberTaken);
                }
                let submission = Submission {
                    id: kyc_id,
                    user_id,
                    document_type,
                    document_number_hash: hash.clone(),
                    document_number_ciphertext: ciphertext.clone(),
                    document_number_masked: number.masked(),
                    document_image_path: document.object_path.clone().unwrap_or_default(),
                    selfie_image_path: selfie.object_path.clone().unwrap_or_default(),
                    document_upload_id: document.id,
                    selfie_upload_id: selfie.id,
                    status: KycStatus::Pending,
                    verification_stage: VerificationStage::AwaitingVendor,
                    face_match_score: None,
                    decision_source: None,
                    decided_by: None,
                    decided_at: None,
                    rejection_reason_code: None,
                    rejection_reason: None,
                    expires_at: None,
                    expired_at: None,
                    submitted_at: at,
                    created_at: at,
                    updated_at: at,
                    erased_at: None,
                };
                store::insert_submission(conn, &submission).await?;
                store::mark_upload_used(conn, document.id, at).await?;
                store::mark_upload_used(conn, selfie.id, at).await?;
                publish::publish(
                    publisher,
                    conn,
                    &submission,
                    &publish::submitted(&submission),
                )
                .await?;
                Ok(submission)
            })
            .await;
        match outcome {
            Ok(submission) => {
                self.submitted.notify_one();
                Ok(submission)
            }
            // Two submissions of one customer raced past the live check: the partial unique
            // index let one through.
            Err(Failure::Error(ServiceError::Database(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                info,
            )))) if info.constraint_name() == Some("user_kyc_one_live_per_user") => {
                refuse(SubmitRefusal::AlreadyPending)
            }
            Err(failure) => Err(failure),
        }
    }
}
