//! `submitKyc`: validate the document number, check the two uploaded images, claim the number
//! for this account, store the submission (number encrypted + blind index + mask) and
//! `kyc.submitted` in one transaction. A refusal stores nothing.

use diesel_async::AsyncConnection;
use tenor_contracts::kyc::{DocumentType, KycSubmittedV1};
use uuid::Uuid;

use crate::domain::{self, DocumentNumberError, KycStatus, VerificationStage};
use crate::service::{KycService, ServiceError, now};
use crate::store::{self, Submission, UploadKind};

/// Why a submission was refused. Codes are stable; messages are safe to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitRefusal {
    DocumentNumber(DocumentNumberError),
    DocumentNumberTaken,
    AlreadyPending,
    AlreadyVerified,
    UploadNotFound(&'static str),
    UploadWrongKind(&'static str),
    UploadNotReceived(&'static str),
    UploadAlreadyUsed(&'static str),
}

impl SubmitRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::DocumentNumber(e) => e.code(),
            Self::DocumentNumberTaken => "DOCUMENT_NUMBER_TAKEN",
            Self::AlreadyPending => "KYC_ALREADY_PENDING",
            Self::AlreadyVerified => "KYC_ALREADY_VERIFIED",
            Self::UploadNotFound(_) => "UPLOAD_NOT_FOUND",
            Self::UploadWrongKind(_) => "UPLOAD_WRONG_KIND",
            Self::UploadNotReceived(_) => "UPLOAD_NOT_RECEIVED",
            Self::UploadAlreadyUsed(_) => "UPLOAD_ALREADY_USED",
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            Self::DocumentNumber(_) | Self::DocumentNumberTaken => "documentNumber",
            Self::AlreadyPending | Self::AlreadyVerified => "documentType",
            Self::UploadNotFound(f)
            | Self::UploadWrongKind(f)
            | Self::UploadNotReceived(f)
            | Self::UploadAlreadyUsed(f) => f,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::DocumentNumber(e) => e.message(),
            Self::DocumentNumberTaken => {
                "Nomor dokumen sudah terdaftar pada akun lain / This document number is already registered to another account"
            }
            Self::AlreadyPending => {
                "Verifikasi Anda sedang diproses / Your verification is already being processed"
            }
            Self::AlreadyVerified => {
                "Akun Anda sudah terverifikasi / Your account is already verified"
            }
            Self::UploadNotFound(_) => "Unggahan tidak ditemukan / Upload not found",
            Self::UploadWrongKind(_) => {
                "Jenis unggahan salah / This upload is not the kind of image expected here"
            }
            Self::UploadNotReceived(_) => {
                "Gambar belum diunggah / The image has not been uploaded yet"
            }
            Self::UploadAlreadyUsed(_) => {
                "Gambar sudah dipakai / This image was already used for a submission"
            }
        }
    }
}

