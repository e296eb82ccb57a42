//! `user_kyc`: one row per submission, its verification state and decision. Writes that depend
//! on a row's state lock it first (`FOR UPDATE`) so racing requests apply one after the other.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tenor_platform::cursor::Cursor;
use uuid::Uuid;

use super::schema::user_kyc;
use crate::domain::{DecisionSource, KycStatus, StoredDocumentType, VerificationStage};

/// A `user_kyc` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_kyc, check_for_backend(diesel::pg::Pg))]
pub struct Submission {
    pub id: Uuid,
    pub user_id: Uuid,
    pub document_type: StoredDocumentType,
    pub document_number_hash: String,
    pub document_number_ciphertext: Vec<u8>,
    pub document_number_masked: String,
    pub document_image_path: String,
    pub selfie_image_path: String,
    pub document_upload_id: Uuid,
    pub selfie_upload_id: Uuid,
    pub status: KycStatus,
    pub verification_stage: VerificationStage,
    pub face_match_score: Option<f64>,
    pub decision_source: Option<DecisionSource>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub rejection_reason_code: Option<String>,
    pub rejection_reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub submitted_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the owner's account was deleted and this submission's PII erased.
    pub erased_at: Option<DateTime<Utc>>,
}

impl Submission {
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
        .filter(k::status.eq_any([KycStatus::Pending, KycStatus::Verified]))
        .select(Submission::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// When the account submitted since `since`, oldest first.
pub async fn submitted_since(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::user_id.eq(user))
        .filter(k::submitted_at.gt(since))
        .order(k::submitted_at)
        .select(k::submitted_at)
        .load(conn)
        .await
}

/// Submissions still waiting for the vendor, oldest first.
pub async fn awaiting_vendor(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Uuid>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::status.eq(KycStatus::Pending))
        .filter(k::verification_stage.eq(VerificationStage::AwaitingVendor))
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
            k::status.eq(submission.status),
            k::verification_stage.eq(submission.verification_stage),
            k::face_match_score.eq(submission.face_match_score),
            k::decision_source.eq(submission.decision_source),
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

/// The manual review queue, oldest submission first, after `after` (submitted at, id).
pub async fn review_queue(
    conn: &mut AsyncPgConnection,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<Submission>> {
    use user_kyc::dsl as k;
    let mut query = user_kyc::table
        .filter(k::status.eq(KycStatus::Pending))
        .filter(k::verification_stage.eq(VerificationStage::ManualReview))
        .into_boxed();
    if let Some(Cursor { at, id }) = after {
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
        .filter(k::status.eq(KycStatus::Verified))
        .filter(k::expires_at.le(now))
        .order((k::expires_at, k::id))
        .limit(limit)
        .select(Submission::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// Every submission of `user`, oldest first (the owner's data export).
pub async fn all_for_user(
    conn: &mut AsyncPgConnection,
    user: Uuid,
) -> QueryResult<Vec<Submission>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::user_id.eq(user))
        .order((k::submitted_at, k::id))
        .select(Submission::as_select())
        .load(conn)
        .await
}
