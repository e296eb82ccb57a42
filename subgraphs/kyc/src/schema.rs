//! The KYC subgraph's GraphQL surface (federation v2). Thin: resolvers check who is asking,
//! translate input and hand over to [`crate::service::KycService`].
//!
//! Field-level authorization is declared with `@requiresScopes` (the router enforces it) and
//! enforced again here from the verified token, so a request sent straight to this subgraph gets
//! nothing more. Every PII read writes an access-log row before the value is returned.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::dataloader::{DataLoader, Loader, NoCache};
use async_graphql::{
    Context, EmptySubscription, Enum, ID, InputObject, Object, Result, SDLExportOptions, Schema,
    SchemaBuilder, SimpleObject,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use tenor_contracts::kyc::DocumentType;
use tenor_platform::auth::AuthError;
use tenor_platform::federation::{authenticated, federation_sdl};
use tenor_platform::graphql::{CallerExt, UserError, auth_error, coded_error, internal_error};
use uuid::Uuid;

use crate::domain::{KycStatus, VerificationStage};
use crate::pii::{Image, Reader};
use crate::review::ReviewDecision;
use crate::service::KycService;
use crate::store::{self, PagePosition, PiiAccess, Submission, UploadKind};
use crate::submission::SubmitKyc;

/// Customers submit their own documents.
pub const KYC_SUBMIT: &str = "kyc:submit";
/// Back office: the review queue, decisions, images.
pub const KYC_REVIEW: &str = "kyc:review";
/// Back office: full document numbers and the access log.
pub const KYC_PII_READ: &str = "kyc:pii:read";

const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;

pub type KycSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription).enable_federation()
}

/// The schema served by the running service.
pub fn build(service: KycService, stats: Arc<LoaderStats>) -> KycSchema {
    builder()
        .data(DataLoader::with_cache(
            LatestKycLoader {
                service: service.clone(),
                stats,
            },
            tokio::spawn,
            NoCache,
        ))
        .data(service)
        .finish()
}

/// The federation SDL, as `tenor-kyc print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    federation_sdl(
        builder()
            .finish()
            .sdl_with_options(SDLExportOptions::new().federation().compose_directive()),
    )
}

// ---------------------------------------------------------------------------------------------
// Loading

/// How many batch queries the `User.kyc` loader ran; tests assert N users cost one query.
#[derive(Debug, Default)]
pub struct LoaderStats {
    batches: AtomicUsize,
}

impl LoaderStats {
    pub fn batches(&self) -> usize {
        self.batches.load(Ordering::SeqCst)
    }
}

/// The latest submission of each user in an `_entities` batch, in one query. No cache: a
/// mutation and a later read in one request must not see stale rows.
pub struct LatestKycLoader {
    service: KycService,
    stats: Arc<LoaderStats>,
}

impl Loader<Uuid> for LatestKycLoader {
    type Value = Submission;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Submission>, Self::Error> {
        self.stats.batches.fetch_add(1, Ordering::SeqCst);
        let mut conn = self
            .service
            .conn()
            .await
            .map_err(|e| Arc::new(anyhow::anyhow!(e)))?;
        let rows = store::latest_for_users(&mut conn, users)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|s| (s.user_id, s)).collect())
    }
}

type LatestKyc = DataLoader<LatestKycLoader, NoCache>;

fn service<'a>(ctx: &Context<'a>) -> &'a KycService {
    ctx.data_unchecked::<KycService>()
}

/// The caller as a PII reader: who, in which named operation, from where.
fn reader(ctx: &Context<'_>, actor: Uuid) -> Reader {
    Reader {
        actor,
        operation_name: ctx
            .query_env
            .operation_name
            .as_deref()
            .map(client_operation_name),
        client: ctx.client_info(),
    }
}

