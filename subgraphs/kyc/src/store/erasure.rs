//! Erasing one person's KYC PII when their account is deleted (docs/conventions.md
//! § Data-subject requests): the rows stay, the personal data in them goes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{kyc_uploads, user_kyc};
use super::submissions::Submission;
use crate::domain::UploadStatus;

/// What a deleted person's document-number mask becomes: no digit of the number survives.
pub const ERASED_MASK: &str = "****************";

/// The person's submissions whose PII is still there, locked.
pub async fn lock_unerased(
    conn: &mut AsyncPgConnection,
    user: Uuid,
) -> QueryResult<Vec<Submission>> {
    use user_kyc::dsl as k;
    user_kyc::table
        .filter(k::user_id.eq(user))
        .filter(k::erased_at.is_null())
        .order(k::submitted_at)
        .select(Submission::as_select())
        .for_update()
        .load(conn)
        .await
}

/// Every stored image object of the person: their submissions' and their uploads' (an upload
/// never submitted holds an image too).
pub async fn object_paths(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<Vec<String>> {
    use kyc_uploads::dsl as u;
    use user_kyc::dsl as k;
    let mut paths: Vec<String> = kyc_uploads::table
        .filter(u::user_id.eq(user))
        .filter(u::object_path.is_not_null())
        .select(u::object_path.assume_not_null())
        .load(conn)
        .await?;
    let submitted: Vec<(String, String)> = user_kyc::table
        .filter(k::user_id.eq(user))
        .select((k::document_image_path, k::selfie_image_path))
        .load(conn)
        .await?;
    for (document, selfie) in submitted {
        paths.extend([document, selfie]);
    }
    paths.retain(|p| !p.is_empty());
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// Blank the PII of the person's submissions; the outcome (status, dates, reasons) and the
/// blind index stay. Returns how many submissions were erased.
pub async fn erase_submissions(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use user_kyc::dsl as k;
    diesel::update(
        user_kyc::table
            .filter(k::user_id.eq(user))
            .filter(k::erased_at.is_null()),
    )
    .set((
        k::document_number_ciphertext.eq(Vec::<u8>::new()),
        k::document_number_masked.eq(ERASED_MASK),
        k::erased_at.eq(now),
        k::updated_at.eq(now),
    ))
    .execute(conn)
    .await
}

/// Uploads never attached to a submission go altogether (their objects are deleted first).
pub async fn delete_unused_uploads(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<usize> {
    use kyc_uploads::dsl as u;
    diesel::delete(
        kyc_uploads::table
            .filter(u::user_id.eq(user))
            .filter(u::status.ne(UploadStatus::Used)),
    )
    .execute(conn)
    .await
}
