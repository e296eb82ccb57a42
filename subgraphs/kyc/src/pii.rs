//! Reads of KYC PII: every one writes a `pii_access_log` row (who, whose, which field, which
//! operation, when) before the data is handed out. Images leave the service only through
//! short-lived signed download URLs, decrypted on the fly.

use tenor_platform::graphql::ClientInfo;
use uuid::Uuid;

use crate::service::{KycService, ServiceError, chrono_duration, now};
use crate::store::{self, PiiAccess, Submission};

/// The PII a caller can read, as named in the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiField {
    DocumentNumber,
    DocumentImageUrl,
    SelfieImageUrl,
    DocumentImageDownload,
    SelfieImageDownload,
}

impl PiiField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentNumber => "documentNumber",
            Self::DocumentImageUrl => "documentImageUrl",
            Self::SelfieImageUrl => "selfieImageUrl",
            Self::DocumentImageDownload => "documentImage.download",
            Self::SelfieImageDownload => "selfieImage.download",
        }
    }
}

/// Which image of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Document,
    Selfie,
}

impl Image {
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Selfie => "selfie",
        }
    }

    pub fn from_segment(s: &str) -> Option<Self> {
        match s {
            "document" => Some(Self::Document),
            "selfie" => Some(Self::Selfie),
            _ => None,
        }
    }

    fn url_field(self) -> PiiField {
        match self {
            Self::Document => PiiField::DocumentImageUrl,
            Self::Selfie => PiiField::SelfieImageUrl,
        }
    }

    fn download_field(self) -> PiiField {
        match self {
            Self::Document => PiiField::DocumentImageDownload,
            Self::Selfie => PiiField::SelfieImageDownload,
        }
    }

    fn object_path(self, submission: &Submission) -> &str {
        match self {
            Self::Document => &submission.document_image_path,
            Self::Selfie => &submission.selfie_image_path,
        }
    }
}

/// Who is reading, and in which request.
#[derive(Debug, Clone)]
pub struct Reader {
    pub actor: Uuid,
    pub operation_name: Option<String>,
    pub client: ClientInfo,
}

fn download_message(kyc_id: Uuid, image: Image, actor: Uuid, expires: i64) -> String {
    format!(
        "GET\n/kyc/files/{kyc_id}/{}\n{actor}\n{expires}",
        image.path_segment()
    )
}

/// Why a download was refused (all 403 except a vanished submission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadRefusal {
    InvalidSignature,
    Expired,
    NotFound,
}

impl DownloadRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidSignature => "DOWNLOAD_URL_INVALID",
            Self::Expired => "DOWNLOAD_URL_EXPIRED",
            Self::NotFound => "NOT_FOUND",
        }
    }
}

impl KycService {
    /// Record one PII read. Called before the value is returned: no log row, no data.
    pub async fn log_access(
        &self,
        reader: &Reader,
        submission: &Submission,
        field: PiiField,
    ) -> Result<(), ServiceError> {
        let mut conn = self.conn().await?;
        store::insert_access(
            &mut conn,
            &PiiAccess {
                id: Uuid::now_v7(),
                actor_id: reader.actor,
                subject_user_id: submission.user_id,
                kyc_id: submission.id,
                field: field.as_str().to_owned(),
                operation_name: reader.operation_name.clone(),
                client_ip: reader.client.ip.clone(),
                request_id: reader.client.request_id.clone(),
                accessed_at: now(),
            },
        )
        .await?;
        Ok(())
    }

    /// The full document number, logged.
    pub async fn read_document_number(
        &self,
        reader: &Reader,
        submission: &Submission,
    ) -> Result<String, ServiceError> {
        self.log_access(reader, submission, PiiField::DocumentNumber)
            .await?;
        self.document_number(submission).await
    }

    /// A signed download URL for one image, bound to the reader, logged.
    pub async fn image_url(
        &self,
        reader: &Reader,
        submission: &Submission,
        image: Image,
    ) -> Result<String, ServiceError> {
        self.log_access(reader, submission, image.url_field())
            .await?;
        let expires = (now() + chrono_duration(self.settings.download_url_ttl)).timestamp();
        let signature = self.signer.sign(&download_message(
            submission.id,
            image,
            reader.actor,
            expires,
        ));
        Ok(format!(
            "{}/kyc/files/{}/{}?actor={}&expires={expires}&signature={signature}",
            self.settings.public_url,
            submission.id,
            image.path_segment(),
            reader.actor
        ))
    }

    /// Serve a signed download: check the link, log the read, decrypt. Returns the content type
    /// and the bytes.
    pub async fn download(
        &self,
        kyc_id: Uuid,
        image: Image,
        actor: Option<Uuid>,
        expires: Option<i64>,
        signature: Option<&str>,
        client: ClientInfo,
    ) -> Result<Result<(&'static str, Vec<u8>), DownloadRefusal>, ServiceError> {
        let (Some(actor), Some(expires), Some(signature)) = (actor, expires, signature) else {
            return Ok(Err(DownloadRefusal::InvalidSignature));
        };
        if !self
            .signer
            .verify(&download_message(kyc_id, image, actor, expires), signature)
        {
            return Ok(Err(DownloadRefusal::InvalidSignature));
        }
        if expires <= chrono::Utc::now().timestamp() {
            return Ok(Err(DownloadRefusal::Expired));
        }
        let Some(submission) = store::find_submission(&mut *self.conn().await?, kyc_id).await?
        else {
            return Ok(Err(DownloadRefusal::NotFound));
        };
        let reader = Reader {
            actor,
            operation_name: Some("download".to_owned()),
            client,
        };
        self.log_access(&reader, &submission, image.download_field())
            .await?;
        let bytes = self.objects.get(image.object_path(&submission)).await?;
        let content_type = crate::intake::sniff_image(&bytes).unwrap_or("application/octet-stream");
        Ok(Ok((content_type, bytes)))
    }
}
