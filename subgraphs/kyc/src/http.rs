//! The two plain-HTTP routes behind the signed URLs: `PUT /kyc/uploads/{id}` (raw image bytes
//! in) and `GET /kyc/files/{kycId}/{document|selfie}` (decrypted image out). Errors are JSON
//! `{"error": {"code", "message"}}` from the operation's refusal; nothing sensitive is echoed.
//!
//! Every answer under `/kyc/` is in that shape, whatever was wrong with the request: a link
//! axum cannot parse is refused like a tampered one ([`UploadLink`], [`DownloadLink`]), a method
//! the route does not take is a JSON 405 with `Allow`, and a path that is no link a JSON 404.
//! Axum's own rejections (plain text naming serde's view of the query, or an empty body) would
//! tell a prober how the link is parsed and give the app a second format to read.

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, put};
use bytes::BytesMut;
use futures::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tenor_platform::graphql::{ClientInfo, internal_error};
use tenor_platform::refusal::{Failure, Outcome, Refusal};
use uuid::Uuid;

use crate::domain::{DownloadRefusal, Image, UploadRefusal};
use crate::service::KycService;

pub fn router(service: KycService) -> Router {
    let links = Router::new()
        .route("/uploads/{upload_id}", put(upload))
        // Per route, so axum still fills in `Allow` from the methods the route has; must come
        // after the routes it applies to.
        .method_not_allowed_fallback(method_not_allowed)
        // GET only. Axum answers HEAD with GET's handler and drops the body, so a HEAD would
        // decrypt the image and write a PII access-log row for a body nobody received.
        .route(
            "/files/{kyc_id}/{image}",
            get(download).head(get_only).fallback(get_only),
        )
        // Nested, so the fallback covers what is under `/kyc/` and nothing else: other unknown
        // paths of the service keep the default answer.
        .fallback(not_found);
    Router::new()
        .nest("/kyc", links)
        // The nested fallback is a `/kyc/{*rest}` route, which needs a non-empty rest.
        .route("/kyc", any(not_found))
        .route("/kyc/", any(not_found))
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

/// A method the route does not take. Axum adds `Allow` (and drops the body of a HEAD).
async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "Tautan ini tidak menerima metode ini; lihat header Allow. / This link does not take this method; see the Allow header.",
    )
}

/// Any method but GET on a download link, HEAD included.
async fn get_only() -> Response {
    let mut response = method_not_allowed().await;
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

/// A path under `/kyc/` that is no link.
async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Tautan ini tidak ada. / There is no such link.",
    )
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

/// A link's path and query through axum's `Path` and `Query`, or `invalid()` if either does not
/// parse: a bad id, bad percent-encoding, a non-numeric `expires`, a parameter given twice (which
/// value would the signature vouch for?). Only this crate's answer leaves; axum's reason, which
/// may quote the request, goes to the debug log.
///
/// Parameters the query type does not name are ignored, as the signature ignores them: the
/// signed message names the method, the path and each parameter the handler reads, so nothing
/// else in the query can change what a link does.
async fn link_parts<P, Q, S>(
    parts: &mut Parts,
    state: &S,
    invalid: fn() -> Response,
) -> Result<(P, Q), Response>
where
    P: DeserializeOwned + Send,
    Q: DeserializeOwned,
    S: Send + Sync,
{
    let refused = |reason: String| {
        tracing::debug!(%reason, "malformed KYC link");
        invalid()
    };
    let Path(path) = Path::<P>::from_request_parts(parts, state)
        .await
        .map_err(|e| refused(e.body_text()))?;
    let Query(query) = Query::<Q>::try_from_uri(&parts.uri).map_err(|e| refused(e.body_text()))?;
    Ok((path, query))
}

/// The query of an upload link (see `upload_message` for what is signed). Optional so that a
/// missing one reaches the service's own check, which refuses it as invalid.
#[derive(Deserialize)]
struct UploadQuery {
    expires: Option<i64>,
    signature: Option<String>,
}

/// `PUT /kyc/uploads/{id}?expires&signature`, parsed; anything malformed is `UPLOAD_URL_INVALID`.
struct UploadLink {
    upload_id: Uuid,
    query: UploadQuery,
}

impl<S: Send + Sync> FromRequestParts<S> for UploadLink {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let invalid = || upload_refused(UploadRefusal::InvalidSignature);
        let (upload_id, query) = link_parts(parts, state, invalid).await?;
        Ok(Self { upload_id, query })
    }
}

/// The query of a download link (see `download_message`), optional as [`UploadQuery`]'s.
#[derive(Deserialize)]
struct DownloadQuery {
    actor: Option<Uuid>,
    expires: Option<i64>,
    signature: Option<String>,
}

/// `GET /kyc/files/{kycId}/{document|selfie}?actor&expires&signature`, parsed; anything
/// malformed, an unknown image name included, is `DOWNLOAD_URL_INVALID`, as an altered id is:
/// we signed neither, and one answer for both tells a prober nothing about which it sent.
struct DownloadLink {
    kyc_id: Uuid,
    image: Image,
    query: DownloadQuery,
}

impl<S: Send + Sync> FromRequestParts<S> for DownloadLink {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let invalid = || download_refused(DownloadRefusal::InvalidSignature);
        let ((kyc_id, image), query) =
            link_parts::<(Uuid, String), _, _>(parts, state, invalid).await?;
        let image = Image::from_segment(&image).ok_or_else(invalid)?;
        Ok(Self {
            kyc_id,
            image,
            query,
        })
    }
}

async fn upload(
    State(service): State<KycService>,
    UploadLink { upload_id, query }: UploadLink,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let checked = service
        .check_upload_url(upload_id, query.expires, query.signature.as_deref())
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
    DownloadLink {
        kyc_id,
        image,
        query,
    }: DownloadLink,
    headers: HeaderMap,
) -> Response {
    let outcome: Outcome<_, DownloadRefusal> = service
        .download(
            kyc_id,
            image,
            query.actor,
            query.expires,
            query.signature.as_deref(),
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
