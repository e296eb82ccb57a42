//! What a signed link answers when the request is not the one it was made for: a query or path
//! that does not parse, a method the link never takes, a path that is no link at all. Each is
//! refused with the JSON every other refusal uses (`{"error": {"code", "message"}}`), never an
//! empty body or the HTTP framework's own text, and none of them uses up or reads anything.
//!
//! Requests go over a raw socket so the bytes on the wire are exactly the ones written here:
//! an HTTP client would normalise `%2e%2e` and other oddities a hostile client sends as they are.

use serde_json::Value;
use tenor_kyc::testing::*;
use uuid::Uuid;

/// One HTTP answer, read whole.
struct Answer {
    status: u16,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The refusal's status and code, once it is checked to be the documented JSON, not to be
    /// cached; `request` names the request in a failure.
    fn refusal(&self, request: &str) -> (u16, String) {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{request}: {self}"
        );
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "{request}: {self}"
        );
        let body = self.json();
        assert!(body["error"]["message"].is_string(), "{request}: {self}");
        let code = body["error"]["code"].as_str().unwrap_or_default();
        (self.status, code.to_owned())
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} {}", self.status, self.headers, self.body)
    }
}

/// `method target` sent as written (target: path and query), with `body`; the answer.
async fn raw(service: &TestService, method: &str, target: &str, body: &[u8]) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = service.base_url.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status: status.parse().unwrap(),
        headers,
        body: body.to_owned(),
    }
}

/// The path and query of a link handed out on `service.base_url`.
fn target_of<'a>(service: &TestService, url: &'a str) -> &'a str {
    url.strip_prefix(&service.base_url).unwrap()
}

/// A link's `name=value` query parameter.
fn param<'a>(target: &'a str, name: &str) -> &'a str {
    let query = target.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap()
}

/// `target` without its `name` parameter.
fn without(target: &str, name: &str) -> String {
    let (path, query) = target.split_once('?').unwrap();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with(&format!("{name}=")))
        .collect();
    format!("{path}?{}", kept.join("&"))
}

/// `target` with its `name` parameter's value replaced by `value` (written as is).
fn with_param(target: &str, name: &str, value: &str) -> String {
    format!("{}&{name}={value}", without(target, name))
}

/// `target` with the path segment `segment` replaced by `by` (written as is).
fn with_segment(target: &str, segment: &str, by: &str) -> String {
    target.replacen(segment, by, 1)
}

async fn uploads_not_requested(service: &TestService) -> i64 {
    service
        .count("SELECT count(*) AS n FROM kyc_uploads WHERE status <> 'REQUESTED'")
        .await
}

#[tokio::test]
async fn a_malformed_upload_link_is_refused_like_a_tampered_one_and_stays_usable() {
    let service = TestService::start().await;
    let token = service.customer_token(Uuid::new_v4());
    let (upload_id, url) = service.request_upload(&token, "DOCUMENT_FRONT").await;
    let target = target_of(&service, &url);
    let expires = param(target, "expires");
    let signature = param(target, "signature");

    let malformed = [
        // The tester's report: a second `expires` after the signed one.
        format!("{target}&expires=99999999999"),
        format!("{target}&expires={expires}"),
        format!("{target}&signature={signature}"),
        without(target, "expires"),
        without(target, "signature"),
        target.split('?').next().unwrap().to_owned(),
        with_param(target, "expires", "soon"),
        with_param(target, "expires", ""),
        with_param(target, "expires", "1e12"),
        with_param(target, "expires", "99999999999999999999999"),
        with_param(target, "expires", "%ZZ"),
        with_param(target, "expires", "%31%"),
        with_param(target, "signature", "%FF%FE%00"),
        with_segment(target, &upload_id, "not-an-id"),
        with_segment(target, &upload_id, "%FF%FE"),
        with_segment(target, &upload_id, "%2e%2e"),
        with_segment(target, &upload_id, &format!("{upload_id}%00")),
    ];
    for bad in &malformed {
        let answer = raw(&service, "PUT", bad, &png(b"x")).await;
        assert_eq!(
            answer.refusal(bad),
            (403, "UPLOAD_URL_INVALID".to_owned()),
            "{bad}: {answer}"
        );
    }
    assert_eq!(uploads_not_requested(&service).await, 0);

    // Parameters the signature does not cover are ignored, as the signature ignores them:
    // they cannot change what the link does. The genuine link works, once.
    let with_extras = format!("{url}&utm_source=app&actor={}", Uuid::new_v4());
    let (status, body) = service.put(&with_extras, png(b"ok")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = service.put(&url, png(b"again")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("UPLOAD_ALREADY_USED"))
    );
}

