//! `error_codes`: the codes clients program against (docs/conventions.md § API conventions), not
//! the router's internals.
//!
//! - A field hidden by `@authenticated`/`@requiresScopes` comes back from the router as
//!   `UNAUTHORIZED_FIELD_OR_TYPE`; the app needs to know whether to sign in again
//!   (`UNAUTHENTICATED`) or that this account may not see it (`FORBIDDEN`).
//! - A token the router could not verify (expired, forged, `alg: none`, wrong audience, …) fails
//!   with one of several `*_JWT*` codes; to a client they all mean "sign in again".
//!
//! - A subgraph the router could not reach or read (connection refused, timeout, a 5xx, a
//!   broken response) fails with one of hive-router's `SUBGRAPH_*`/`SUBREQUEST_*` codes and a
//!   message naming the transport's internals (`client error (Connect)`). To the app it means
//!   one thing, "try again shortly" — safe for every mutation, which takes an idempotency key —
//!   so it becomes `SERVICE_UNAVAILABLE` with a message a borrower may read. The engine has
//!   already logged the failure in full with the request id.
//!
//! - A document that fails GraphQL validation comes back with the failed rule's name as its
//!   code (`FieldsOnCorrectType`, `NoFragmentsCycle`, …, one per rule of the spec); to the app
//!   it is one thing, a document this schema does not accept: `GRAPHQL_VALIDATION_FAILED`, the
//!   code Apollo's clients know, with the engine's message (it names the field or fragment at
//!   fault, nothing internal).
//!
//! The router's own code is kept in `extensions.reason` for support.
//!
//! A field the router nulls also gets the spec's `path` (GraphQL spec §7.1.2), which Apollo
//! Kotlin/iOS read to match an error to its field; hive-router only writes its own
//! `extensions.affectedPath` (`me.kyc.documentNumber`). Its path names response keys and no list
//! indices (the field is refused in every item), so neither does ours.
//!
//! An error a subgraph returned speaks of the query the router sent it, not the client's: its
//! `locations` point into that query, and an entity fetch's error that the engine could not
//! place (no entity index: a refused entity or a field guard of the `_entities` call) keeps the
//! subgraph's `["_entities", "kyc"]` or no path at all. Such errors lose their `locations` and
//! get the client's path from the fetch's `affectedPath` (`loan.user` + `kyc`).

use hive_router::GraphQLError;
use hive_router::executor::plugins::hooks::on_graphql_error::{
    OnGraphQLErrorHookPayload, OnGraphQLErrorHookResult,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::RouterPlugin;
use hive_router::executor::response::graphql_error::{GraphQLErrorPath, GraphQLErrorPathSegment};
use hive_router::http::StatusCode;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorCodesConfig {}

pub struct ErrorCodesPlugin;

#[hive_router::async_trait]
impl RouterPlugin for ErrorCodesPlugin {
    type Config = ErrorCodesConfig;

    fn plugin_name() -> &'static str {
        "error_codes"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let _config: ErrorCodesConfig = payload.config()?;
        payload.initialize_plugin(ErrorCodesPlugin)
    }

    fn on_graphql_error<'req>(
        &'req self,
        mut payload: OnGraphQLErrorHookPayload<'req>,
    ) -> OnGraphQLErrorHookResult<'req> {
        let authenticated = payload
            .request_context
            .read()
            .ok()
            .and_then(|ctx| ctx.authentication().jwt_status().copied())
            .unwrap_or(false);
        place_subgraph_error(&mut payload.error);
        if let Some(status) = translate(&mut payload.error, authenticated) {
            payload.status_code = status;
        }
        payload.proceed()
    }
}

/// Rewrites `error` in place; returns the HTTP status to use when it changes.
pub fn translate(error: &mut GraphQLError, authenticated: bool) -> Option<StatusCode> {
    let code = error.extensions.code.clone()?;
    let (new_code, message, status) = match code.as_str() {
        "UNAUTHORIZED_FIELD_OR_TYPE" if authenticated => {
            ("FORBIDDEN", "This account may not read this field", None)
        }
        "UNAUTHORIZED_FIELD_OR_TYPE" => ("UNAUTHENTICATED", "Sign in to read this field", None),
        "MISSING_JWT"
        | "INVALID_JWT"
        | "INVALID_JWT_HEADER"
        | "JWK_ALGORITHM_NOT_SUPPORTED"
        | "JWT_NOT_SUPPORTED"
        | "JWT_LOOKUP_FAILED" => (
            "UNAUTHENTICATED",
            "The access token is missing, invalid or expired: sign in again",
            Some(StatusCode::UNAUTHORIZED),
        ),
        rule if is_validation_rule(rule) => {
            error
                .extensions
                .extensions
                .insert("reason".to_owned(), rule.into());
            error.extensions.code = Some("GRAPHQL_VALIDATION_FAILED".to_owned());
            return None;
        }
        other if is_subgraph_failure(other) => {
            ("SERVICE_UNAVAILABLE", SERVICE_UNAVAILABLE_MESSAGE, None)
        }
        _ => return None,
    };
    error.message = message.to_owned();
    if error.path.is_none()
        && let Some(affected) = error.extensions.affected_path.as_deref()
        && !affected.is_empty()
    {
        error.path = Some(response_path(affected));
    }
    error.extensions.code = Some(new_code.to_owned());
    error
        .extensions
        .extensions
        .insert("reason".to_owned(), code.as_str().into());
    status
}

