//! `json_guard`: refuses over-deep JSON before the engine parses it.
//!
//! Why: hive-router 0.2.19 turns `variables` and `extensions` into `sonic_rs::Value` trees and
//! later walks them recursively (coercion, hashing, dropping). A few thousand nested `[` in a
//! 20 KB body are enough to overflow a worker thread's stack; see the README's "Hostile input"
//! section for what we found. No GraphQL client needs more than a handful of levels, so anything
//! deeper than `max_depth` is answered `400` with `JSON_TOO_DEEP` and never reaches the engine.
//!
//! Checked here, before the engine parses: the POST body and every GET query-string parameter
//! (`variables`, `extensions`, anything else).
//!
//! WebSocket messages reach no plugin before the engine parses them (`websocket_server.rs`
//! parses every text frame itself). There the worker's stack is what protects us: frames are
//! at most 64 KiB, so at most 64 Ki levels, which the enlarged worker stack
//! ([`crate::serve::WORKER_STACK_BYTES`]) parses safely; then a `subscribe` whose `variables` or
//! `extensions` are too deep is refused here all the same (`on_graphql_params` also runs for
//! WebSocket operations, with the parsed parameters; the client gets the refusal as the
//! operation's result), and a deep `connection_init` payload is only ever read for its top-level
//! string fields (headers), so it is harmless.

use hive_router::executor::plugins::hooks::on_graphql_params::{
    OnGraphQLParamsStartHookPayload, OnGraphQLParamsStartHookResult,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use hive_router::http::StatusCode;
use hive_router::ntex::http::Response;
use hive_router::sonic_rs::{JsonContainerTrait as _, Value};
use serde::Deserialize;
use serde_with::{DisplayFromStr, PickFirst, serde_as};

use super::refusal::Refusal;

/// Deep enough for any input object the schema has, with room to grow.
pub const DEFAULT_MAX_DEPTH: usize = 16;

#[serde_as]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonGuardConfig {
    /// Arrays and objects nested deeper than this are refused.
    #[serde(default = "default_max_depth")]
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub max_depth: usize,
}

fn default_max_depth() -> usize {
    DEFAULT_MAX_DEPTH
}

pub struct JsonGuardPlugin {
    max_depth: usize,
}

#[hive_router::async_trait]
impl RouterPlugin for JsonGuardPlugin {
    type Config = JsonGuardConfig;

    fn plugin_name() -> &'static str {
        "json_guard"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: JsonGuardConfig = payload.config()?;
        if config.max_depth == 0 {
            return Err("plugins.tenor.config.json_guard.config.max_depth must be positive".into());
        }
        payload.initialize_plugin(JsonGuardPlugin {
            max_depth: config.max_depth,
        })
    }

    async fn on_graphql_params<'exec>(
        &'exec self,
        payload: OnGraphQLParamsStartHookPayload<'exec>,
    ) -> OnGraphQLParamsStartHookResult<'exec> {
        let too_deep = match &payload.graphql_params {
            // WebSocket `subscribe`: the engine parsed the message already (safely, on the large
            // worker stack); measure the parsed values. `{"variables": {"x": …}}`: the message
            // and `variables` are two of the levels.
            Some(params) => params
                .variables
                .values()
                .chain(params.extensions.iter().flat_map(|e| e.values()))
                .any(|value| value_exceeds_depth(value, self.max_depth.saturating_sub(2))),
            // HTTP: the raw body and query string, before anything parses them.
            None => {
                exceeds_depth(&payload.body, self.max_depth)
                    || query_string_exceeds_depth(
                        payload.router_http_request.query_string,
                        self.max_depth,
                    )
            }
        };
        if too_deep {
            return payload.end_with_response(too_deep_response(self.max_depth));
        }
        payload.proceed()
    }
}

