//! Image intake without base64 in GraphQL: `requestKycUpload` hands out a short-lived signed
//! URL; the app PUTs the raw image there. The bytes are checked (size, JPEG/PNG magic bytes,
//! dimensions from the header), encrypted, stored, and the upload row marked STORED — each URL
//! works once. Uploads nobody submitted are purged by the expiry job.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use tenor_platform::refusal::{Outcome, ServiceError, refuse};
use uuid::Uuid;

use super::{KycService, chrono_duration, now};
use crate::domain::{UploadKind, UploadRefusal, UploadStatus, decode_fully, inspect_image};
use crate::store::{self, Upload};

/// What the app needs to upload one image.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub upload_id: Uuid,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub max_bytes: usize,
}

/// The signed part of an upload URL.
fn upload_message(upload_id: Uuid, expires: i64) -> String {
    format!("PUT\n/kyc/uploads/{upload_id}\n{expires}")
}

/// Where a received image is stored: opaque, per attempt (a losing concurrent PUT deletes its
/// own object without touching the winner's).
fn object_key(user_id: Uuid, upload_id: Uuid) -> String {
    format!("kyc/{user_id}/{upload_id}/{}", Uuid::new_v4().simple())
}

impl KycService {
    /// A fresh signed URL for one image of `kind`, owned by `user_id`.
    #[tracing::instrument(skip(self))]
    pub async fn request_upload(
        &self,
        user_id: Uuid,
        kind: UploadKind,
    ) -> Result<UploadTicket, ServiceError> {
        let upload_id = Uuid::now_v7();
        let expires_at = now() + chrono_duration(self.settings.upload_url_ttl);
        let mut conn = self.conn().await?;
        store::insert_upload(&mut conn, upload_id, user_id, kind, expires_at).await?;
        let expires = expires_at.timestamp();
        let signature = self.signer.sign(&upload_message(upload_id, expires));
        Ok(UploadTicket {
            upload_id,
            url: format!(
                "{}/kyc/uploads/{upload_id}?expires={expires}&signature={signature}",
                self.settings.public_url
            ),
            expires_at,
            max_bytes: self.settings.upload_max_bytes,
        })
    }

    /// Check a PUT's URL before its body is read: signature first (so a changed expiry is
    /// "invalid", not "expired"), then expiry, then the upload's state.
    #[tracing::instrument(skip(self, signature))]
    pub async fn check_upload_url(
        &self,
        upload_id: Uuid,
        expires: Option<i64>,
        signature: Option<&str>,
    ) -> Outcome<Upload, UploadRefusal> {
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return refuse(UploadRefusal::InvalidSignature);
        };
        if !self
            .signer
            .verify(&upload_message(upload_id, expires), signature)
        {
            return refuse(UploadRefusal::InvalidSignature);
        }
        if expires <= Utc::now().timestamp() {
            return refuse(UploadRefusal::Expired);
        }
        let mut conn = self.conn().await?;
        match store::find_upload(&mut conn, upload_id).await? {
            None => refuse(UploadRefusal::NotFound),
            Some(upload) if upload.status != UploadStatus::Requested => {
                refuse(UploadRefusal::AlreadyUsed)
            }
            Some(upload) => Ok(upload),
        }
    }

    /// Store the body of an accepted PUT: header check, whole-image decode (blocking pool),
    /// encrypt, write, mark STORED. Returns the content type recognised.
    #[tracing::instrument(skip_all, fields(upload_id = %upload.id, size = body.len()))]
    pub async fn receive_upload(
        &self,
        upload: &Upload,
        body: Bytes,
    ) -> Outcome<&'static str, UploadRefusal> {
        if body.is_empty() {
            return refuse(UploadRefusal::Empty);
        }
        if body.len() > self.settings.upload_max_bytes {
            return refuse(UploadRefusal::TooLarge);
        }
        let image = match inspect_image(&body) {
            Ok(image) => image,
            Err(problem) => return refuse(problem.into()),
        };
        let whole = body.clone();
        let decoded = tokio::task::spawn_blocking(move || decode_fully(&whole, &image))
            .await
            .map_err(anyhow::Error::from)?;
        if let Err(problem) = decoded {
            return refuse(problem.into());
        }
        let content_type = image.content_type;
        let size = i32::try_from(body.len()).map_err(anyhow::Error::from)?;
        let key = object_key(upload.user_id, upload.id);
        let key_id = self.objects.put(&key, body).await?;
        let mut conn = self.conn().await?;
        let stored = store::mark_upload_stored(
            &mut conn,
            upload.id,
            &key,
            content_type,
            size,
            &key_id,
            now(),
        )
        .await?;
        if stored {
            return Ok(content_type);
        }
        // Another PUT of the same URL won, or the URL expired while this one was in flight.
        if let Err(error) = self.objects.delete(&key).await {
            tracing::warn!(%error, upload_id = %upload.id, "removing a losing upload's object");
        }
        refuse(UploadRefusal::AlreadyUsed)
    }

    /// Delete uploads nobody submitted within the configured time: the encrypted object first,
    /// then the row (a crash in between leaves the row, and the next pass finishes the job).
    /// Returns how many were purged.
    #[tracing::instrument(skip(self))]
    pub async fn purge_abandoned_uploads(&self) -> Result<usize, ServiceError> {
        let before = now() - chrono_duration(self.settings.abandoned_upload_ttl);
        let objects = &self.objects;
        let mut conn = self.conn().await?;
        conn.transaction::<_, ServiceError, _>(async |conn| {
            let abandoned = store::lock_abandoned_uploads(conn, before, 100).await?;
            for upload in &abandoned {
                if let Some(path) = &upload.object_path {
                    objects.delete(path).await?;
                }
                store::delete_upload(conn, upload.id).await?;
            }
            Ok(abandoned.len())
        })
        .await
    }
}
