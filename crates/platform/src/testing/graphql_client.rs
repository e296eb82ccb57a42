//! The one GraphQL-over-HTTP client of the tests: every subgraph's tests (and the harness) talk
//! to a running service through this, as the router and the app do.

use std::time::Duration;

use serde_json::{Value, json};

/// Posts GraphQL requests to one service's `/graphql`.
#[derive(Clone)]
pub struct GraphqlClient {
    http: reqwest::Client,
    url: String,
}

impl GraphqlClient {
    /// A client for `base_url` (`http://127.0.0.1:4002`); `/graphql` is appended.
    pub fn new(base_url: &str) -> Self {
        let http = reqwest::Client::builder()
            // A test that hangs says nothing; a timeout says where.
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Self {
            http,
            url: format!("{}/graphql", base_url.trim_end_matches('/')),
        }
    }

    /// The endpoint this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The response body of `query` with `variables`, as `token`'s holder (anonymous if none).
    pub async fn query(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post(
            token,
            json!({ "query": query, "variables": variables }),
            &[],
        )
        .await
        .1
    }

    /// Like [`Self::query`] with an `operationName`.
    pub async fn named(
        &self,
        token: Option<&str>,
        query: &str,
        operation: &str,
        variables: Value,
    ) -> Value {
        let body = json!({ "query": query, "variables": variables, "operationName": operation });
        self.post(token, body, &[]).await.1
    }

    /// Post any `body` with extra `headers`; the status and the body as JSON (`null` when the
    /// body is not JSON).
    pub async fn post(
        &self,
        token: Option<&str>,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self.http.post(&self.url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {}: {e}", self.url));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("a response body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

/// `errors[0].extensions.code` of a response; panics (showing the response) when there is none.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response}"))
}

/// The `code`s of a payload's `userErrors`; panics (showing the payload) when it has none.
pub fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors in {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}
