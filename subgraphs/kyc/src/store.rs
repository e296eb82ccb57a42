//! Persistence in PostgreSQL (diesel-async): uploads, submissions (`user_kyc`), document-number
//! claims, staff reviews and the PII access log. Writes that depend on a row's state lock it
//! first (`FOR UPDATE`) so racing requests apply one after the other.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tenor_contracts::kyc::DocumentType;
use uuid::Uuid;

use crate::domain::{self, KycStatus, VerificationStage};

diesel::table! {
    kyc_uploads (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        status -> Text,
        object_path -> Nullable<Text>,
        content_type -> Nullable<Text>,
        size_bytes -> Nullable<Int4>,
        key_id -> Nullable<Text>,
        expires_at -> Timestamptz,
        stored_at -> Nullable<Timestamptz>,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_kyc (id) {
        id -> Uuid,
        user_id -> Uuid,
        document_type -> Text,
        document_number_hash -> Text,
        document_number_ciphertext -> Bytea,
        document_number_masked -> Text,
        document_image_path -> Text,
        selfie_image_path -> Text,
        document_upload_id -> Uuid,
        selfie_upload_id -> Uuid,
        status -> Text,
        verification_stage -> Text,
        face_match_score -> Nullable<Float8>,
        decision_source -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        rejection_reason_code -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
        expires_at -> Nullable<Timestamptz>,
        expired_at -> Nullable<Timestamptz>,
        submitted_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    kyc_document_claims (document_number_hash) {
        document_number_hash -> Text,
        user_id -> Uuid,
        kyc_id -> Uuid,
        claimed_at -> Timestamptz,
    }
}

diesel::table! {
    kyc_reviews (id) {
        id -> Uuid,
        kyc_id -> Uuid,
        reviewer_id -> Uuid,
        decision -> Text,
        reason -> Nullable<Text>,
        reviewed_at -> Timestamptz,
    }
}

diesel::table! {
    pii_access_log (id) {
        id -> Uuid,
        actor_id -> Uuid,
        subject_user_id -> Uuid,
        kyc_id -> Uuid,
        field -> Text,
        operation_name -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        accessed_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(kyc_uploads, user_kyc);

// ---------------------------------------------------------------------------------------------
// Uploads

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    DocumentFront,
    Selfie,
}

impl UploadKind {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::DocumentFront => "DOCUMENT_FRONT",
            Self::Selfie => "SELFIE",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = kyc_uploads, check_for_backend(diesel::pg::Pg))]
pub struct Upload {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub status: String,
    pub object_path: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i32>,
    pub key_id: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub stored_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_upload(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    user_id: Uuid,
    kind: UploadKind,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    use kyc_uploads::dsl as u;
    diesel::insert_into(kyc_uploads::table)
        .values((
            u::id.eq(id),
            u::user_id.eq(user_id),
            u::kind.eq(kind.as_db()),
            u::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn find_upload(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Upload>> {
    kyc_uploads::table
        .find(id)
        .select(Upload::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn lock_upload(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Upload>> {
    kyc_uploads::table
        .find(id)
        .select(Upload::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// REQUESTED → STORED, only while the URL is unspent and unexpired. `false`: another PUT won
/// or the URL expired meanwhile.
pub async fn mark_upload_stored(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    object_path: &str,
    content_type: &str,
    size_bytes: i32,
    key_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    use kyc_uploads::dsl as u;
    let updated = diesel::update(
        kyc_uploads::table
            .filter(u::id.eq(id))
            .filter(u::status.eq("REQUESTED"))
            .filter(u::expires_at.gt(now)),
    )
    .set((
        u::status.eq("STORED"),
        u::object_path.eq(object_path),
        u::content_type.eq(content_type),
        u::size_bytes.eq(size_bytes),
        u::key_id.eq(key_id),
        u::stored_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Uploads never attached to a submission and created before `before`, locked and skipped by
/// other replicas.
pub async fn lock_abandoned_uploads(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Upload>> {
    use kyc_uploads::dsl as u;
    kyc_uploads::table
        .filter(u::status.ne("USED"))
        .filter(u::created_at.lt(before))
        .order((u::created_at, u::id))
        .limit(limit)
        .select(Upload::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

pub async fn delete_upload(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(kyc_uploads::table.find(id))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn mark_upload_used(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use kyc_uploads::dsl as u;
    diesel::update(kyc_uploads::table.filter(u::id.eq(id)))
        .set((u::status.eq("USED"), u::used_at.eq(now)))
        .execute(conn)
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Submissions

/// A `user_kyc` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_kyc, check_for_backend(diesel::pg::Pg))]
pub struct Submission {
    pub id: Uuid,
    pub user_id: Uuid,
    pub document_type: String,
    pub document_number_hash: String,
    pub document_number_ciphertext: Vec<u8>,
    pub document_number_masked: String,
    pub document_image_path: String,
    pub selfie_image_path: String,
    pub document_upload_id: Uuid,
    pub selfie_upload_id: Uuid,
    pub status: String,
    pub verification_stage: String,
    pub face_match_score: Option<f64>,
    pub decision_source: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub rejection_reason_code: Option<String>,
    pub rejection_reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub submitted_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Submission {
    /// The table's CHECK constraints make an unknown value impossible; default defensively to
    /// the most restrictive reading.
    pub fn status(&self) -> KycStatus {
        KycStatus::from_db(&self.status).unwrap_or(KycStatus::Rejected)
    }

    pub fn stage(&self) -> VerificationStage {
        VerificationStage::from_db(&self.verification_stage).unwrap_or(VerificationStage::Decided)
    }

    pub fn document_type(&self) -> DocumentType {
        domain::document_type_from_db(&self.document_type).unwrap_or(DocumentType::Ktp)
    }

    /// What binds the document-number ciphertext to this row (AES-GCM associated data).
    pub fn number_context(&self) -> Vec<u8> {
        number_context(self.id)
    }
}

pub fn number_context(kyc_id: Uuid) -> Vec<u8> {
    format!("user_kyc/{kyc_id}/document_number").into_bytes()
}

pub async fn insert_submission(
    conn: &mut AsyncPgConnection,
    submission: &Submission,
) -> QueryResult<()> {
    diesel::insert_into(user_kyc::table)
        .values(submission)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn find_submission(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Submission>> {
    user_kyc::table
        .find(id)
        .select(Submission::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn lock_submission(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Submission>> {
    user_kyc::table
        .find(id)
        .select(Submission::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The latest submission of each of `users` (one query for a whole `_entities` batch).
pub async fn latest_for_users(
    conn: &mut AsyncPgConnection,
    users: &[Uuid],
) -> QueryResult<Vec<Submission>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::user_id.eq_any(users))
        .distinct_on(k::user_id)
        .order((k::user_id, k::submitted_at.desc(), k::id.desc()))
        .select(Submission::as_select())
        .load(conn)
        .await
}

/// The user's live (PENDING or VERIFIED) submission, locked: a new one must wait for it.
pub async fn lock_live_for_user(
    conn: &mut AsyncPgConnection,
    user: Uuid,
) -> QueryResult<Option<Submission>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::user_id.eq(user))
        .filter(k::status.eq_any(["PENDING", "VERIFIED"]))
        .select(Submission::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Claim `hash` for `user` (or refresh the user's own claim). `false`: another account holds it.
pub async fn claim_document(
    conn: &mut AsyncPgConnection,
    hash: &str,
    user: Uuid,
    kyc_id: Uuid,
) -> QueryResult<bool> {
    use diesel::sql_types::{Text, Uuid as SqlUuid};
    // The conditional DO UPDATE: refresh one's own claim, leave another account's untouched
    // (then no row is affected).
    let claimed = diesel::sql_query(
        "INSERT INTO kyc_document_claims (document_number_hash, user_id, kyc_id) \
         VALUES ($1, $2, $3) \
         ON CONFLICT (document_number_hash) DO UPDATE \
         SET kyc_id = EXCLUDED.kyc_id, claimed_at = now() \
         WHERE kyc_document_claims.user_id = EXCLUDED.user_id",
    )
    .bind::<Text, _>(hash)
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(kyc_id)
    .execute(conn)
    .await?;
    Ok(claimed == 1)
}

/// Give a rejected submission's number back: it may have been someone else's.
pub async fn release_claim(conn: &mut AsyncPgConnection, kyc_id: Uuid) -> QueryResult<()> {
    use kyc_document_claims::dsl as c;
    diesel::delete(kyc_document_claims::table.filter(c::kyc_id.eq(kyc_id)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Submissions still waiting for the vendor, oldest first.
pub async fn awaiting_vendor(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Uuid>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::status.eq("PENDING"))
        .filter(k::verification_stage.eq(VerificationStage::AwaitingVendor.as_db()))
        .order((k::submitted_at, k::id))
        .select(k::id)
        .limit(limit)
        .load(conn)
        .await
}

/// Write a submission's new state (status, stage, decision, validity).
pub async fn save_submission(
    conn: &mut AsyncPgConnection,
    submission: &Submission,
) -> QueryResult<()> {
    use user_kyc::dsl as k;
    diesel::update(user_kyc::table.filter(k::id.eq(submission.id)))
        .set((
            k::status.eq(&submission.status),
            k::verification_stage.eq(&submission.verification_stage),
            k::face_match_score.eq(submission.face_match_score),
            k::decision_source.eq(&submission.decision_source),
            k::decided_by.eq(submission.decided_by),
            k::decided_at.eq(submission.decided_at),
            k::rejection_reason_code.eq(&submission.rejection_reason_code),
            k::rejection_reason.eq(&submission.rejection_reason),
            k::expires_at.eq(submission.expires_at),
            k::expired_at.eq(submission.expired_at),
            k::updated_at.eq(submission.updated_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A position in a list ordered by (time, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePosition {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// The manual review queue, oldest submission first.
pub async fn review_queue(
    conn: &mut AsyncPgConnection,
    after: Option<PagePosition>,
    limit: i64,
) -> QueryResult<Vec<Submission>> {
    use user_kyc::dsl as k;
    let mut query = user_kyc::table
        .filter(k::status.eq("PENDING"))
        .filter(k::verification_stage.eq(VerificationStage::ManualReview.as_db()))
        .into_boxed();
    if let Some(PagePosition { at, id }) = after {
        query = query.filter(
            k::submitted_at
                .gt(at)
                .or(k::submitted_at.eq(at).and(k::id.gt(id))),
        );
    }
    query
        .order((k::submitted_at, k::id))
        .limit(limit)
        .select(Submission::as_select())
        .load(conn)
        .await
}

/// VERIFIED submissions whose validity ended by `now`, locked and skipped by other replicas.
pub async fn lock_due_for_expiry(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Submission>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::status.eq("VERIFIED"))
        .filter(k::expires_at.le(now))
        .order((k::expires_at, k::id))
        .limit(limit)
        .select(Submission::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Reviews and the access log

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kyc_reviews, check_for_backend(diesel::pg::Pg))]
pub struct Review {
    pub id: Uuid,
    pub kyc_id: Uuid,
    pub reviewer_id: Uuid,
    pub decision: String,
    pub reason: Option<String>,
    pub reviewed_at: DateTime<Utc>,
}

pub async fn insert_review(conn: &mut AsyncPgConnection, review: &Review) -> QueryResult<()> {
    diesel::insert_into(kyc_reviews::table)
        .values(review)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn reviews_of(conn: &mut AsyncPgConnection, kyc_id: Uuid) -> QueryResult<Vec<Review>> {
    use kyc_reviews::dsl as r;
    kyc_reviews::table
        .filter(r::kyc_id.eq(kyc_id))
        .order((r::reviewed_at, r::id))
        .select(Review::as_select())
        .load(conn)
        .await
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pii_access_log, check_for_backend(diesel::pg::Pg))]
pub struct PiiAccess {
    pub id: Uuid,
    pub actor_id: Uuid,
    pub subject_user_id: Uuid,
    pub kyc_id: Uuid,
    pub field: String,
    pub operation_name: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub accessed_at: DateTime<Utc>,
}

pub async fn insert_access(conn: &mut AsyncPgConnection, access: &PiiAccess) -> QueryResult<()> {
    diesel::insert_into(pii_access_log::table)
        .values(access)
        .execute(conn)
        .await
        .map(|_| ())
}

/// One person's access log, newest first.
pub async fn access_log(
    conn: &mut AsyncPgConnection,
    subject: Uuid,
    after: Option<PagePosition>,
    limit: i64,
) -> QueryResult<Vec<PiiAccess>> {
    use pii_access_log::dsl as l;
    let mut query = pii_access_log::table
        .filter(l::subject_user_id.eq(subject))
        .into_boxed();
    if let Some(PagePosition { at, id }) = after {
        query = query.filter(
            l::accessed_at
                .lt(at)
                .or(l::accessed_at.eq(at).and(l::id.lt(id))),
        );
    }
    query
        .order((l::accessed_at.desc(), l::id.desc()))
        .limit(limit)
        .select(PiiAccess::as_select())
        .load(conn)
        .await
}
