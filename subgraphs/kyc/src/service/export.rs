//! The owner's copy of what KYC holds about them (right of access, UU PDP Pasal 32;
//! docs/conventions.md § Data-subject requests): every submission with its outcome, the image
//! records behind it, and the PII access log — the history of who processed their data.
//! Nothing here decrypts: the document number and image links go through `pii`, which logs.

use std::collections::HashMap;

use tenor_platform::refusal::ServiceError;
use uuid::Uuid;

use super::KycService;
use crate::store::{self, PiiAccess, Submission, Upload};

/// At most this many access-log rows in one export (newest first); a person read more often
/// than this pages through `me { kycAccessLog }`.
pub const EXPORT_ACCESS_LOG_LIMIT: i64 = 1000;

/// What KYC holds about one person.
#[derive(Debug, Default)]
pub struct KycExport {
    pub submissions: Vec<Submission>,
    /// The uploads behind the submissions, by upload id (image metadata).
    pub uploads: HashMap<Uuid, Upload>,
    pub access_log: Vec<PiiAccess>,
}

impl KycService {
    /// `user`'s KYC data. A deleted account's (any submission erased) is empty: its PII is
    /// gone and the account no longer exists for the API.
    #[tracing::instrument(skip(self))]
    pub async fn export_of(&self, user: Uuid) -> Result<KycExport, ServiceError> {
        let mut conn = self.conn().await?;
        let submissions = store::submissions::all_for_user(&mut conn, user).await?;
        if submissions.iter().any(|s| s.erased_at.is_some()) {
            return Ok(KycExport::default());
        }
        let mut uploads = HashMap::new();
        for id in submissions
            .iter()
            .flat_map(|s| [s.document_upload_id, s.selfie_upload_id])
        {
            if let Some(upload) = store::find_upload(&mut conn, id).await? {
                uploads.insert(id, upload);
            }
        }
        let access_log = store::access_log(&mut conn, user, None, EXPORT_ACCESS_LOG_LIMIT).await?;
        Ok(KycExport {
            submissions,
            uploads,
            access_log,
        })
    }
}