/// True when `value` nests more than `max_depth` arrays/objects. Iterative: the value may be as
/// deep as a 64 KiB WebSocket frame allows.
pub fn value_exceeds_depth(value: &Value, max_depth: usize) -> bool {
    let mut pending: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = if let Some(array) = value.as_array() {
            Box::new(array.iter())
        } else if let Some(object) = value.as_object() {
            Box::new(object.iter().map(|(_, v)| v))
        } else {
            continue;
        };
        if depth + 1 > max_depth {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

/// True when any parameter of a URL query string holds JSON nested deeper than `max_depth`.
pub fn query_string_exceeds_depth(query: &str, max_depth: usize) -> bool {
    !query.is_empty()
        && form_urlencoded::parse(query.as_bytes())
            .any(|(_, value)| exceeds_depth(value.as_bytes(), max_depth))
}

/// True when `json` opens more than `max_depth` arrays/objects without closing them.
///
/// A single pass over the bytes with a counter: no recursion and no allocation, so it is safe on
/// any input, valid JSON or not (the engine reports syntax errors itself). Brackets inside
/// strings do not count.
pub fn exceeds_depth(json: &[u8], max_depth: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

pub fn too_deep_message(max_depth: usize) -> String {
    format!("JSON nested deeper than {max_depth} levels is not accepted")
}

fn too_deep_response(max_depth: usize) -> Response {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        "JSON_TOO_DEEP",
        too_deep_message(max_depth),
    )
    .response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, depth: usize) -> String {
        format!("{}{}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn depth_is_counted_for_arrays_objects_and_mixtures() {
        assert!(!exceeds_depth(nested("[", "]", 16).as_bytes(), 16));
        assert!(exceeds_depth(nested("[", "]", 17).as_bytes(), 16));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(17), "}".repeat(17));
        assert!(exceeds_depth(objects.as_bytes(), 16));
        let mixed = format!("{}{}", r#"[{"a":"#.repeat(9), "}]".repeat(9));
        assert!(exceeds_depth(mixed.as_bytes(), 16));
    }

    #[test]
    fn siblings_do_not_add_up() {
        let wide = format!("[{}]", vec![nested("[", "]", 10); 1000].join(","));
        assert!(!exceeds_depth(wide.as_bytes(), 16));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let body = format!(
            r#"{{"query":"{{ __typename }}","variables":{{"x":"{}\"{}"}}}}"#,
            "[".repeat(100),
            "{".repeat(100)
        );
        assert!(!exceeds_depth(body.as_bytes(), 16));
    }

    #[test]
    fn an_escaped_quote_does_not_end_a_string() {
        let body = format!(r#"["\"{}"]"#, "[".repeat(50));
        assert!(!exceeds_depth(body.as_bytes(), 16));
        let body = format!(r#"["\\"{}"#, "[".repeat(50));
        assert!(exceeds_depth(body.as_bytes(), 16));
    }

    #[test]
    fn a_huge_body_is_scanned_without_recursion() {
        let deep = "[".repeat(10_000_000);
        assert!(exceeds_depth(deep.as_bytes(), 16));
    }

    #[test]
    fn parsed_values_are_measured_the_same_way() {
        let parse = |s: &str| hive_router::sonic_rs::from_str::<Value>(s).unwrap();
        // Inside {"variables": {"x": …}} two levels are already used.
        assert!(!value_exceeds_depth(&parse(&nested("[", "]", 14)), 14));
        assert!(value_exceeds_depth(&parse(&nested("[", "]", 15)), 14));
        assert!(value_exceeds_depth(
            &parse(&format!("{}1{}", r#"{"a":"#.repeat(15), "}".repeat(15))),
            14
        ));
        assert!(!value_exceeds_depth(
            &parse(r#"{"a": [1, 2, {"b": "[[[[[[[[[[[[[[[[["}]}"#),
            14
        ));
        assert!(!value_exceeds_depth(&parse("42"), 0));
    }

    #[test]
    fn get_parameters_are_decoded_before_counting() {
        let deep = nested("[", "]", 51);
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", "{ __typename }")
            .append_pair("variables", &format!(r#"{{"x":{deep}}}"#))
            .finish();
        assert!(query_string_exceeds_depth(&encoded, 16));
        assert!(!query_string_exceeds_depth(
            "query=%7B+__typename+%7D&variables=%7B%7D",
            16
        ));
    }
}