/// Drops a subgraph error's `locations` and rewrites a path the engine left in the subgraph's
/// terms (see the module doc). Errors the router made itself carry no service name.
pub fn place_subgraph_error(error: &mut GraphQLError) {
    if error.extensions.service_name.is_none() {
        return;
    }
    error.locations = None;
    let affected = error
        .extensions
        .affected_path
        .as_deref()
        .filter(|path| !path.is_empty());
    let unplaced = match &error.path {
        None => Some(&[][..]),
        Some(path) => match path.segments.as_slice() {
            [GraphQLErrorPathSegment::String(entities), rest @ ..] if entities == "_entities" => {
                Some(match rest {
                    [GraphQLErrorPathSegment::Index(_), rest @ ..] => rest,
                    rest => rest,
                })
            }
            _ => None,
        },
    };
    let Some(rest) = unplaced else { return };
    error.path = affected.map(|affected| {
        let mut path = response_path(affected);
        path.segments.extend(rest.iter().cloned());
        path
    });
}

/// What a borrower reads when a part of Tenor could not answer (Indonesian first, as every
/// message meant for them). A subgraph whose database is down says the same
/// (`tenor_platform::graphql`; the router does not link the platform crate, a test keeps the
/// two equal).
const SERVICE_UNAVAILABLE_MESSAGE: &str = "Layanan sedang tidak tersedia, coba lagi sebentar lagi \
     / The service is unavailable right now: try again shortly";

/// hive-router's codes for a subgraph call that failed below GraphQL (its
/// `SubgraphExecutorError`): every one starts with one of these two prefixes.
fn is_subgraph_failure(code: &str) -> bool {
    code.starts_with("SUBGRAPH_") || code.starts_with("SUBREQUEST_")
}

/// The engine names a validation error's code after the rule that failed, in `PascalCase`;
/// every code of its own, and every one of ours, is `SCREAMING_SNAKE_CASE`.
fn is_validation_rule(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_uppercase())
        && code.chars().all(|c| c.is_ascii_alphanumeric())
        && code.chars().any(|c| c.is_ascii_lowercase())
}