/// The router forwards the client's operation name as `<Name>__<fetch node id>`; the log keeps
/// the name the client (and the mobile app's operation file) used.
fn client_operation_name(forwarded: &str) -> String {
    match forwarded.rsplit_once("__") {
        Some((name, node)) if !name.is_empty() && node.bytes().all(|b| b.is_ascii_digit()) => {
            name.to_owned()
        }
        _ => forwarded.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Types

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
enum KycUploadKind {
    /// The front of the identity document.
    DocumentFront,
    /// A selfie of the holder.
    Selfie,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "KycDocumentType")]
enum KycDocumentTypeGql {
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
enum KycStatusGql {
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
enum KycReviewDecision {
    Approve,
    Reject,
}

/// A user (owned by the user subgraph), extended with their KYC.
pub struct User {
    id: Uuid,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The latest KYC submission: the owner, or staff with `kyc:review` or `kyc:pii:read`.
    /// Anyone else gets null and a FORBIDDEN error.
    #[graphql(directive = authenticated::apply())]
    async fn kyc(&self, ctx: &Context<'_>) -> Result<Option<Kyc>> {
        let principal = ctx.principal()?;
        let allowed = principal.user_id == self.id
            || principal.has_scope(KYC_REVIEW)
            || principal.has_scope(KYC_PII_READ);
        if !allowed {
            return Err(auth_error(AuthError::Forbidden(KYC_REVIEW.to_owned())));
        }
        let latest = ctx
            .data_unchecked::<LatestKyc>()
            .load_one(self.id)
            .await
            .map_err(internal_error)?;
        Ok(latest.map(Kyc))
    }

    /// Who read this person's KYC data, newest first: the owner, or staff with `kyc:pii:read`.
    #[graphql(directive = authenticated::apply())]
    async fn kyc_access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<PositionCursor, PiiAccessEntry>>> {
        let principal = ctx.principal()?;
        principal
            .require_owner_or(self.id, KYC_PII_READ)
            .map_err(auth_error)?;
        access_log_page(ctx, self.id, first, after).await.map(Some)
    }
}

/// One identity verification of one customer.
pub struct Kyc(Submission);

#[Object]
impl Kyc {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The customer this submission belongs to.
    async fn user(&self) -> User {
        User { id: self.0.user_id }
    }

    async fn status(&self) -> KycStatusGql {
        self.0.status().into()
    }

    async fn document_type(&self) -> KycDocumentTypeGql {
        self.0.document_type().into()
    }

    /// e.g. `3201********0001`.
    async fn document_number_masked(&self) -> &str {
        &self.0.document_number_masked
    }

    /// True while the submission waits for a staff decision.
    async fn awaiting_manual_review(&self) -> bool {
        self.0.status() == KycStatus::Pending && self.0.stage() == VerificationStage::ManualReview
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
        let mut conn = service(ctx).conn().await.map_err(internal_error)?;
        let reviews = store::reviews_of(&mut conn, self.0.id)
            .await
            .map_err(internal_error)?;
        Ok(Some(
            reviews
                .into_iter()
                .map(|r| KycReview {
                    id: ID(r.id.to_string()),
                    reviewer_id: ID(r.reviewer_id.to_string()),
                    decision: if r.decision == "APPROVE" {
                        KycReviewDecision::Approve
                    } else {
                        KycReviewDecision::Reject
                    },
                    reason: r.reason,
                    reviewed_at: r.reviewed_at,
                })
                .collect(),
        ))
    }
}

impl Kyc {
    async fn image_url(&self, ctx: &Context<'_>, image: Image) -> Result<Option<String>> {
        let principal = ctx.require_scope(KYC_REVIEW)?;
        let url = service(ctx)
            .image_url(&reader(ctx, principal.user_id), &self.0, image)
            .await
            .map_err(internal_error)?;
        Ok(Some(url))
    }
}

/// A staff decision (audit).
#[derive(SimpleObject)]
struct KycReview {
    id: ID,
    reviewer_id: ID,
    decision: KycReviewDecision,
    reason: Option<String>,
    reviewed_at: DateTime<Utc>,
}

/// One read of someone's KYC PII.
#[derive(SimpleObject)]
struct PiiAccessEntry {
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
            field: a.field,
            operation_name: a.operation_name,
            accessed_at: a.accessed_at,
        }
    }
}

/// Where and how to upload one image: `PUT` the raw JPEG/PNG bytes to `url` before
/// `expiresAt`. The link works once.
#[derive(SimpleObject)]
struct KycUpload {
    upload_id: ID,
    url: String,
    method: String,
    expires_at: DateTime<Utc>,
    max_bytes: i32,
    accepted_content_types: Vec<String>,
}

#[derive(SimpleObject)]
struct RequestKycUploadPayload {
    upload: Option<KycUpload>,
    user_errors: Vec<UserError>,
}

#[derive(InputObject)]
struct SubmitKycInput {
    document_type: KycDocumentTypeGql,
    /// Separators (spaces, dots, dashes) are ignored.
    document_number: String,
    /// A DOCUMENT_FRONT upload that has been PUT.
    document_upload_id: ID,
    /// A SELFIE upload that has been PUT.
    selfie_upload_id: ID,
}

#[derive(SimpleObject)]
struct SubmitKycPayload {
    kyc: Option<Kyc>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
struct ReviewKycPayload {
    kyc: Option<Kyc>,
    user_errors: Vec<UserError>,
}

/// Opaque position in a list ordered by (time, id).
pub struct PositionCursor(PagePosition);

impl CursorType for PositionCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        const BAD: &str = "not a cursor of this list";
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| BAD)?;
        let text = String::from_utf8(bytes).map_err(|_| BAD)?;
        let (micros, id) = text.split_once(':').ok_or(BAD)?;
        let at = micros
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or(BAD)?;
        let id = id.parse().map_err(|_| BAD)?;
        Ok(Self(PagePosition { at, id }))
    }

    fn encode_cursor(&self) -> String {
        let PagePosition { at, id } = self.0;
        URL_SAFE_NO_PAD.encode(format!("{}:{id}", at.timestamp_micros()))
    }
}

