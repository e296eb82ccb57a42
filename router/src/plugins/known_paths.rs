//! `known_paths`: what the router answers outside what it serves.
//!
//! hive-router 0.2.19 answers every path it has no route for (`/`, `/admin`, `/.env`, a
//! `CONNECT`) with its "Welcome to Hive Router" page and 200: a scanner learns the engine, and an
//! app with a typo in its URL gets HTML with a success status. Its 405s (a `PUT` on the GraphQL
//! path, a mutation sent with `GET`) carry no `Allow` header, which RFC 9110 §15.5.6 requires.
//!
//! Here a path the router does not serve is a JSON 404 `NOT_FOUND` naming the GraphQL path, a
//! method GraphQL over HTTP does not use on the GraphQL path is a JSON 405 `METHOD_NOT_ALLOWED`
//! with `Allow: GET, POST, OPTIONS` (OPTIONS: the back office's CORS preflight), and the
//! engine's own 405 for a mutation over `GET` gets `Allow: POST`.
//!
//! Served paths: the GraphQL path and what lies under it (`/graphql/<documentId>`), the
//! WebSocket path, the subscription callback path where it is on this server, `/health` and `/readiness`. `/graphiql` and `/kyc/` are answered by their
//! plugins before this one runs, and the engine never shows `/metrics` to a plugin.

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{
    EndHookPayload as _, RouterPlugin, StartHookPayload as _,
};
use hive_router::http::StatusCode;
use hive_router::ntex::http::{Method, Response};
use serde::Deserialize;

use super::refusal::Refusal;

/// The engine's probes, fixed in hive-router 0.2.19 (`RouterPaths::new`).
const PROBES: [&str; 2] = ["/health", "/readiness"];
/// Methods GraphQL over HTTP uses on the GraphQL path.
const GRAPHQL_METHODS: &str = "GET, POST, OPTIONS";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownPathsConfig {}

pub struct KnownPathsPlugin {
    graphql: String,
    /// The WebSocket path and the subscription callback path, where configured.
    others: Vec<String>,
}

/// Where a request's path falls.
#[derive(Debug, PartialEq)]
enum Place {
    GraphQl,
    Probe,
    Elsewhere,
}

impl KnownPathsPlugin {
    fn place(&self, path: &str) -> Place {
        let under_graphql = path
            .strip_prefix(self.graphql.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if under_graphql || self.others.iter().any(|other| other == path) {
            Place::GraphQl
        } else if PROBES.contains(&path) {
            Place::Probe
        } else {
            Place::Elsewhere
        }
    }
}

#[hive_router::async_trait]
impl RouterPlugin for KnownPathsPlugin {
    type Config = KnownPathsConfig;

    fn plugin_name() -> &'static str {
        "known_paths"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let _: KnownPathsConfig = payload.config()?;
        let router = payload.router_config();
        let callback = router
            .callback_conf()
            .filter(|callback| callback.listen.is_none())
            .map(|callback| callback.path.to_string());
        let plugin = KnownPathsPlugin {
            graphql: router.graphql_path().to_string(),
            others: router
                .websocket_path()
                .map(str::to_owned)
                .into_iter()
                .chain(callback)
                .collect(),
        };
        payload.initialize_plugin(plugin)
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            match self.place(request.path()) {
                Place::Probe => payload.proceed(),
                Place::Elsewhere => {
                    let response = not_found(&self.graphql);
                    payload.end_with_response(response)
                }
                Place::GraphQl => match *request.method() {
                    Method::POST | Method::OPTIONS => payload.proceed(),
                    // The engine refuses a mutation over GET with a bare 405.
                    Method::GET => payload.on_end(|end| {
                        end.map_response(|mut response| {
                            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                                response
                                    .headers_mut()
                                    .insert("allow".parse().unwrap(), "POST".parse().unwrap());
                            }
                            response
                        })
                        .proceed()
                    }),
                    _ => payload.end_with_response(method_not_allowed()),
                },
            }
        })
    }
}

fn not_found(graphql: &str) -> Response {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!(
            "Alamat ini tidak ada; GraphQL ada di {graphql} / Nothing is served here; GraphQL is at {graphql}"
        ),
    )
    .response()
}

fn method_not_allowed() -> Response {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!(
            "Metode ini tidak didukung; gunakan {GRAPHQL_METHODS} / This method is not supported; use {GRAPHQL_METHODS}"
        ),
    )
    .header("allow", GRAPHQL_METHODS.to_owned())
    .response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(websocket: Option<&str>) -> KnownPathsPlugin {
        KnownPathsPlugin {
            graphql: "/graphql".to_owned(),
            others: websocket.into_iter().map(str::to_owned).collect(),
        }
    }

    #[test]
    fn the_graphql_path_and_what_lies_under_it_are_served() {
        let plugin = plugin(Some("/ws"));
        for path in ["/graphql", "/graphql/", "/graphql/sha256:abc", "/ws"] {
            assert_eq!(plugin.place(path), Place::GraphQl, "{path}");
        }
        for path in ["/health", "/readiness"] {
            assert_eq!(plugin.place(path), Place::Probe, "{path}");
        }
        for path in [
            "/",
            "",
            "/graphqlx",
            "/graph",
            "/.env",
            "/admin",
            "/ws/x",
            "/healthz",
        ] {
            assert_eq!(plugin.place(path), Place::Elsewhere, "{path}");
        }
        assert_eq!(self::plugin(None).place("/ws"), Place::Elsewhere);
    }

    #[test]
    fn refusals_are_json_and_a_405_names_the_methods() {
        let response = method_not_allowed();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            response.headers().get("allow").unwrap(),
            "GET, POST, OPTIONS"
        );
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json"
        );
        assert_eq!(not_found("/graphql").status(), StatusCode::NOT_FOUND);
    }
}
