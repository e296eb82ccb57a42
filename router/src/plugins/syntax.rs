//! Parsing a document before the engine does, for [`super::operation_checks`].
//!
//! graphql-tools 0.5.12 transmutes a parse error's borrowed tokens to `'static`
//! (`parser/query/error.rs`), and hive-router displays the error after the request's query string
//! is freed: a use-after-free (found by the fuzz in `router/tests/it/hostile/fuzz.rs`). So syntax
//! errors never reach the engine: [`parse`] formats them while the text is alive, and
//! [`parse_failed_response`] answers with the engine's code, status and content type.

use hive_router::graphql_tools::static_graphql::query::Document;
use hive_router::http::StatusCode;

use super::refusal::Refusal;

/// The router's `limits.max_tokens`; a longer document is left to the engine, which refuses it
/// without displaying tokens.
pub(super) const MAX_TOKENS: usize = 4000;

/// Hashes of documents that parsed, so a busy router parses each distinct document once here
/// (the engine caches its own parse). Bounded: cleared when full.
///
/// A document found here skips [`parse`] and goes straight to the engine's parser, so a bad
/// document whose hash matched a good one would reach the use-after-free above. The hash is
/// therefore keyed with this process's own random key (SipHash, `RandomState`): with a fixed
/// key, anyone could search offline for a syntax error that collides with a valid query (a
/// 64-bit birthday search, about 2³² hashes) and send both.
#[derive(Default)]
pub(super) struct KnownGood {
    seen: hive_router::DashMap<u64, ()>,
    key: std::hash::RandomState,
}

impl KnownGood {
    const CAPACITY: usize = 20_000;

    fn key(&self, query: &str) -> u64 {
        use std::hash::BuildHasher as _;
        self.key.hash_one(query)
    }

    pub(super) fn contains(&self, query: &str) -> bool {
        self.seen.contains_key(&self.key(query))
    }

    pub(super) fn insert(&self, query: &str) {
        if self.seen.len() >= Self::CAPACITY {
            self.seen.clear();
        }
        self.seen.insert(self.key(query), ());
    }
}

pub(super) const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";

pub(super) enum Parsed {
    Document(Document),
    /// Over the token limit: the engine refuses it itself without formatting tokens.
    TooLong,
    SyntaxError(String),
}

/// Parses `query` with the router's token limit; a syntax error is formatted here, while the
/// text its tokens borrow is alive.
pub(super) fn parse(query: &str) -> Parsed {
    match hive_router::graphql_tools::parser::parse_query_with_token_limit::<String>(
        query, MAX_TOKENS,
    ) {
        Ok(document) => Parsed::Document(document.into_static()),
        Err(error) => {
            let text = error.to_string();
            if text.contains("Token limit exceeded") {
                Parsed::TooLong
            } else {
                Parsed::SyntaxError(format!(
                    "Failed to parse GraphQL operation: {}",
                    text.trim()
                ))
            }
        }
    }
}

/// The engine's choice of status for a request error: `200` when the client negotiated legacy
/// `application/json` (a `*/*` or missing `Accept` included), `400` for
/// `application/graphql-response+json` (GraphQL over HTTP); the content type to match.
pub(super) fn prefers_plain_json(headers: &hive_router::ntex::http::HeaderMap) -> bool {
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .unwrap_or("*/*");
    let quality = |wanted: &str| -> f32 {
        let mut best: (u8, f32) = (0, 0.0); // (specificity, q)
        for item in accept.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            let specificity = match media.as_str() {
                m if m == wanted => 3,
                "application/*" => 2,
                "*/*" => 1,
                _ => 0,
            };
            if specificity > best.0 {
                best = (specificity, q);
            }
        }
        best.1
    };
    quality("application/json") >= quality("application/graphql-response+json")
}

pub(super) fn parse_failed_response(
    message: &str,
    ok_for_errors: bool,
) -> hive_router::ntex::http::Response {
    let (status, content_type) = if ok_for_errors {
        (StatusCode::OK, "application/json")
    } else {
        (StatusCode::BAD_REQUEST, "application/graphql-response+json")
    };
    Refusal::new(status, PARSE_FAILED, message)
        .content_type(content_type)
        .response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_are_formatted_here_and_token_floods_left_to_the_engine() {
        let Parsed::SyntaxError(message) = parse("{ __typename ") else {
            panic!("a syntax error")
        };
        assert!(message.contains("Parse error at 1:14"), "{message}");
        assert!(matches!(parse("{ __typename }"), Parsed::Document(_)));
        let flood = format!("{{ {} }}", "__typename ".repeat(MAX_TOKENS + 10));
        assert!(matches!(parse(&flood), Parsed::TooLong));
    }

    #[test]
    fn known_documents_are_remembered_under_a_key_nobody_can_compute_offline() {
        let (one, other) = (KnownGood::default(), KnownGood::default());
        let query = "{ __typename }";
        one.insert(query);
        assert!(one.contains(query));
        assert!(!one.contains("{ __typename "));
        assert!(!other.contains(query));
        // Each router keys its hash at random: the same text hashes differently in each, so a
        // colliding pair found against one key is useless against another.
        assert_ne!(one.key(query), other.key(query));
    }

    #[test]
    fn parse_failures_follow_the_negotiated_response_type() {
        let headers = |accept: Option<&str>| {
            let mut headers = hive_router::ntex::http::HeaderMap::new();
            if let Some(accept) = accept {
                headers.insert("accept".parse().unwrap(), accept.parse().unwrap());
            }
            headers
        };
        for plain in [
            None,
            Some("*/*"),
            Some("application/json"),
            Some("application/*"),
        ] {
            assert!(prefers_plain_json(&headers(plain)), "{plain:?}");
        }
        for spec in [
            "application/graphql-response+json",
            "application/graphql-response+json, application/json;q=0.9",
            "application/json;q=0.5, application/graphql-response+json",
        ] {
            assert!(!prefers_plain_json(&headers(Some(spec))), "{spec}");
        }
    }
}
