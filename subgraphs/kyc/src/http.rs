//! The two plain-HTTP routes behind the signed URLs: `PUT /kyc/uploads/{id}` (raw image bytes
//! in) and `GET /kyc/files/{kycId}/{document|selfie}` (decrypted image out). Errors are JSON
//! `{"error": {"code", "message"}}`; nothing sensitive is echoed.

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
use uuid::Uuid;

use crate::intake::UploadRefusal;
use crate::pii::{DownloadRefusal, Image};
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

fn refused(refusal: UploadRefusal) -> Response {
    let status = StatusCode::from_u16(refusal.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    error(status, refusal.code(), refusal.message())
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
        return refused(UploadRefusal::InvalidSignature);
    };
    let upload = match service
        .check_upload_url(upload_id, signed.expires, signed.signature.as_deref())
        .await
    {
        Ok(Ok(upload)) => upload,
        Ok(Err(refusal)) => return refused(refusal),
        Err(e) => return internal(e),
    };
    let max = service.settings.upload_max_bytes;
    // Refuse a declared oversize body before reading any of it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return refused(UploadRefusal::TooLarge);
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
            return refused(UploadRefusal::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    let size = bytes.len();
    match service.receive_upload(&upload, bytes.freeze()).await {
        Ok(Ok(content_type)) => (
            StatusCode::OK,
            axum::Json(json!({
                "uploadId": upload_id,
                "contentType": content_type,
                "sizeBytes": size,
            })),
        )
            .into_response(),
        Ok(Err(refusal)) => refused(refusal),
        Err(e) => internal(e),
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
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "No such file.");
    };
    let outcome = service
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
        Ok(Ok((content_type, bytes))) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(DownloadRefusal::NotFound)) => {
            error(StatusCode::NOT_FOUND, "NOT_FOUND", "No such file.")
        }
        Ok(Err(refusal @ DownloadRefusal::Expired)) => error(
            StatusCode::FORBIDDEN,
            refusal.code(),
            "This link has expired; request a new one.",
        ),
        Ok(Err(refusal)) => error(
            StatusCode::FORBIDDEN,
            refusal.code(),
            "This link is not valid.",
        ),
        Err(e) => internal(e),
    }
}
