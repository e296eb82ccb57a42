//! The KYC object types, enums, inputs and payloads. [`Kyc`] is one type for every audience:
//! the fields only staff may read check the scope themselves (and declare it with
//! `@requiresScopes` for the router), and every PII read goes through the service, which logs
//! it before returning it.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_contracts::kyc::DocumentType;
use tenor_platform::graphql::{CallerExt, UserError, internal_error};

use super::customer::User;
use super::loaders::Reviews;
use super::{KYC_PII_READ, KYC_REVIEW, reader, service};
use crate::domain::{Image, KycStatus, ReviewDecision, UploadKind, VerificationStage};
use crate::service::UploadTicket;
use crate::store::{PiiAccess, Review, Submission};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum KycUploadKind {
    /// The front of the identity document.
    DocumentFront,
    /// A selfie of the holder.
    Selfie,
}

impl From<KycUploadKind> for UploadKind {
    fn from(kind: KycUploadKind) -> Self {
        match kind {
            KycUploadKind::DocumentFront => Self::DocumentFront,
            KycUploadKind::Selfie => Self::Selfie,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "KycDocumentType")]
pub enum KycDocumentTypeGql {
    /// Kartu Tanda Penduduk (NIK).
    Ktp,
    /// Surat Izin Mengemudi.
    Sim,
    /// Nomor Pokok Wajib Pajak.
    Npwp,
}

impl From<KycDocumentTypeGql> for DocumentType {
    fn from(t: KycDocumentTypeGql) -> Self {
        match t {
            KycDocumentTypeGql::Ktp => Self::Ktp,
            KycDocumentTypeGql::Sim => Self::Sim,
            KycDocumentTypeGql::Npwp => Self::Npwp,
        }
    }
}

impl From<DocumentType> for KycDocumentTypeGql {
    fn from(t: DocumentType) -> Self {
        match t {
            DocumentType::Ktp => Self::Ktp,
            DocumentType::Sim => Self::Sim,
            DocumentType::Npwp => Self::Npwp,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "KycStatus")]
pub enum KycStatusGql {
    /// Being verified (automatically or in the manual review queue).
    Pending,
    Verified,
    /// See rejectionReason; the customer may submit again.
    Rejected,
    /// The verification outlived its validity; the customer must verify again.
    Expired,
}

impl From<KycStatus> for KycStatusGql {
    fn from(s: KycStatus) -> Self {
        match s {
            KycStatus::Pending => Self::Pending,
            KycStatus::Verified => Self::Verified,
            KycStatus::Rejected => Self::Rejected,
            KycStatus::Expired => Self::Expired,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum KycReviewDecision {
    Approve,
    Reject,
}

impl From<KycReviewDecision> for ReviewDecision {
    fn from(decision: KycReviewDecision) -> Self {
        match decision {
            KycReviewDecision::Approve => Self::Approve,
            KycReviewDecision::Reject => Self::Reject,
        }
    }
}

impl From<ReviewDecision> for KycReviewDecision {
    fn from(decision: ReviewDecision) -> Self {
        match decision {
            ReviewDecision::Approve => Self::Approve,
            ReviewDecision::Reject => Self::Reject,
        }
    }
}

/// One identity verification of one customer.
pub struct Kyc(pub Submission);

#[Object]
impl Kyc {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The customer this submission belongs to. Its `id` is always there; profile fields come
    /// from the user subgraph, and where the caller may not read them (a reviewer without
    /// `user:admin`) the user is null with a `FORBIDDEN` error.
    // Nullable so that refusal nulls only the user, not the submission and every submission
    // listed beside it in the review queue.
    async fn user(&self) -> Option<User> {
        Some(User { id: self.0.user_id })
    }

    async fn status(&self) -> KycStatusGql {
        self.0.status.into()
    }

    async fn document_type(&self) -> KycDocumentTypeGql {
        DocumentType::from(self.0.document_type).into()
    }

    /// e.g. `3201********0001`.
    async fn document_number_masked(&self) -> &str {
        &self.0.document_number_masked
    }

    /// True while the submission waits for a staff decision.
    async fn awaiting_manual_review(&self) -> bool {
        self.0.status == KycStatus::Pending
            && self.0.verification_stage == VerificationStage::ManualReview
    }

    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    /// Stable code of the rejection (e.g. `FACE_MISMATCH`, `MANUAL_REVIEW_REJECTED`).
    async fn rejection_reason_code(&self) -> Option<&str> {
        self.0.rejection_reason_code.as_deref()
    }

    /// Why it was rejected, safe to show to the customer.
    async fn rejection_reason(&self) -> Option<&str> {
        self.0.rejection_reason.as_deref()
    }

    /// When a verification stops being valid.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// The vendor's face-match score (0–1), for reviewers.
    #[graphql(requires_scopes = "kyc:review")]
    async fn face_match_score(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        ctx.require_scope(KYC_REVIEW)?;
        Ok(self.0.face_match_score)
    }

    /// The full document number. Every read is recorded in the access log.
    #[graphql(requires_scopes = "kyc:pii:read")]
    async fn document_number(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let principal = ctx.require_scope(KYC_PII_READ)?;
        // Erased with the account: nothing left to read, nothing to log.
        if self.0.erased_at.is_some() {
            return Ok(None);
        }
        let number = service(ctx)
            .read_document_number(&reader(ctx, principal.user_id), &self.0)
            .await
            .map_err(internal_error)?;
        Ok(Some(number))
    }

    /// A short-lived link to the document image (decrypted on download). Logged.
    #[graphql(requires_scopes = "kyc:review")]
    async fn document_image_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.image_url(ctx, Image::Document).await
    }

    /// A short-lived link to the selfie (decrypted on download). Logged.
    #[graphql(requires_scopes = "kyc:review")]
    async fn selfie_image_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.image_url(ctx, Image::Selfie).await
    }

    /// Staff decisions on this submission, oldest first.
    #[graphql(requires_scopes = "kyc:review")]
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Option<Vec<KycReview>>> {
        ctx.require_scope(KYC_REVIEW)?;
        let reviews = ctx
            .data_unchecked::<Reviews>()
            .load_one(self.0.id)
            .await
            .map_err(internal_error)?
            .unwrap_or_default();
        Ok(Some(reviews.into_iter().map(KycReview::from).collect()))
    }
}

impl Kyc {
    async fn image_url(&self, ctx: &Context<'_>, image: Image) -> Result<Option<String>> {
        let principal = ctx.require_scope(KYC_REVIEW)?;
        if self.0.erased_at.is_some() {
            return Ok(None);
        }
        let url = service(ctx)
            .image_url(&reader(ctx, principal.user_id), &self.0, image)
            .await
            .map_err(internal_error)?;
        Ok(Some(url))
    }
}

/// A staff decision (audit).
#[derive(SimpleObject)]
pub struct KycReview {
    id: ID,
    reviewer_id: ID,
    decision: KycReviewDecision,
    reason: Option<String>,
    reviewed_at: DateTime<Utc>,
}

impl From<Review> for KycReview {
    fn from(r: Review) -> Self {
        Self {
            id: ID(r.id.to_string()),
            reviewer_id: ID(r.reviewer_id.to_string()),
            decision: r.decision.into(),
            reason: r.reason,
            reviewed_at: r.reviewed_at,
        }
    }
}

/// One read of someone's KYC PII.
#[derive(SimpleObject)]
pub struct PiiAccessEntry {
    id: ID,
    /// Who read it (a staff member's user id).
    actor_id: ID,
    kyc_id: ID,
    /// `documentNumber`, `documentImageUrl`, `selfieImageUrl`, `documentImage.download`, …
    field: String,
    /// The GraphQL operation name the read was part of (`download` for image downloads).
    operation_name: Option<String>,
    accessed_at: DateTime<Utc>,
}

impl From<PiiAccess> for PiiAccessEntry {
    fn from(a: PiiAccess) -> Self {
        Self {
            id: ID(a.id.to_string()),
            actor_id: ID(a.actor_id.to_string()),
            kyc_id: ID(a.kyc_id.to_string()),
            field: a.field.to_string(),
            operation_name: a.operation_name,
            accessed_at: a.accessed_at,
        }
    }
}

/// Where and how to upload one image: `PUT` the raw JPEG/PNG bytes to `url` before
/// `expiresAt`. The link works once.
#[derive(SimpleObject)]
pub struct KycUpload {
    upload_id: ID,
    url: String,
    method: String,
    expires_at: DateTime<Utc>,
    max_bytes: i32,
    accepted_content_types: Vec<String>,
}

impl From<UploadTicket> for KycUpload {
    fn from(ticket: UploadTicket) -> Self {
        Self {
            upload_id: ID(ticket.upload_id.to_string()),
            url: ticket.url,
            method: "PUT".to_owned(),
            expires_at: ticket.expires_at,
            max_bytes: i32::try_from(ticket.max_bytes).unwrap_or(i32::MAX),
            accepted_content_types: vec!["image/jpeg".into(), "image/png".into()],
        }
    }
}

#[derive(SimpleObject)]
pub struct RequestKycUploadPayload {
    pub upload: Option<KycUpload>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct SubmitKycInput {
    pub document_type: KycDocumentTypeGql,
    /// Separators (spaces, dots, dashes) are ignored.
    pub document_number: String,
    /// A DOCUMENT_FRONT upload that has been PUT.
    pub document_upload_id: ID,
    /// A SELFIE upload that has been PUT.
    pub selfie_upload_id: ID,
}

#[derive(SimpleObject)]
pub struct SubmitKycPayload {
    pub kyc: Option<Kyc>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct ReviewKycPayload {
    pub kyc: Option<Kyc>,
    pub user_errors: Vec<UserError>,
}