/// `me.loans[2].purpose` → `["me", "loans", 2, "purpose"]`.
fn response_path(affected: &str) -> GraphQLErrorPath {
    let mut path = GraphQLErrorPath::default();
    for key in affected.split('.') {
        let mut parts = key.split('[');
        if let Some(field) = parts.next()
            && !field.is_empty()
        {
            path.segments
                .push(GraphQLErrorPathSegment::String(field.to_owned()));
        }
        for index in parts {
            match index.trim_end_matches(']').parse::<usize>() {
                Ok(i) => path.segments.push(GraphQLErrorPathSegment::Index(i)),
                Err(_) => path
                    .segments
                    .push(GraphQLErrorPathSegment::String(index.to_owned())),
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str) -> GraphQLError {
        GraphQLError::from_message_and_code("router message", code)
    }

    /// The app reads one wording for an outage, whether the router or the service saw it.
    #[test]
    fn the_router_and_the_subgraphs_word_an_outage_alike() {
        assert_eq!(
            SERVICE_UNAVAILABLE_MESSAGE,
            tenor_platform::graphql::SERVICE_UNAVAILABLE_MESSAGE
        );
    }

    #[test]
    fn hidden_field_is_forbidden_for_a_signed_in_caller_and_unauthenticated_otherwise() {
        let mut e = error("UNAUTHORIZED_FIELD_OR_TYPE");
        assert_eq!(translate(&mut e, true), None);
        assert_eq!(e.extensions.code.as_deref(), Some("FORBIDDEN"));
        let mut e = error("UNAUTHORIZED_FIELD_OR_TYPE");
        translate(&mut e, false);
        assert_eq!(e.extensions.code.as_deref(), Some("UNAUTHENTICATED"));
    }

    #[test]
    fn every_token_failure_is_unauthenticated_401() {
        for code in [
            "INVALID_JWT",
            "MISSING_JWT",
            "INVALID_JWT_HEADER",
            "JWT_LOOKUP_FAILED",
        ] {
            let mut e = error(code);
            assert_eq!(translate(&mut e, false), Some(StatusCode::UNAUTHORIZED));
            assert_eq!(e.extensions.code.as_deref(), Some("UNAUTHENTICATED"));
            assert!(!e.message.contains("router message"));
        }
    }

    #[test]
    fn a_hidden_field_gets_the_spec_path() {
        let mut e = error("UNAUTHORIZED_FIELD_OR_TYPE").add_affected_path("me.kyc.documentNumber");
        translate(&mut e, true);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json["path"],
            serde_json::json!(["me", "kyc", "documentNumber"])
        );
        let mut e = error("UNAUTHORIZED_FIELD_OR_TYPE").add_affected_path("loans[2].purpose");
        translate(&mut e, true);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["path"], serde_json::json!(["loans", 2, "purpose"]));
    }

    /// A subgraph's error speaks of the router's query to it: its locations go, and an entity
    /// path the engine did not place is rebuilt from the fetch's place in the client's response.
    #[test]
    fn a_subgraph_error_is_placed_in_the_clients_response() {
        let from_subgraph = |path: serde_json::Value| {
            let e: GraphQLError = serde_json::from_value(serde_json::json!({
                "message": "missing required scope kyc:review",
                "locations": [{ "line": 1, "column": 90 }],
                "path": path,
                "extensions": { "code": "FORBIDDEN" },
            }))
            .unwrap();
            e.add_subgraph_name("kyc").add_affected_path("loan.user")
        };
        let placed = |mut e: GraphQLError| {
            place_subgraph_error(&mut e);
            let json = serde_json::to_value(&e).unwrap();
            assert!(json.get("locations").is_none(), "{json}");
            json["path"].clone()
        };
        let kyc = serde_json::json!(["loan", "user", "kyc"]);
        assert_eq!(
            placed(from_subgraph(serde_json::json!(["_entities", "kyc"]))),
            kyc
        );
        assert_eq!(
            placed(from_subgraph(serde_json::json!(["_entities", 0, "kyc"]))),
            kyc
        );
        assert_eq!(
            placed(from_subgraph(serde_json::Value::Null)),
            serde_json::json!(["loan", "user"])
        );
        // A path already in the client's terms (a root fetch, or placed by the engine) stays.
        assert_eq!(
            placed(from_subgraph(serde_json::json!(["me", "kyc"]))),
            serde_json::json!(["me", "kyc"])
        );
        // The router's own errors are left as they are.
        let mut own = error("FORBIDDEN");
        own.locations = Some(vec![]);
        place_subgraph_error(&mut own);
        assert!(own.locations.is_some());
    }

    #[test]
    fn an_unreachable_subgraph_is_service_unavailable_without_its_internals() {
        for code in [
            "SUBREQUEST_HTTP_ERROR",
            "SUBGRAPH_REQUEST_TIMEOUT",
            "SUBGRAPH_RESPONSE_FAILURE",
            "SUBREQUEST_MALFORMED_RESPONSE",
            "SUBGRAPH_WEBSOCKET_CONNECT_FAILURE",
        ] {
            let mut e = GraphQLError::from_message_and_code(
                "Failed to send request to subgraph: client error (Connect)",
                code,
            );
            assert_eq!(translate(&mut e, true), None, "{code}: the status stays");
            assert_eq!(e.extensions.code.as_deref(), Some("SERVICE_UNAVAILABLE"));
            assert_eq!(e.message, SERVICE_UNAVAILABLE_MESSAGE);
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["extensions"]["reason"], code);
        }
    }

    #[test]
    fn a_failed_validation_rule_is_graphql_validation_failed_with_its_message() {
        for rule in [
            "FieldsOnCorrectType",
            "NoFragmentsCycle",
            "KnownArgumentNames",
        ] {
            let mut e = error(rule);
            assert_eq!(translate(&mut e, true), None);
            assert_eq!(
                e.extensions.code.as_deref(),
                Some("GRAPHQL_VALIDATION_FAILED")
            );
            assert_eq!(e.message, "router message", "the engine's message is kept");
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["extensions"]["reason"], rule);
        }
        for not_a_rule in [
            "BAD_USER_INPUT",
            "RATE_LIMITED",
            "PERSISTED_QUERY_NOT_FOUND",
        ] {
            assert!(!is_validation_rule(not_a_rule), "{not_a_rule}");
        }
    }

    #[test]
    fn other_codes_pass_through() {
        let mut e = error("GRAPHQL_VALIDATION_FAILED");
        assert_eq!(translate(&mut e, true), None);
        assert_eq!(
            e.extensions.code.as_deref(),
            Some("GRAPHQL_VALIDATION_FAILED")
        );
        assert_eq!(e.message, "router message");
    }
}
