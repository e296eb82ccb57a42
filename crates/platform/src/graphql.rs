//! What every subgraph's GraphQL layer shares: who is calling, the error shapes of
//! docs/conventions.md § API conventions, and the axum wiring that verifies the token before a
//! resolver runs.
//!
//! The subgraph verifies the forwarded `Authorization` header itself (the router may be
//! bypassed); a header that is present but invalid fails the whole request with
//! `UNAUTHENTICATED`, it never degrades to anonymous.

use std::fmt::Display;

use async_graphql::{
    Context, ErrorExtensions, ObjectType, Schema, ServerError, SimpleObject, SubscriptionType,
};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Extension, Router};
use std::net::SocketAddr;

use tracing::Instrument;

use crate::auth::{AuthError, Principal, TokenVerifier};
use crate::request::RequestContext;

/// The caller of one request, as verified by this subgraph.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    User(Principal),
}

/// Where the request came from, for audit rows and throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The first `X-Forwarded-For` hop when present (set by the router/load balancer), else the
    /// TCP peer.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// `Name__3` → `Name`; anything else as it is.
fn without_fetch_suffix(forwarded: &str) -> &str {
    match forwarded.rsplit_once("__") {
        Some((name, node)) if !name.is_empty() && node.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => forwarded,
    }
}

/// A domain rejection returned inside a mutation payload (`userErrors`), not as a GraphQL error:
/// the mobile app shows `message` and branches on `code`.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
// Every subgraph returns this same value type, so it is shareable in the supergraph.
#[graphql(shareable)]
pub struct UserError {
    /// Stable machine-readable code, e.g. `EMAIL_TAKEN`.
    pub code: String,
    /// The input field at fault, if one is.
    pub field: Option<String>,
    /// Safe to show to the user.
    pub message: String,
}

impl UserError {
    pub fn new(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// A GraphQL error with `extensions.code`.
pub fn coded_error(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// An authentication/authorization failure as a GraphQL error (`UNAUTHENTICATED`/`FORBIDDEN`).
pub fn auth_error(error: AuthError) -> async_graphql::Error {
    coded_error(error.code(), error.to_string())
}

/// An unexpected failure: logged in full, reported to the client without detail — as
/// `SERVICE_UNAVAILABLE` while the database cannot be reached ([`crate::outage`]): what failed
/// then is an outage to wait out, not a fault.
pub fn internal_error(error: impl Display) -> async_graphql::Error {
    if crate::outage::database_unreachable() {
        tracing::warn!(%error, "failed while the database is unreachable");
        return coded_error("SERVICE_UNAVAILABLE", SERVICE_UNAVAILABLE_MESSAGE);
    }
    tracing::error!(%error, "internal error");
    coded_error("INTERNAL", INTERNAL_MESSAGE)
}

/// What a borrower reads when a part of Tenor cannot answer for now (Indonesian first, as every
/// message meant for them); the router uses it too, for services it cannot reach.
pub const SERVICE_UNAVAILABLE_MESSAGE: &str = "Layanan sedang tidak tersedia, coba lagi sebentar lagi \
     / The service is unavailable right now: try again shortly";

/// What the caller reads of any unexpected failure.
const INTERNAL_MESSAGE: &str = "internal error, please try again";

/// Access to the verified caller from resolvers.
pub trait CallerExt {
    fn caller(&self) -> &Caller;
    fn client_info(&self) -> ClientInfo;
    /// The operation name the client used, for access logs: the router forwards it as
    /// `<Name>__<fetch node id>`, and the log keeps `<Name>` (the mobile app's operation file).
    fn client_operation_name(&self) -> Option<String>;
    /// The signed-in user, or `UNAUTHENTICATED`.
    fn principal(&self) -> Result<&Principal, async_graphql::Error>;
    /// The signed-in user holding `scope`, or `UNAUTHENTICATED`/`FORBIDDEN`.
    fn require_scope(&self, scope: &str) -> Result<&Principal, async_graphql::Error>;
}

impl CallerExt for Context<'_> {
    fn caller(&self) -> &Caller {
        self.data_opt::<Caller>().unwrap_or(&Caller::Anonymous)
    }

    fn client_info(&self) -> ClientInfo {
        self.data_opt::<ClientInfo>().cloned().unwrap_or_default()
    }

    fn client_operation_name(&self) -> Option<String> {
        let forwarded = self.query_env.operation_name.as_deref()?;
        Some(without_fetch_suffix(forwarded).to_owned())
    }

    fn principal(&self) -> Result<&Principal, async_graphql::Error> {
        match self.caller() {
            Caller::User(principal) => Ok(principal),
            Caller::Anonymous => Err(auth_error(AuthError::MissingToken)),
        }
    }

    fn require_scope(&self, scope: &str) -> Result<&Principal, async_graphql::Error> {
        let principal = self.principal()?;
        principal.require_scope(scope).map_err(auth_error)?;
        Ok(principal)
    }
}

struct GraphQlState<Q, M, S> {
    schema: Schema<Q, M, S>,
    verifier: TokenVerifier,
}

impl<Q, M, S> Clone for GraphQlState<Q, M, S> {
    fn clone(&self) -> Self {
        Self {
            schema: self.schema.clone(),
            verifier: self.verifier.clone(),
        }
    }
}

/// `POST /graphql` for `schema`, with the caller verified by `verifier`.
pub fn graphql_router<Q, M, S>(schema: Schema<Q, M, S>, verifier: TokenVerifier) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new()
        .route("/graphql", post(execute::<Q, M, S>))
        .with_state(GraphQlState { schema, verifier })
}

/// [`graphql_router`] plus subscriptions over WebSocket on `GET /graphql` (graphql-transport-ws,
/// and the legacy graphql-ws). The upgrade carries no `Authorization` header when it comes
/// through the router: the token arrives in the `connection_init` payload as
/// `{"authorization": "Bearer …"}` and is verified here like a header. An invalid token refuses
/// the connection; no token leaves the caller anonymous, for resolvers to refuse.
pub fn graphql_router_with_subscriptions<Q, M, S>(
    schema: Schema<Q, M, S>,
    verifier: TokenVerifier,
) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new()
        .route(
            "/graphql",
            post(execute::<Q, M, S>).get(subscribe::<Q, M, S>),
        )
        .with_state(GraphQlState { schema, verifier })
}

