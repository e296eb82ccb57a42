//! The two plain-HTTP routes behind the signed URLs: `PUT /kyc/uploads/{id}` (raw image bytes
//! in) and `GET /kyc/files/{kycId}/{document|selfie}` (decrypted image out). Errors are JSON
//! `{"error": {"code", "message"}}` from the operation's refusal; nothing sensitive is echoed.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use bytes::BytesMut;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tenor_platform::graphql::{ClientInfo, internal_error};
use tenor_platform::refusal::{Failure, Outcome, Refusal};
use uuid::Uuid;

use crate::domain::{DownloadRefusal, Image, UploadRefusal};
use crate::service::KycService;

pub fn router(service: KycService) -> Router {
    Router::new()
        .route("/kyc/uploads/{upload_id}", put(upload))
        .route("/kyc/files/{kyc_id}/{image}", get(download))
        .with_state(service)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Each upload refusal has its own HTTP status: a client can tell a dead link from a bad file.
fn upload_status(refusal: UploadRefusal) -> u16 {
    match refusal {
        UploadRefusal::InvalidSignature | UploadRefusal::Expired => 403,
        UploadRefusal::AlreadyUsed => 409,
        UploadRefusal::NotFound => 404,
        UploadRefusal::TooLarge => 413,
        UploadRefusal::Empty => 400,
        UploadRefusal::NotAnImage => 415,
        UploadRefusal::Dimensions { .. } | UploadRefusal::Damaged => 422,
    }
}

fn upload_refused(refusal: UploadRefusal) -> Response {
    let status = StatusCode::from_u16(upload_status(refusal)).unwrap_or(StatusCode::BAD_REQUEST);
    error(status, refusal.code(), &refusal.message())
}

/// A download refusal: a vanished submission is 404, a bad or stale link 403.
fn download_refused(refusal: DownloadRefusal) -> Response {
    let status = match refusal {
        DownloadRefusal::NotFound => StatusCode::NOT_FOUND,
        DownloadRefusal::InvalidSignature | DownloadRefusal::Expired => StatusCode::FORBIDDEN,
    };
    error(status, refusal.code(), &refusal.message())
}

/// The one refusal of an operation that refuses for one reason at a time.
fn first<R: Copy>(refusals: &[R]) -> Option<R> {
    refusals.first().copied()
}

fn internal(e: impl std::fmt::Display) -> Response {
    // Logged in full by internal_error; the client gets no detail.
    let _ = internal_error(e);
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error, please try again",
    )
}

#[derive(Deserialize)]
struct Signed {
    expires: Option<i64>,
    signature: Option<String>,
    actor: Option<Uuid>,
}

async fn upload(
    State(service): State<KycService>,
    Path(upload_id): Path<String>,
    Query(signed): Query<Signed>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(upload_id) = upload_id.parse::<Uuid>() else {
        return upload_refused(UploadRefusal::InvalidSignature);
    };
    let checked = service
        .check_upload_url(upload_id, signed.expires, signed.signature.as_deref())
        .await;
    let upload = match checked {
        Ok(upload) => upload,
        Err(failure) => return upload_failed(failure),
    };
    let max = service.settings.upload_max_bytes;
    // Refuse a declared oversize body before reading any of it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return upload_refused(UploadRefusal::TooLarge);
    }
    // Read at most `max` bytes whatever the header said (chunked bodies have none).
    let mut stream = body.into_data_stream();
    let mut bytes = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return error(
                StatusCode::BAD_REQUEST,
                "UPLOAD_INTERRUPTED",
                "The upload was interrupted; please try again.",
            );
        };
        if bytes.len() + chunk.len() > max {
            return upload_refused(UploadRefusal::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    let size = bytes.len();
    match service.receive_upload(&upload, bytes.freeze()).await {
        Ok(content_type) => (
            StatusCode::OK,
            axum::Json(json!({
                "uploadId": upload_id,
                "contentType": content_type,
                "sizeBytes": size,
            })),
        )
            .into_response(),
        Err(failure) => upload_failed(failure),
    }
}

fn upload_failed(failure: Failure<UploadRefusal>) -> Response {
    match failure {
        Failure::Refused(refusals) => first(&refusals)
            .map(upload_refused)
            .unwrap_or_else(|| internal("an upload refused without a reason")),
        Failure::Error(e) => internal(e),
    }
}

fn client_info(headers: &HeaderMap) -> ClientInfo {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(512).collect::<String>())
    };
    ClientInfo {
        ip: header("x-forwarded-for")
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_owned())),
        user_agent: header("user-agent"),
        request_id: header("x-request-id"),
    }
}

async fn download(
    State(service): State<KycService>,
    Path((kyc_id, image)): Path<(String, String)>,
    Query(signed): Query<Signed>,
    headers: HeaderMap,
) -> Response {
    let (Ok(kyc_id), Some(image)) = (kyc_id.parse::<Uuid>(), Image::from_segment(&image)) else {
        return download_refused(DownloadRefusal::NotFound);
    };
    let outcome: Outcome<_, DownloadRefusal> = service
        .download(
            kyc_id,
            image,
            signed.actor,
            signed.expires,
            signed.signature.as_deref(),
            client_info(&headers),
        )
        .await;
    match outcome {
        Ok((content_type, bytes)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        Err(Failure::Refused(refusals)) => first(&refusals)
            .map(download_refused)
            .unwrap_or_else(|| internal("a download refused without a reason")),
        Err(Failure::Error(e)) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_have_distinct_codes_and_forbidden_for_bad_links() {
        assert_eq!(upload_status(UploadRefusal::InvalidSignature), 403);
        assert_eq!(upload_status(UploadRefusal::Expired), 403);
        assert_eq!(upload_status(UploadRefusal::TooLarge), 413);
        assert_ne!(
            UploadRefusal::InvalidSignature.code(),
            UploadRefusal::Expired.code()
        );
    }
}
