//! `refusal`: the response a plugin answers with when it refuses a request before the engine
//! has it (so before the engine could build the error itself): a GraphQL-over-HTTP error body
//! with one error, its `extensions.code` and whatever else the client reads from the extensions
//! (`retryAfterMs`), under the status and content type the plugin chooses.

use hive_router::http::StatusCode;
use hive_router::ntex::http::Response;
use serde_json::{Map, Value};

/// `{"errors":[{"message":…,"extensions":{"code":…,…}}]}` with `status`, as
/// `application/json` unless [`Refusal::content_type`] says otherwise.
pub(super) struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    extensions: Vec<(&'static str, Value)>,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extensions: Vec::new(),
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    /// One more entry in `extensions`, after `code`.
    pub(super) fn extension(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.extensions.push((name, value.into()));
        self
    }

    pub(super) fn content_type(mut self, content_type: &'static str) -> Self {
        self.content_type = content_type;
        self
    }

    /// One more response header, after `content-type`.
    pub(super) fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub(super) fn response(self) -> Response {
        let mut extensions = Map::new();
        extensions.insert("code".to_owned(), self.code.into());
        for (name, value) in self.extensions {
            extensions.insert(name.to_owned(), value);
        }
        let body = serde_json::json!({
            "errors": [{ "message": self.message, "extensions": extensions }]
        });
        let mut builder = Response::build(self.status);
        builder.header("content-type", self.content_type);
        for (name, value) in self.headers {
            builder.header(name, value);
        }
        builder.body(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    use hive_router::ntex::http::body::Body;
    use serde_json::json;

    use super::*;

    fn body(response: &Response) -> String {
        match response.body().as_ref() {
            Some(Body::Bytes(bytes)) => String::from_utf8(bytes.to_vec()).unwrap(),
            _ => panic!("no body in memory"),
        }
    }

    fn header<'a>(response: &'a Response, name: &str) -> &'a str {
        response.headers().get(name).unwrap().to_str().unwrap()
    }

    /// The bytes the plugins sent when each built its body by hand.
    #[test]
    fn the_body_is_the_one_error_the_plugins_built_by_hand() {
        let response = Refusal::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "slow down")
            .extension("retryAfterMs", 1500_u64)
            .header("retry-after", "2".to_owned())
            .response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "content-type"), "application/json");
        assert_eq!(header(&response, "retry-after"), "2");
        let by_hand = json!({
            "errors": [{
                "message": "slow down",
                "extensions": { "code": "RATE_LIMITED", "retryAfterMs": 1500_u64 },
            }]
        });
        assert_eq!(body(&response), by_hand.to_string());

        let response = Refusal::new(StatusCode::BAD_REQUEST, "GRAPHQL_PARSE_FAILED", "bad")
            .content_type("application/graphql-response+json")
            .response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            header(&response, "content-type"),
            "application/graphql-response+json"
        );
        let by_hand = json!({
            "errors": [{ "message": "bad", "extensions": { "code": "GRAPHQL_PARSE_FAILED" } }]
        });
        assert_eq!(body(&response), by_hand.to_string());
    }
}