async fn subscribe<Q, M, S>(
    State(state): State<GraphQlState<Q, M, S>>,
    protocol: async_graphql_axum::GraphQLProtocol,
    upgrade: axum::extract::WebSocketUpgrade,
) -> axum::response::Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        // tungstenite reserves 128 KiB per socket for reading by default and zeroes it before
        // every read; a subscriber sends a few hundred bytes (init, subscribe, pongs), and a
        // replica holds thousands of sockets. Larger messages still arrive whole: the buffer
        // grows for them (`max_message_size` is what bounds them).
        .read_buffer_size(WEBSOCKET_READ_BUFFER)
        .on_upgrade(move |socket| {
            let verifier = state.verifier.clone();
            async_graphql_axum::GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let caller = connection_caller(&verifier, &payload).await?;
                    let mut data = async_graphql::Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
}

/// Bytes read from a subscriber's socket at a time.
const WEBSOCKET_READ_BUFFER: usize = 4 * 1024;

/// The caller named by a `connection_init` payload's `authorization` (any letter case).
async fn connection_caller(
    verifier: &TokenVerifier,
    payload: &serde_json::Value,
) -> async_graphql::Result<Caller> {
    let header = payload.as_object().and_then(|fields| {
        fields
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, value)| value.as_str())
    });
    let Some(header) = header else {
        return Ok(Caller::Anonymous);
    };
    let mut headers = HeaderMap::new();
    let value = header
        .parse()
        .map_err(|_| auth_error(AuthError::Malformed))?;
    headers.insert(axum::http::header::AUTHORIZATION, value);
    match verifier.authenticate(&headers).await {
        Ok(Some(principal)) => Ok(Caller::User(principal)),
        Ok(None) => Ok(Caller::Anonymous),
        Err(error) => Err(auth_error(error)),
    }
}

async fn execute<Q, M, S>(
    State(state): State<GraphQlState<Q, M, S>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let caller = match state.verifier.authenticate(&headers).await {
        Ok(Some(principal)) => Caller::User(principal),
        Ok(None) => Caller::Anonymous,
        Err(error) => {
            let mut server_error = ServerError::new(error.to_string(), None);
            server_error.extensions = Some({
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", error.code());
                ext
            });
            return async_graphql::Response::from_errors(vec![server_error]).into();
        }
    };
    let context = RequestContext {
        request_id: header_text(&headers, "x-request-id"),
        traceparent: header_text(&headers, "traceparent"),
        user_id: match &caller {
            Caller::User(principal) => Some(principal.user_id),
            Caller::Anonymous => None,
        },
    };
    let request = request.into_inner();
    let span = context.span(request.operation_name.as_deref());
    let request = request.data(caller).data(client_info(
        &headers,
        peer.map(|Extension(ConnectInfo(addr))| addr),
    ));
    let started = std::time::Instant::now();
    let response = context
        .scope(state.schema.execute(request).instrument(span.clone()))
        .await;
    // One line per request, inside its span: what an on-call engineer greps a request id for.
    let response = span.in_scope(|| {
        tracing::info!(
            errors = response.errors.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "graphql request"
        );
        with_codes(response)
    });
    response.into()
}