fn page_args(first: Option<i32>, after: Option<String>) -> Result<(usize, Option<PagePosition>)> {
    let first = match first {
        None => DEFAULT_PAGE_SIZE,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                coded_error(
                    "BAD_USER_INPUT",
                    format!("first must be between 1 and {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    let after = after
        .map(|c| PositionCursor::decode_cursor(&c))
        .transpose()
        .map_err(|e| coded_error("BAD_USER_INPUT", format!("after: {e}")))?
        .map(|c| c.0);
    Ok((first, after))
}

async fn access_log_page(
    ctx: &Context<'_>,
    subject: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<PositionCursor, PiiAccessEntry>> {
    let (first, after) = page_args(first, after)?;
    let mut conn = service(ctx).conn().await.map_err(internal_error)?;
    // One more row than asked tells whether there is a next page.
    let mut rows = store::access_log(&mut conn, subject, after, first as i64 + 1)
        .await
        .map_err(internal_error)?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    let mut connection = Connection::new(after.is_some(), has_next);
    connection.edges.extend(rows.into_iter().map(|row| {
        let cursor = PositionCursor(PagePosition {
            at: row.accessed_at,
            id: row.id,
        });
        Edge::new(cursor, row.into())
    }));
    Ok(connection)
}

fn parse_id(id: &ID) -> Option<Uuid> {
    id.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Resolvers

pub struct Query;

#[Object]
impl Query {
    /// Back office: submissions waiting for a staff decision, oldest first. `first` is 1–100
    /// (default 20).
    #[graphql(requires_scopes = "kyc:review")]
    async fn kyc_review_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<PositionCursor, Kyc>>> {
        ctx.require_scope(KYC_REVIEW)?;
        let (first, after) = page_args(first, after)?;
        let mut conn = service(ctx).conn().await.map_err(internal_error)?;
        let mut rows = store::review_queue(&mut conn, after, first as i64 + 1)
            .await
            .map_err(internal_error)?;
        let has_next = rows.len() > first;
        rows.truncate(first);
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|row| {
            let cursor = PositionCursor(PagePosition {
                at: row.submitted_at,
                id: row.id,
            });
            Edge::new(cursor, Kyc(row))
        }));
        Ok(Some(connection))
    }

    /// Back office: who read a customer's KYC data, newest first.
    #[graphql(requires_scopes = "kyc:pii:read")]
    async fn pii_access_log(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<PositionCursor, PiiAccessEntry>>> {
        ctx.require_scope(KYC_PII_READ)?;
        let Some(user_id) = parse_id(&user_id) else {
            return Err(coded_error("BAD_USER_INPUT", "userId is not an id"));
        };
        access_log_page(ctx, user_id, first, after).await.map(Some)
    }

    /// `_entities` for `User`: the fields check who may see what.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        parse_id(&id).map(|id| User { id })
    }
}

fn one_error(code: &str, field: &str, message: &str) -> Vec<UserError> {
    vec![UserError::new(code, Some(field), message)]
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// A single-use, short-lived link to upload one image (raw JPEG/PNG bytes, HTTP PUT).
    #[graphql(requires_scopes = "kyc:submit")]
    async fn request_kyc_upload(
        &self,
        ctx: &Context<'_>,
        kind: KycUploadKind,
    ) -> Result<RequestKycUploadPayload> {
        let principal = ctx.require_scope(KYC_SUBMIT)?;
        let kind = match kind {
            KycUploadKind::DocumentFront => UploadKind::DocumentFront,
            KycUploadKind::Selfie => UploadKind::Selfie,
        };
        let ticket = service(ctx)
            .request_upload(principal.user_id, kind)
            .await
            .map_err(internal_error)?;
        Ok(RequestKycUploadPayload {
            upload: Some(KycUpload {
                upload_id: ID(ticket.upload_id.to_string()),
                url: ticket.url,
                method: "PUT".to_owned(),
                expires_at: ticket.expires_at,
                max_bytes: i32::try_from(ticket.max_bytes).unwrap_or(i32::MAX),
                accepted_content_types: vec!["image/jpeg".into(), "image/png".into()],
            }),
            user_errors: vec![],
        })
    }

    /// Submit the document number and the two uploaded images for verification. Refusals come
    /// back as userErrors and store nothing.
    #[graphql(requires_scopes = "kyc:submit")]
    async fn submit_kyc(
        &self,
        ctx: &Context<'_>,
        input: SubmitKycInput,
    ) -> Result<SubmitKycPayload> {
        let principal = ctx.require_scope(KYC_SUBMIT)?;
        let outcome = service(ctx)
            .submit(
                principal.user_id,
                SubmitKyc {
                    document_type: input.document_type.into(),
                    document_number: input.document_number,
                    document_upload_id: parse_id(&input.document_upload_id),
                    selfie_upload_id: parse_id(&input.selfie_upload_id),
                },
            )
            .await
            .map_err(internal_error)?;
        Ok(match outcome {
            Ok(submission) => SubmitKycPayload {
                kyc: Some(Kyc(submission)),
                user_errors: vec![],
            },
            Err(refusal) => SubmitKycPayload {
                kyc: None,
                user_errors: one_error(refusal.code(), refusal.field(), refusal.message()),
            },
        })
    }

    /// Back office: decide a submission from the review queue. A rejection needs a reason
    /// (3–500 characters) the customer will read.
    #[graphql(requires_scopes = "kyc:review")]
    async fn review_kyc(
        &self,
        ctx: &Context<'_>,
        kyc_id: ID,
        decision: KycReviewDecision,
        reason: Option<String>,
    ) -> Result<ReviewKycPayload> {
        let staff = ctx.require_scope(KYC_REVIEW)?;
        let Some(kyc_id) = parse_id(&kyc_id) else {
            let refusal = crate::review::ReviewRefusal::NotFound;
            return Ok(ReviewKycPayload {
                kyc: None,
                user_errors: one_error(refusal.code(), refusal.field(), refusal.message()),
            });
        };
        let decision = match decision {
            KycReviewDecision::Approve => ReviewDecision::Approve,
            KycReviewDecision::Reject => ReviewDecision::Reject,
        };
        let outcome = service(ctx)
            .review(staff.user_id, kyc_id, decision, reason.as_deref())
            .await
            .map_err(internal_error)?;
        Ok(match outcome {
            Ok(submission) => ReviewKycPayload {
                kyc: Some(Kyc(submission)),
                user_errors: vec![],
            },
            Err(refusal) => ReviewKycPayload {
                kyc: None,
                user_errors: one_error(refusal.code(), refusal.field(), refusal.message()),
            },
        })
    }
}

#[cfg(test)]
mod operation_name_tests {
    use super::client_operation_name;

    #[test]
    fn the_routers_fetch_suffix_is_dropped_and_nothing_else() {
        assert_eq!(client_operation_name("CustomerKyc__2"), "CustomerKyc");
        assert_eq!(client_operation_name("CustomerKyc"), "CustomerKyc");
        assert_eq!(client_operation_name("My__Query"), "My__Query");
        assert_eq!(client_operation_name("__3"), "__3");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let position = PagePosition {
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        let encoded = PositionCursor(position).encode_cursor();
        assert_eq!(PositionCursor::decode_cursor(&encoded).unwrap().0, position);
        assert!(PositionCursor::decode_cursor("bm90LWEtY3Vyc29y").is_err());
    }

    #[test]
    fn protected_fields_declare_their_scope() {
        let sdl = sdl();
        for (field, scope) in [
            ("documentNumber:", "kyc:pii:read"),
            ("documentImageUrl:", "kyc:review"),
            ("selfieImageUrl:", "kyc:review"),
            ("faceMatchScore:", "kyc:review"),
            ("kycReviewQueue(", "kyc:review"),
            ("reviewKyc(", "kyc:review"),
            ("piiAccessLog(", "kyc:pii:read"),
            ("submitKyc(", "kyc:submit"),
            ("requestKycUpload(", "kyc:submit"),
        ] {
            let line = sdl
                .lines()
                .find(|l| l.trim_start().starts_with(field))
                .unwrap_or_else(|| panic!("{field} missing from the SDL"));
            assert!(
                line.contains(&format!("@requiresScopes(scopes: [[\"{scope}\"]])")),
                "{line}"
            );
        }
        assert!(sdl.contains("type User @key(fields: \"id\")"), "{sdl}");
        assert!(sdl.contains("\tkyc: Kyc @authenticated\n"), "{sdl}");
        assert!(!sdl.contains("directive @authenticated"), "{sdl}");
    }
}