#[tokio::test]
async fn a_malformed_download_link_is_refused_like_a_tampered_one_and_reads_nothing() {
    let service = TestService::start().await;
    let customer = Uuid::new_v4();
    let kyc_id = service
        .submit_scoring(&service.customer_token(customer), NIK, Band::Borderline)
        .await;
    let reviewer = service.token(Uuid::new_v4(), "kyc:review");
    let response = service
        .user_kyc(&reviewer, customer, "documentImageUrl")
        .await;
    let url = response["data"]["_entities"][0]["kyc"]["documentImageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = target_of(&service, &url);
    let actor = param(target, "actor");
    let downloads = || {
        service.count("SELECT count(*) AS n FROM pii_access_log WHERE operation_name = 'download'")
    };

    let malformed = [
        format!("{target}&expires=99999999999"),
        format!("{target}&actor={actor}"),
        format!("{target}&actor={}", Uuid::new_v4()),
        without(target, "actor"),
        without(target, "expires"),
        with_param(target, "actor", "someone"),
        with_param(target, "actor", "%ZZ"),
        with_param(target, "expires", "soon"),
        with_param(target, "expires", "%FF"),
        with_param(target, "signature", "%FF%FE%00"),
        with_segment(target, &kyc_id, "not-an-id"),
        with_segment(target, &kyc_id, "%FF%FE"),
        with_segment(target, "/document?", "/passport?"),
        with_segment(target, "/document?", "/%2e%2e?"),
    ];
    for bad in &malformed {
        let answer = raw(&service, "GET", bad, b"").await;
        assert_eq!(
            answer.refusal(bad),
            (403, "DOWNLOAD_URL_INVALID".to_owned()),
            "{bad}: {answer}"
        );
    }
    assert_eq!(downloads().await, 0, "refused downloads read nothing");

    // A HEAD on the good link would run the download for a body nobody gets.
    let answer = raw(&service, "HEAD", target, b"").await;
    assert_eq!(
        (answer.status, answer.header("allow")),
        (405, Some("GET")),
        "{answer}"
    );
    assert_eq!(
        downloads().await,
        0,
        "a HEAD reads nothing and logs nothing"
    );

    let answer = raw(&service, "GET", target, b"").await;
    assert_eq!(answer.status, 200, "{}", answer.status);
    assert_eq!(downloads().await, 1);
}

#[tokio::test]
async fn a_method_a_link_never_takes_gets_a_json_405_naming_the_ones_it_does() {
    let service = TestService::start().await;
    let token = service.customer_token(Uuid::new_v4());
    let (_, url) = service.request_upload(&token, "SELFIE").await;
    let upload = target_of(&service, &url).to_owned();
    // The method is refused before the link is looked at: no real download link needed.
    let download = format!(
        "/kyc/files/{}/document?expires=1&signature=x",
        Uuid::new_v4()
    );

    let wrong = [
        (&upload, "GET", "PUT"),
        (&upload, "POST", "PUT"),
        (&upload, "DELETE", "PUT"),
        (&upload, "PATCH", "PUT"),
        (&upload, "OPTIONS", "PUT"),
        (&download, "PUT", "GET"),
        (&download, "POST", "GET"),
        (&download, "DELETE", "GET"),
    ];
    for (target, method, allowed) in wrong {
        let answer = raw(&service, method, target, b"{}").await;
        assert_eq!(
            answer.refusal(&format!("{method} {target}")),
            (405, "METHOD_NOT_ALLOWED".to_owned()),
            "{method} {target}: {answer}"
        );
        assert_eq!(answer.header("allow"), Some(allowed), "{method} {target}");
    }
    // HEAD: the same status and Allow, and by HTTP's rules no body.
    let answer = raw(&service, "HEAD", &upload, b"").await;
    assert_eq!(
        (answer.status, answer.header("allow")),
        (405, Some("PUT")),
        "{answer}"
    );
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert!(answer.body.is_empty(), "{answer}");

    assert_eq!(uploads_not_requested(&service).await, 0);
    assert_eq!(service.put(&url, jpeg(b"still usable")).await.0, 200);
}

#[tokio::test]
async fn a_path_under_kyc_that_is_no_link_gets_a_json_404() {
    let service = TestService::start().await;
    let token = service.customer_token(Uuid::new_v4());
    let (upload_id, url) = service.request_upload(&token, "SELFIE").await;
    let query = url.split_once('?').unwrap().1;

    let nowhere = [
        "/kyc".to_owned(),
        "/kyc/".to_owned(),
        "/kyc/nothing".to_owned(),
        format!("/kyc/%2e%2e/uploads/{upload_id}?{query}"),
        format!("/kyc/uploads/%2e%2e/{upload_id}?{query}"),
        format!("/kyc/uploads?{query}"),
        format!("/kyc/uploads/{upload_id}/?{query}"),
        format!("/kyc/uploads/{upload_id}/extra?{query}"),
        format!("/kyc/files/{}", Uuid::new_v4()),
        "/kyc/%2e%2e/graphql".to_owned(),
    ];
    for path in &nowhere {
        for method in ["GET", "PUT"] {
            let answer = raw(&service, method, path, b"").await;
            assert_eq!(
                answer.refusal(&format!("{method} {path}")),
                (404, "NOT_FOUND".to_owned()),
                "{method} {path}: {answer}"
            );
        }
    }
    assert_eq!(uploads_not_requested(&service).await, 0);
    assert_eq!(service.put(&url, jpeg(b"still usable")).await.0, 200);
}