/// Every error leaves with an `extensions.code` (docs/conventions.md § API conventions). Our
/// resolvers code each error they make; what comes without one is either async-graphql's own
/// answer to the request — a document or a variable it refused (no `path`), or an argument it
/// could not read as its type when it came to the field (a `path`, and one of
/// `InputValueError`'s messages: `Expected input type "Type", found …` — `input: true` for an
/// input object — or `Failed to parse "Type": …`),
/// which are the caller's input: `BAD_USER_INPUT` — or an error a resolver passed on with `?`
/// from something that is not ours (a `path`): its message may name internals, so it is logged
/// and answered as `INTERNAL`. Without this the router reports the first kind as
/// `DOWNSTREAM_SERVICE_ERROR`.
fn with_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        let coded = error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some());
        if coded {
            continue;
        }
        let argument_unreadable = ARGUMENT_UNREADABLE
            .iter()
            .any(|prefix| error.message.starts_with(prefix));
        let code = if error.path.is_empty() || argument_unreadable {
            "BAD_USER_INPUT"
        } else {
            tracing::error!(error = %error.message, path = ?error.path, "uncoded resolver error");
            error.message = INTERNAL_MESSAGE.to_owned();
            "INTERNAL"
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    response
}

/// How async-graphql's `InputValueError` messages begin: an argument that is not of its type.
const ARGUMENT_UNREADABLE: [&str; 2] = ["Expected input type \"", "Failed to parse \""];

/// A header's value as text, bounded: headers are attacker-controlled.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(512).collect::<String>())
}

fn client_info(headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientInfo {
    let header = |name: &str| header_text(headers, name);
    let forwarded = header("x-forwarded-for")
        .and_then(|v| v.split(',').next().map(|ip| ip.trim().to_owned()))
        .filter(|ip| !ip.is_empty());
    ClientInfo {
        ip: forwarded.or_else(|| peer.map(|p| p.ip().to_string())),
        user_agent: header("user-agent"),
        request_id: header("x-request-id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_leaves_with_a_code_and_no_internals() {
        let refused_input = ServerError::new("Invalid value for argument \"filter\"", None);
        // What auth answered `biometricLogin(input: true)` with (the router's fuzz found it).
        let mut unreadable_argument = ServerError::new(
            "Expected input type \"BiometricLoginInput\", found true.",
            None,
        );
        unreadable_argument.path = vec![async_graphql::PathSegment::Field("biometricLogin".into())];
        let mut leaked = ServerError::new("relation \"loans\" does not exist", None);
        leaked.path = vec![async_graphql::PathSegment::Field("loans".into())];
        let already = ServerError::new("Pinjaman tidak ditemukan", None);
        let mut already_coded = already.clone();
        already_coded.extensions = Some({
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "NOT_FOUND");
            ext
        });
        let response = with_codes(async_graphql::Response::from_errors(vec![
            refused_input,
            unreadable_argument,
            leaked,
            already_coded,
        ]));
        let json = serde_json::to_value(&response).unwrap();
        let codes: Vec<_> = json["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["extensions"]["code"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            codes,
            ["BAD_USER_INPUT", "BAD_USER_INPUT", "INTERNAL", "NOT_FOUND"]
        );
        assert_eq!(
            json["errors"][0]["message"],
            "Invalid value for argument \"filter\""
        );
        assert!(
            json["errors"][1]["message"]
                .as_str()
                .unwrap()
                .starts_with("Expected input type \"BiometricLoginInput\"")
        );
        assert_eq!(
            json["errors"][2]["message"],
            "internal error, please try again"
        );
        assert_eq!(json["errors"][3]["message"], "Pinjaman tidak ditemukan");
    }

    #[test]
    fn the_routers_fetch_suffix_is_dropped_and_nothing_else() {
        assert_eq!(without_fetch_suffix("CustomerKyc__2"), "CustomerKyc");
        assert_eq!(without_fetch_suffix("CustomerKyc"), "CustomerKyc");
        assert_eq!(without_fetch_suffix("My__Query"), "My__Query");
        assert_eq!(without_fetch_suffix("__3"), "__3");
    }
}
