//! KYC's part of the owner's data export (docs/conventions.md § Data-subject requests):
//! `myIdentityVerificationData` — every submission as its owner may see it, image records, and
//! the PII access log. One of the root fields the app's `MyDataExport` operation asks for in one
//! request, next to the user subgraph's `myDataExport`. The field takes no id: it reads the
//! caller's own, from the verified token, so nobody can ask for another person's data.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use tenor_contracts::kyc::DocumentType;
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, internal_error};
use uuid::Uuid;

use super::types::{KycDocumentTypeGql, KycStatusGql, PiiAccessEntry};
use super::{reader, service};
use crate::domain::{Gender, Image, StoredDocumentType, parse_nik};
use crate::store::{Submission, Upload};

/// The `DataExport` entity resolver.
#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// Identity verification of the signed-in owner (data export): submissions, image records and
    /// who read their data. Empty for a deleted account (its PII was erased).
    #[graphql(directive = authenticated::apply())]
    async fn my_identity_verification_data(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<KycDataExport>> {
        let user_id = ctx.principal()?.user_id;
        let export = service(ctx)
            .export_of(user_id)
            .await
            .map_err(internal_error)?;
        let uploads = Arc::new(export.uploads);
        Ok(Some(KycDataExport {
            submissions: export
                .submissions
                .into_iter()
                .map(|s| ExportedSubmission {
                    submission: s,
                    uploads: uploads.clone(),
                })
                .collect(),
            access_log: export
                .access_log
                .into_iter()
                .map(PiiAccessEntry::from)
                .collect(),
        }))
    }
}

#[derive(SimpleObject)]
pub struct KycDataExport {
    /// Every identity verification submitted, oldest first.
    submissions: Vec<ExportedSubmission>,
    /// Every read of this person's KYC data (staff reviews, downloads, this export's own
    /// reads), newest first: the history of its processing.
    access_log: Vec<PiiAccessEntry>,
}

pub struct ExportedSubmission {
    submission: Submission,
    uploads: Arc<HashMap<Uuid, Upload>>,
}

#[Object(name = "KycExportSubmission")]
impl ExportedSubmission {
    async fn id(&self) -> ID {
        ID(self.submission.id.to_string())
    }

    async fn document_type(&self) -> KycDocumentTypeGql {
        DocumentType::from(self.submission.document_type).into()
    }

    async fn status(&self) -> KycStatusGql {
        self.submission.status.into()
    }

    async fn document_number_masked(&self) -> &str {
        &self.submission.document_number_masked
    }

    /// The document number in full and, for a KTP, what its NIK encodes. Decrypted for the
    /// owner and logged in the access log like every read of it.
    async fn document(&self, ctx: &Context<'_>) -> Result<Option<ExportedDocument>> {
        if self.submission.erased_at.is_some() {
            return Ok(None);
        }
        let principal = ctx.principal()?;
        let number = service(ctx)
            .read_document_number(&reader(ctx, principal.user_id), &self.submission)
            .await
            .map_err(internal_error)?;
        let nik = match self.submission.document_type {
            StoredDocumentType::Ktp => parse_nik(&number, Utc::now().year()).ok(),
            StoredDocumentType::Sim | StoredDocumentType::Npwp => None,
        };
        Ok(Some(ExportedDocument {
            number,
            nik: nik.map(|nik| NikDetails {
                province_code: format!("{:02}", nik.province),
                regency_code: format!("{:02}", nik.regency),
                district_code: format!("{:02}", nik.district),
                birth_date: nik.birth_date,
                sex: match nik.gender {
                    Gender::Male => Sex::Male,
                    Gender::Female => Sex::Female,
                },
            }),
        }))
    }

    /// The document image: its record, and a short-lived link on request.
    async fn document_image(&self) -> Option<ExportedImage<'_>> {
        self.image(Image::Document, self.submission.document_upload_id)
    }

    /// The selfie (biometric data): its record, and a short-lived link on request.
    async fn selfie_image(&self) -> Option<ExportedImage<'_>> {
        self.image(Image::Selfie, self.submission.selfie_upload_id)
    }

    /// AUTOMATIC (the vendor's score decided) or MANUAL (a staff reviewer).
    async fn decision_source(&self) -> Option<&str> {
        self.submission.decision_source.map(|s| s.as_db())
    }

    async fn rejection_reason_code(&self) -> Option<&str> {
        self.submission.rejection_reason_code.as_deref()
    }

    async fn rejection_reason(&self) -> Option<&str> {
        self.submission.rejection_reason.as_deref()
    }

    async fn submitted_at(&self) -> DateTime<Utc> {
        self.submission.submitted_at
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.submission.decided_at
    }

    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.submission.expires_at
    }

    async fn expired_at(&self) -> Option<DateTime<Utc>> {
        self.submission.expired_at
    }
}

impl ExportedSubmission {
    fn image(&self, image: Image, upload_id: Uuid) -> Option<ExportedImage<'_>> {
        if self.submission.erased_at.is_some() {
            return None;
        }
        Some(ExportedImage {
            submission: &self.submission,
            upload: self.uploads.get(&upload_id),
            image,
        })
    }
}

/// The full document number and what a NIK encodes.
#[derive(SimpleObject)]
pub struct ExportedDocument {
    number: String,
    /// Null for a SIM or NPWP, whose numbers encode nothing personal.
    nik: Option<NikDetails>,
}

/// What a NIK's digits say (`PP KK CC DDMMYY SSSS`).
#[derive(SimpleObject)]
pub struct NikDetails {
    /// Dukcapil region codes of the place of registration.
    province_code: String,
    regency_code: String,
    district_code: String,
    birth_date: NaiveDate,
    sex: Sex,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// One stored image, without its bytes.
pub struct ExportedImage<'a> {
    submission: &'a Submission,
    upload: Option<&'a Upload>,
    image: Image,
}

#[Object(name = "KycExportImage")]
impl ExportedImage<'_> {
    /// `image/jpeg` or `image/png`.
    async fn content_type(&self) -> Option<&str> {
        self.upload.and_then(|u| u.content_type.as_deref())
    }

    async fn size_bytes(&self) -> Option<i32> {
        self.upload.and_then(|u| u.size_bytes)
    }

    async fn uploaded_at(&self) -> Option<DateTime<Utc>> {
        self.upload.and_then(|u| u.stored_at)
    }

    /// A short-lived link that downloads the decrypted image (`KYC_DOWNLOAD_URL_TTL`); logged.
    async fn download_url(&self, ctx: &Context<'_>) -> Result<String> {
        let principal = ctx.principal()?;
        service(ctx)
            .image_url(&reader(ctx, principal.user_id), self.submission, self.image)
            .await
            .map_err(internal_error)
    }
}
