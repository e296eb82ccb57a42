//! A deleted account's KYC PII is erased (UU PDP right to erasure; docs/conventions.md
//! § Data-subject requests). Run by the `user.status.changed` consumer inside its inbox
//! transaction, so the effect happens once however often the event is delivered.
//!
//! Kept: each submission's row with its outcome (status, decision source, dates, reason codes),
//! the staff reviews, the PII access log (the record of who processed the data) and the keyed
//! blind index of the number with its claim — a pseudonym that cannot be reversed without the
//! key, kept so the number cannot back a second account (fraud prevention) and so a dispute
//! over a retained loan can still be matched to an identity document the person shows again.
//! Erased: the number's ciphertext and its mask, and every image object (document and selfie,
//! submitted or not) in the object store.

use anyhow::Context as _;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::now;
use crate::storage::ObjectVault;
use crate::store::erasure;

/// What one erasure did (for the log line; nothing personal in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub submissions: usize,
    pub objects: usize,
}

/// Erase `user`'s KYC PII using `conn`, which is inside the caller's transaction. The objects
/// are deleted before the rows are changed: if the transaction then fails, a retry deletes
/// them again (deleting a missing object succeeds) and erases the rows; the other order could
/// commit an erasure whose images survived a failed delete.
pub async fn erase_person(
    conn: &mut AsyncPgConnection,
    objects: &ObjectVault,
    user: Uuid,
) -> anyhow::Result<Erased> {
    // Locks the rows first: a concurrent erasure of the same person waits here.
    erasure::lock_unerased(conn, user)
        .await
        .context("locking the submissions")?;
    let paths = erasure::object_paths(conn, user)
        .await
        .context("listing the image objects")?;
    for path in &paths {
        objects.delete(path).await?;
    }
    let submissions = erasure::erase_submissions(conn, user, now())
        .await
        .context("erasing the submissions")?;
    erasure::delete_unused_uploads(conn, user)
        .await
        .context("deleting unused uploads")?;
    Ok(Erased {
        submissions,
        objects: paths.len(),
    })
}