pub struct SubmitKyc {
    pub document_type: DocumentType,
    pub document_number: String,
    pub document_upload_id: Option<Uuid>,
    pub selfie_upload_id: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
enum TxError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<crate::events::PublishError> for TxError {
    fn from(e: crate::events::PublishError) -> Self {
        Self::Service(e.into())
    }
}

const DOCUMENT_FIELD: &str = "documentUploadId";
const SELFIE_FIELD: &str = "selfieUploadId";

/// An upload that can be attached: the caller's, of the right kind, received and unused.
fn usable(
    upload: Option<store::Upload>,
    user_id: Uuid,
    kind: UploadKind,
    field: &'static str,
) -> Result<store::Upload, SubmitRefusal> {
    let upload = upload
        .filter(|u| u.user_id == user_id)
        .ok_or(SubmitRefusal::UploadNotFound(field))?;
    if upload.kind != kind.as_db() {
        return Err(SubmitRefusal::UploadWrongKind(field));
    }
    match upload.status.as_str() {
        "STORED" => Ok(upload),
        "USED" => Err(SubmitRefusal::UploadAlreadyUsed(field)),
        _ => Err(SubmitRefusal::UploadNotReceived(field)),
    }
}

impl KycService {
    pub async fn submit(
        &self,
        user_id: Uuid,
        input: SubmitKyc,
    ) -> Result<Result<Submission, SubmitRefusal>, ServiceError> {
        let number =
            match domain::parse_document_number(input.document_type, &input.document_number) {
                Ok(number) => number,
                Err(e) => return Ok(Err(SubmitRefusal::DocumentNumber(e))),
            };
        let Some(document_upload_id) = input.document_upload_id else {
            return Ok(Err(SubmitRefusal::UploadNotFound(DOCUMENT_FIELD)));
        };
        let Some(selfie_upload_id) = input.selfie_upload_id else {
            return Ok(Err(SubmitRefusal::UploadNotFound(SELFIE_FIELD)));
        };
        let type_db = domain::document_type_db(number.document_type);
        let hash = self.blind_index.of(type_db, &number.digits);
        let kyc_id = Uuid::now_v7();
        let ciphertext = {
            let vault = self.vault.clone();
            let digits = number.digits.clone();
            tokio::task::spawn_blocking(move || {
                vault.seal(&store::number_context(kyc_id), digits.as_bytes())
            })
            .await
            .map_err(|e| ServiceError::Other(e.into()))?
        };

        let publisher = &self.publisher;
        let mut conn = self.conn().await?;
        let outcome = conn
            .transaction::<_, TxError, _>(async |conn| {
                if let Some(live) = store::lock_live_for_user(conn, user_id).await? {
                    return Ok(Err(match live.status() {
                        KycStatus::Verified => SubmitRefusal::AlreadyVerified,
                        _ => SubmitRefusal::AlreadyPending,
                    }));
                }
                let document = store::lock_upload(conn, document_upload_id).await?;
                let document =
                    match usable(document, user_id, UploadKind::DocumentFront, DOCUMENT_FIELD) {
                        Ok(u) => u,
                        Err(refusal) => return Ok(Err(refusal)),
                    };
                let selfie = store::lock_upload(conn, selfie_upload_id).await?;
                let selfie = match usable(selfie, user_id, UploadKind::Selfie, SELFIE_FIELD) {
                    Ok(u) => u,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                // The claim is the race-free guard of one number, one account; it is the first
                // write, so a refusal here still leaves nothing behind.
                if !store::claim_document(conn, &hash, user_id, kyc_id).await? {
                    return Ok(Err(SubmitRefusal::DocumentNumberTaken));
                }
                let at = now();
                let submission = Submission {
                    id: kyc_id,
                    user_id,
                    document_type: type_db.to_owned(),
                    document_number_hash: hash.clone(),
                    document_number_ciphertext: ciphertext.clone(),
                    document_number_masked: number.masked(),
                    document_image_path: document.object_path.clone().unwrap_or_default(),
                    selfie_image_path: selfie.object_path.clone().unwrap_or_default(),
                    document_upload_id: document.id,
                    selfie_upload_id: selfie.id,
                    status: KycStatus::Pending.as_db().to_owned(),
                    verification_stage: VerificationStage::AwaitingVendor.as_db().to_owned(),
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
                };
                store::insert_submission(conn, &submission).await?;
                store::mark_upload_used(conn, document.id, at).await?;
                store::mark_upload_used(conn, selfie.id, at).await?;
                let event = KycSubmittedV1 {
                    kyc_id,
                    user_id,
                    document_type: number.document_type,
                    submitted_at: at,
                };
                publisher.publish(conn, user_id, &event).await?;
                Ok(Ok(submission))
            })
            .await;
        match outcome {
            Ok(Ok(submission)) => {
                self.submitted.notify_one();
                Ok(Ok(submission))
            }
            Ok(Err(refusal)) => Ok(Err(refusal)),
            // Two submissions of one customer raced past the live check: the partial unique
            // index let one through.
            Err(TxError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            ))) if info.constraint_name() == Some("user_kyc_one_live_per_user") => {
                Ok(Err(SubmitRefusal::AlreadyPending))
            }
            Err(TxError::Database(e)) => Err(e.into()),
            Err(TxError::Service(e)) => Err(e),
        }
    }
}
