//! Image intake without base64 in GraphQL: `requestKycUpload` hands out a short-lived signed
//! URL; the app PUTs the raw image there. The bytes are checked (size, JPEG/PNG magic bytes),
//! encrypted, stored, and the upload row marked STORED — each URL works once.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::service::{KycService, ServiceError, chrono_duration, now};
use crate::store::{self, UploadKind};

/// What the app needs to upload one image.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub upload_id: Uuid,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub max_bytes: usize,
}

/// The two image formats accepted, recognised by their first bytes (never by a header the
/// client chose).
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if bytes.starts_with(JPEG) {
        Some("image/jpeg")
    } else if bytes.starts_with(PNG) {
        Some("image/png")
    } else {
        None
    }
}

/// Why a PUT was refused; each maps to an HTTP status and a JSON error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRefusal {
    /// Signature missing or not ours (tampered id or expiry).
    InvalidSignature,
    Expired,
    AlreadyUsed,
    NotFound,
    TooLarge,
    Empty,
    NotAnImage,
}

impl UploadRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidSignature => "UPLOAD_URL_INVALID",
            Self::Expired => "UPLOAD_URL_EXPIRED",
            Self::AlreadyUsed => "UPLOAD_ALREADY_USED",
            Self::NotFound => "UPLOAD_NOT_FOUND",
            Self::TooLarge => "UPLOAD_TOO_LARGE",
            Self::Empty => "UPLOAD_EMPTY",
            Self::NotAnImage => "UPLOAD_NOT_AN_IMAGE",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidSignature => "This upload link is not valid; request a new one.",
            Self::Expired => "This upload link has expired; request a new one.",
            Self::AlreadyUsed => "This upload link was already used; request a new one.",
            Self::NotFound => "No such upload; request a new link.",
            Self::TooLarge => "The image is too large.",
            Self::Empty => "The request carried no image.",
            Self::NotAnImage => "Only JPEG and PNG images are accepted.",
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidSignature | Self::Expired => 403,
            Self::AlreadyUsed => 409,
            Self::NotFound => 404,
            Self::TooLarge => 413,
            Self::Empty => 400,
            Self::NotAnImage => 415,
        }
    }
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
    pub async fn check_upload_url(
        &self,
        upload_id: Uuid,
        expires: Option<i64>,
        signature: Option<&str>,
    ) -> Result<Result<store::Upload, UploadRefusal>, ServiceError> {
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Ok(Err(UploadRefusal::InvalidSignature));
        };
        if !self
            .signer
            .verify(&upload_message(upload_id, expires), signature)
        {
            return Ok(Err(UploadRefusal::InvalidSignature));
        }
        if expires <= Utc::now().timestamp() {
            return Ok(Err(UploadRefusal::Expired));
        }
        let mut conn = self.conn().await?;
        Ok(match store::find_upload(&mut conn, upload_id).await? {
            None => Err(UploadRefusal::NotFound),
            Some(upload) if upload.status != "REQUESTED" => Err(UploadRefusal::AlreadyUsed),
            Some(upload) => Ok(upload),
        })
    }

    /// Store the body of an accepted PUT: type check, encrypt, write, mark STORED.
    pub async fn receive_upload(
        &self,
        upload: &store::Upload,
        body: Bytes,
    ) -> Result<Result<&'static str, UploadRefusal>, ServiceError> {
        if body.is_empty() {
            return Ok(Err(UploadRefusal::Empty));
        }
        if body.len() > self.settings.upload_max_bytes {
            return Ok(Err(UploadRefusal::TooLarge));
        }
        let Some(content_type) = sniff_image(&body) else {
            return Ok(Err(UploadRefusal::NotAnImage));
        };
        let size = i32::try_from(body.len()).map_err(|e| anyhow::anyhow!(e))?;
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
            return Ok(Ok(content_type));
        }
        // Another PUT of the same URL won, or the URL expired while this one was in flight.
        if let Err(error) = self.objects.delete(&key).await {
            tracing::warn!(%error, upload_id = %upload.id, "removing a losing upload's object");
        }
        Ok(Err(UploadRefusal::AlreadyUsed))
    }
}

impl KycService {
    /// Delete uploads nobody submitted within the configured time: the encrypted object first,
    /// then the row (a crash in between leaves the row, and the next pass finishes the job).
    /// Returns how many were purged.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_magic_bytes() {
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(sniff_image(b"GIF89a"), None);
        assert_eq!(sniff_image(b"%PDF-1.7"), None);
        assert_eq!(sniff_image(b"\x89PNG"), None);
        assert_eq!(sniff_image(&[]), None);
    }

    #[test]
    fn refusals_have_distinct_codes_and_forbidden_for_bad_links() {
        assert_eq!(UploadRefusal::InvalidSignature.http_status(), 403);
        assert_eq!(UploadRefusal::Expired.http_status(), 403);
        assert_eq!(UploadRefusal::TooLarge.http_status(), 413);
        assert_ne!(
            UploadRefusal::InvalidSignature.code(),
            UploadRefusal::Expired.code()
        );
    }
}
