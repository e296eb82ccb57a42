//! Reads of KYC PII: every one writes a `pii_access_log` row (who, whose, which field, which
//! operation, when) before the data is handed out. Images leave the service only through
//! short-lived signed download URLs, decrypted on the fly.

use tenor_platform::graphql::ClientInfo;
use tenor_platform::refusal::{Outcome, ServiceError, refuse};
use uuid::Uuid;

use super::{KycService, chrono_duration, now};
use crate::domain::{DownloadRefusal, Image, PiiField, sniff_image};
use crate::store::{self, PiiAccess, Submission};

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

/// Where the image's ciphertext is stored.
fn object_path(image: Image, submission: &Submission) -> &str {
    match image {
        Image::Document => &submission.document_image_path,
        Image::Selfie => &submission.selfie_image_path,
    }
}

impl KycService {
    /// Record one PII read. Called before the value is returned: no log row, no data.
    #[tracing::instrument(skip_all, fields(actor = %reader.actor, kyc_id = %submission.id, %field))]
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
                field,
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
    #[tracing::instrument(skip_all, fields(actor = %reader.actor, kyc_id = %submission.id))]
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
    #[tracing::instrument(skip_all, fields(actor = %reader.actor, kyc_id = %submission.id, ?image))]
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
    #[tracing::instrument(skip(self, signature, client))]
    pub async fn download(
        &self,
        kyc_id: Uuid,
        image: Image,
        actor: Option<Uuid>,
        expires: Option<i64>,
        signature: Option<&str>,
        client: ClientInfo,
    ) -> Outcome<(&'static str, Vec<u8>), DownloadRefusal> {
        let (Some(actor), Some(expires), Some(signature)) = (actor, expires, signature) else {
            return refuse(DownloadRefusal::InvalidSignature);
        };
        if !self
            .signer
            .verify(&download_message(kyc_id, image, actor, expires), signature)
        {
            return refuse(DownloadRefusal::InvalidSignature);
        }
        if expires <= chrono::Utc::now().timestamp() {
            return refuse(DownloadRefusal::Expired);
        }
        let Some(submission) = store::find_submission(&mut *self.conn().await?, kyc_id).await?
        else {
            return refuse(DownloadRefusal::NotFound);
        };
        // The images of a deleted account are gone from the store; a link handed out before
        // the erasure answers like one for an unknown submission.
        if submission.erased_at.is_some() {
            return refuse(DownloadRefusal::NotFound);
        }
        let reader = Reader {
            actor,
            operation_name: Some("download".to_owned()),
            client,
        };
        self.log_access(&reader, &submission, image.download_field())
            .await?;
        let bytes = self.objects.get(object_path(image, &submission)).await?;
        let content_type = sniff_image(&bytes).unwrap_or("application/octet-stream");
        Ok((content_type, bytes))
    }
}
