//! `operation_checks`: request rules of the GraphQL spec that hive-router 0.2.19 skips.
//!
//! - A document with several operations needs `operationName` ("GetOperation", GraphQL spec
//!   §6.1): the engine ran the first one instead. An `operationName` the document does not
//!   define is refused saying so (the engine's message was "Failed to normalize GraphQL
//!   operation").
//! - `Int` is a 32-bit signed integer (spec §3.5.1): the engine refuses `2147483648` written
//!   inline but let the same number through as a variable, down to the subgraph. Every variable
//!   typed `Int` — directly, in lists, or as a field of an input object, however nested — is
//!   checked against the range, and refused when it is spelt as a float (`1e3`, `1000.0`,
//!   `1.5`): the engine refuses those with HTTP 200 and a debug-formatted message.
//! - A variable of the wrong kind for a built-in scalar (`"100"` or `[1]` for an `Int`, `7` for a
//!   `String`, `"yes"` for a `Boolean`) or for an input object (`true` for a
//!   `BiometricLoginInput`), wherever it is nested: the engine answered HTTP 200 with Rust debug
//!   text ("Array(Array([Number(Number(1))]))"), or passed it on for the subgraph to refuse.
//!   Messages name the kind found, never echo the value (a string could be anything).
//!
//! - A document that does not parse is answered here (`GRAPHQL_PARSE_FAILED`, the engine's code
//!   and status), never by the engine: graphql-tools 0.5.12 transmutes its parse error's
//!   borrowed tokens to `'static` (`parser/query/error.rs`) and hive-router formats the error
//!   after the request's query string is freed — a use-after-free that, in a debug build, aborted
//!   a worker during fuzzing ("copy_nonoverlapping … overlap" while displaying a `Token`) and in
//!   a release build could copy freed memory into an error message. Our parse runs while the
//!   query is alive and formats at once.
//!
//! - On a WebSocket, a document the schema refuses (an unknown field, a wrong argument, a limit
//!   of `limits` exceeded) is answered with the validation errors themselves — message, location
//!   and code, the same as over HTTP. hive-router 0.2.19 flattens them there into one error
//!   reading "Validation errors", which tells an app developer nothing.
//!
//! - A document is answered with at most [`MAX_VALIDATION_ERRORS`] validation errors, then one
//!   saying validation stopped (`TooManyValidationErrors`), over HTTP and WebSocket, as
//!   graphql-js does: the engine reports every one, so a 5 KB anonymous document of a thousand
//!   unknown fields was answered with 180 KB of errors.
//!
//! The spec rules are request errors (`400 BAD_USER_INPUT`); all are answered before planning,
//! so nothing reaches a subgraph.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql_parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use hive_router::GraphQLError;
use hive_router::config::HiveRouterConfig;
use hive_router::config::supergraph::SupergraphSource;
use hive_router::executor::plugins::hooks::on_graphql_params::{
    OnGraphQLParamsStartHookPayload, OnGraphQLParamsStartHookResult,
};
use hive_router::executor::plugins::hooks::on_graphql_parse::{
    OnGraphQLParseHookResult, OnGraphQLParseStartHookPayload,
};
use hive_router::executor::plugins::hooks::on_graphql_validation::{
    OnGraphQLValidationStartHookPayload, OnGraphQLValidationStartHookResult,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{
    EndHookPayload as _, RouterPlugin, StartHookPayload as _,
};
use hive_router::graphql_tools::static_graphql::query::{
    Document, OperationDefinition, Type as QueryType, VariableDefinition,
};
use hive_router::graphql_tools::validation::rules::default_rules_validation_plan;
use hive_router::graphql_tools::validation::utils::ValidationError;
use hive_router::graphql_tools::validation::validate::{ValidationPlan, validate};
use hive_router::http::StatusCode;
use hive_router::pipeline::validation::max_aliases_rule::MaxAliasesRule;
use hive_router::pipeline::validation::max_depth_rule::MaxDepthRule;
use hive_router::pipeline::validation::max_directives_rule::MaxDirectivesRule;
use hive_router::query_planner::consumer_schema::ConsumerSchema;
use hive_router::sonic_rs::{JsonContainerTrait as _, JsonValueTrait as _, Value};
use serde::Deserialize;

use super::syntax::{
    KnownGood, PARSE_FAILED, Parsed, parse, parse_failed_response, prefers_plain_json,
};

/// Input values nest no deeper than this in our schema; deeper JSON is refused earlier anyway.
const MAX_NESTING: usize = 32;

/// Operation names longer than this are refused. A name says what an app does
/// (`WatchLoanStatus`); the engine writes the request's into every request's log line, so a
/// 100 KB name made each request a 100 KB line (found by probing, 2026-12-05).
pub const MAX_OPERATION_NAME: usize = 128;

/// Validation errors answered for one document at most (graphql-js's `maxErrors`), then one more
/// saying validation stopped: enough to fix a document by, not a multiplier of its size.
pub const MAX_VALIDATION_ERRORS: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationChecksConfig {}

/// A type as written in the schema or an operation: a name, list levels, nullability.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Named(String),
    List(Box<Shape>),
}

/// Input object name → its fields and their shapes.
type InputTypes = HashMap<String, Vec<(String, Shape)>>;

pub struct OperationChecksPlugin {
    inputs: Arc<InputTypes>,
    known_good: KnownGood,
    /// What the engine validates a WebSocket operation against: the client-facing schema and
    /// its plan (the spec's rules and the configured `limits`).
    schema: ConsumerSchema,
    plan: ValidationPlan,
}

#[hive_router::async_trait]
impl RouterPlugin for OperationChecksPlugin {
    type Config = OperationChecksConfig;

    fn plugin_name() -> &'static str {
        "operation_checks"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let _: OperationChecksConfig = payload.config()?;
        let SupergraphSource::File {
            path: Some(path), ..
        } = &payload.router_config().supergraph
        else {
            return Err("operation_checks needs a supergraph file".into());
        };
        let sdl = std::fs::read_to_string(&path.absolute)
            .map_err(|e| format!("operation_checks: cannot read {}: {e}", path.absolute))?;
        let inputs = input_types(&sdl)?;
        let schema = crate::operations::consumer_schema(&sdl)
            .map_err(|e| format!("operation_checks: {e}"))?;
        let plan = validation_plan(payload.router_config());
        payload.initialize_plugin(OperationChecksPlugin {
            inputs: Arc::new(inputs),
            known_good: KnownGood::default(),
            schema,
            plan,
        })
    }

    /// WebSocket operations arrive here already parsed (HTTP ones with `graphql_params: None`).
    /// An early answer from this hook reaches a WebSocket client as the operation's result;
    /// from the parse hook it would become `INTERNAL_SERVER_ERROR` (hive-router 0.2.19), so
    /// WebSocket operations are checked here, parsing the document once more (they are few:
    /// one subscription per screen).
    async fn on_graphql_params<'exec>(
        &'exec self,
        payload: OnGraphQLParamsStartHookPayload<'exec>,
    ) -> OnGraphQLParamsStartHookResult<'exec> {
        let Some(params) = &payload.graphql_params else {
            return payload.proceed();
        };
        payload.context.insert(super::CheckedFromParams);
        let Some(query) = params.query.as_deref() else {
            return payload.proceed();
        };
        let document = match parse(query) {
            Parsed::Document(document) => document,
            Parsed::TooLong => return payload.proceed(), // the engine refuses it, safely
            Parsed::SyntaxError(message) => {
                return payload.end_with_graphql_error(
                    GraphQLError::from_message_and_code(message, PARSE_FAILED),
                    StatusCode::BAD_REQUEST,
                );
            }
        };
        if let Err(message) = check(
            &document,
            params.operation_name.as_deref(),
            &params.variables,
            &self.inputs,
        ) {
            return payload.end_with_graphql_error(
                GraphQLError::from_message_and_code(message, "BAD_USER_INPUT"),
                StatusCode::BAD_REQUEST,
            );
        }
        let refused = validate(&self.schema.document, &document, &self.plan);
        if refused.is_empty() {
            return payload.proceed();
        }
        let refused = capped(&refused).unwrap_or(refused);
        // Shaped as over HTTP (`error_codes`, which the engine does not call for a socket):
        // `GRAPHQL_VALIDATION_FAILED`, the rule in `extensions.reason`.
        let errors = refused.iter().map(|refusal| {
            let mut error = GraphQLError::from(refusal);
            super::error_codes::translate(&mut error, false);
            error
        });
        payload.end_with_graphql_errors(errors, StatusCode::BAD_REQUEST)
    }

    /// HTTP operations: checked on the document the engine parsed (and caches).
    async fn on_graphql_parse<'exec>(
        &'exec self,
        payload: OnGraphQLParseStartHookPayload<'exec>,
    ) -> OnGraphQLParseHookResult<'exec> {
        if payload.context.contains::<super::CheckedFromParams>() {
            return payload.proceed();
        }
        if let Some(query) = payload.graphql_params.query.as_deref()
            && !self.known_good.contains(query)
        {
            match parse(query) {
                Parsed::SyntaxError(message) => {
                    let ok_for_errors = prefers_plain_json(payload.router_http_request.headers);
                    return payload
                        .end_with_response(parse_failed_response(&message, ok_for_errors));
                }
                Parsed::Document(_) => self.known_good.insert(query),
                Parsed::TooLong => {} // the engine refuses it, safely
            }
        }
        let params = payload.graphql_params;
        let inputs = self.inputs.clone();
        payload.on_end(move |end| {
            match check(
                &end.document,
                params.operation_name.as_deref(),
                &params.variables,
                &inputs,
            ) {
                Ok(()) => end.proceed(),
                Err(message) => end.end_with_graphql_error(
                    GraphQLError::from_message_and_code(message, "BAD_USER_INPUT"),
                    StatusCode::BAD_REQUEST,
                ),
            }
        })
    }

    /// HTTP operations: the engine's validation errors, capped (WebSocket ones are validated
    /// and capped in `on_graphql_params`).
    async fn on_graphql_validation<'exec>(
        &'exec self,
        payload: OnGraphQLValidationStartHookPayload<'exec>,
    ) -> OnGraphQLValidationStartHookResult<'exec> {
        payload.on_end(|mut end| {
            if let Some(kept) = capped(&end.errors) {
                end.errors = Arc::new(kept);
            }
            end.proceed()
        })
    }
}

/// The first [`MAX_VALIDATION_ERRORS`] of `errors` and one saying how many there were, or
/// `None` when they are few enough to answer as they are.
fn capped(errors: &[ValidationError]) -> Option<Vec<ValidationError>> {
    if errors.len() <= MAX_VALIDATION_ERRORS {
        return None;
    }
    let mut kept = errors[..MAX_VALIDATION_ERRORS].to_vec();
    kept.push(ValidationError {
        locations: Vec::new(),
        message: format!(
            "Too many validation errors: the first {MAX_VALIDATION_ERRORS} of {} are shown; \
             validation stopped there",
            errors.len()
        ),
        error_code: "TooManyValidationErrors",
    });
    Some(kept)
}

/// The engine's plan (hive-router 0.2.19 `lib.rs`): the spec's rules, then each configured limit.
fn validation_plan(router: &HiveRouterConfig) -> ValidationPlan {
    let mut plan = default_rules_validation_plan();
    let limits = &router.limits;
    if let Some(config) = &limits.max_depth {
        plan.add_rule(Box::new(MaxDepthRule {
            config: config.clone(),
        }));
    }
    if let Some(config) = &limits.max_directives {
        plan.add_rule(Box::new(MaxDirectivesRule {
            config: config.clone(),
        }));
    }
    if let Some(config) = &limits.max_aliases {
        plan.add_rule(Box::new(MaxAliasesRule {
            config: config.clone(),
        }));
    }
    plan
}

/// The operation the request selects must be unambiguous, and its `Int` variables in range.
fn check(
    document: &Document,
    operation_name: Option<&str>,
    variables: &HashMap<String, Value>,
    inputs: &InputTypes,
) -> Result<(), String> {
    let too_long = |name: &str| name.len() > MAX_OPERATION_NAME;
    if operation_name.is_some_and(too_long) {
        return Err(format!(
            "operationName is longer than {MAX_OPERATION_NAME} characters"
        ));
    }
    let operations = crate::operations::operations_of(document);
    let selected = match operation_name {
        None if operations.len() > 1 => {
            return Err(
                "Must provide operationName: the document contains several operations".to_owned(),
            );
        }
        None => operations.first().copied(),
        Some(name) => operations
            .iter()
            .copied()
            .find(|op| operation_name_of(op) == Some(name)),
    };
    let Some(operation) = selected else {
        // The engine would answer OPERATION_RESOLUTION_FAILURE "Failed to normalize GraphQL
        // operation"; the spec's wording says what is wrong.
        return match operation_name {
            Some(name) => Err(format!("Unknown operation named \"{name}\"")),
            None => Ok(()),
        };
    };
    if operation_name_of(operation).is_some_and(too_long) {
        return Err(format!(
            "An operation name is at most {MAX_OPERATION_NAME} characters long"
        ));
    }
    for definition in variable_definitions(operation) {
        if let Some(value) = variables.get(&definition.name) {
            let shape = query_shape(&definition.var_type);
            check_value(value, &shape, inputs, 0)
                .map_err(|bad| format!("Variable \"${}\": {bad}", definition.name))?;
        }
    }
    Ok(())
}

fn operation_name_of(op: &OperationDefinition) -> Option<&str> {
    match op {
        OperationDefinition::SelectionSet(_) => None,
        OperationDefinition::Query(q) => q.name.as_deref(),
        OperationDefinition::Mutation(m) => m.name.as_deref(),
        OperationDefinition::Subscription(s) => s.name.as_deref(),
    }
}

fn variable_definitions(op: &OperationDefinition) -> &[VariableDefinition] {
    match op {
        OperationDefinition::SelectionSet(_) => &[],
        OperationDefinition::Query(q) => &q.variable_definitions,
        OperationDefinition::Mutation(m) => &m.variable_definitions,
        OperationDefinition::Subscription(s) => &s.variable_definitions,
    }
}

fn query_shape(ty: &QueryType) -> Shape {
    match ty {
        QueryType::NamedType(name) => Shape::Named(name.clone()),
        QueryType::ListType(inner) => Shape::List(Box::new(query_shape(inner))),
        QueryType::NonNullType(inner) => query_shape(inner),
    }
}

fn schema_shape(ty: &Type) -> Shape {
    match &ty.base {
        BaseType::Named(name) => Shape::Named(name.to_string()),
        BaseType::List(inner) => Shape::List(Box::new(schema_shape(inner))),
    }
}

/// `Err(reason)` when something in `value` cannot be its declared type: an `Int` outside the
/// 32-bit signed range or spelt as a float, a value of the wrong kind for a built-in scalar, or
/// a non-object for an input object. `null` is left to the engine (it knows which are
/// non-null), and so are enums and custom scalars.
fn check_value(
    value: &Value,
    shape: &Shape,
    inputs: &InputTypes,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_NESTING {
        return Err("input nested too deeply".to_owned());
    }
    if value.is_null() {
        return Ok(());
    }
    match shape {
        Shape::Named(name) => match inputs.get(name) {
            Some(fields) => {
                let Some(object) = value.as_object() else {
                    return Err(format!(
                        "{name} is an input object, found {}",
                        kind_of(value)
                    ));
                };
                for (field, field_shape) in fields {
                    if let Some(field_value) = object.get(field) {
                        check_value(field_value, field_shape, inputs, depth + 1)
                            .map_err(|bad| format!("field \"{field}\": {bad}"))?;
                    }
                }
                Ok(())
            }
            None => scalar_problem(name, value).map_or(Ok(()), Err),
        },
        Shape::List(item) => match value.as_array() {
            Some(items) => items
                .iter()
                .try_for_each(|v| check_value(v, item, inputs, depth + 1)),
            // A single value stands for a one-item list (input coercion).
            None => check_value(value, item, inputs, depth + 1),
        },
    }
}

/// What is wrong with `value` for the built-in scalar `name`, if anything (spec §3.5: input
/// coercion). Other named types (enums, custom scalars) are not judged here.
fn scalar_problem(name: &str, value: &Value) -> Option<String> {
    let fits = match name {
        "Int" => return int_problem(value),
        "Float" => value.is_number(),
        "String" => value.is_str(),
        "Boolean" => value.is_boolean(),
        // An ID is written as a string or an integer.
        "ID" => value.is_str() || value.is_i64() || value.is_u64(),
        _ => return None,
    };
    (!fits).then(|| format!("{name} cannot represent {}", kind_of(value)))
}

/// A value's JSON kind, for messages that must not repeat the value itself.
fn kind_of(value: &Value) -> &'static str {
    if value.is_boolean() {
        "a boolean"
    } else if value.is_number() {
        "a number"
    } else if value.is_str() {
        "a string"
    } else if value.is_array() {
        "a list"
    } else if value.is_object() {
        "an object"
    } else {
        "null"
    }
}

/// What is wrong with a number sent for an `Int`, if anything. JSON has one kind of number, so
/// the spelling decides: `1000` is an integer, `1000.0`, `1e3` and `1.5` are not (spec §3.5.1:
/// only integer input values are accepted). The engine refuses those too, but with HTTP 200
/// and its own debug text ("Number(Number(1000.0))"); here they get a 400 and a plain message.
fn int_problem(value: &Value) -> Option<String> {
    let out_of_range = || format!("Int cannot represent non 32-bit signed integer value: {value}");
    if !value.is_number() {
        return Some(format!("Int cannot represent {}", kind_of(value)));
    }
    if let Some(i) = value.as_i64() {
        return i32::try_from(i).is_err().then(out_of_range);
    }
    if value.as_u64().is_some() {
        return Some(out_of_range()); // above i64::MAX
    }
    // A whole number too large for 32 bits says so first, as it would spelt as an integer.
    let beyond_i32 = |f: f64| f < f64::from(i32::MIN) || f > f64::from(i32::MAX);
    if value
        .as_f64()
        .is_some_and(|f| f.fract() == 0.0 && beyond_i32(f))
    {
        return Some(out_of_range());
    }
    Some(format!(
        "Int cannot represent non-integer value: {value} (send a whole number, without a decimal point or exponent)"
    ))
}

/// Every input object of the supergraph with its fields' shapes.
fn input_types(sdl: &str) -> Result<InputTypes, String> {
    let document = async_graphql_parser::parse_schema(sdl)
        .map_err(|e| format!("operation_checks: cannot parse the supergraph: {e}"))?;
    let mut inputs = InputTypes::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        if let TypeKind::InputObject(object) = &ty.node.kind {
            let fields = object
                .fields
                .iter()
                .map(|f| (f.node.name.node.to_string(), schema_shape(&f.node.ty.node)))
                .collect();
            inputs.insert(ty.node.name.node.to_string(), fields);
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hive_router::graphql_tools::parser::parse_query;
    use hive_router::sonic_rs;

    const SDL: &str = r#"
        input Outer { inner: Inner, counts: [Int!], label: String }
        input Inner { amount: Int! }
        type Query { a: Int }
    "#;

    fn run(query: &str, name: Option<&str>, variables: &str) -> Result<(), String> {
        let document = parse_query::<String>(query).unwrap().into_static();
        let variables: HashMap<String, Value> = sonic_rs::from_str(variables).unwrap();
        check(&document, name, &variables, &input_types(SDL).unwrap())
    }

    #[test]
    fn several_operations_need_a_name() {
        let doc = "query A { a } query B { a }";
        assert!(run(doc, None, "{}").unwrap_err().contains("operationName"));
        assert_eq!(run(doc, Some("B"), "{}"), Ok(()));
        assert_eq!(
            run(doc, Some("C"), "{}"),
            Err("Unknown operation named \"C\"".to_owned())
        );
        assert_eq!(run("query A { a }", None, "{}"), Ok(()));
        assert_eq!(run("{ a }", None, "{}"), Ok(()));
        // Fragments are not operations.
        assert_eq!(
            run("query A { ...F } fragment F on Query { a }", None, "{}"),
            Ok(())
        );
    }

    #[test]
    fn operation_names_are_at_most_128_characters() {
        let name = "Q".repeat(MAX_OPERATION_NAME);
        assert_eq!(run(&format!("query {name} {{ a }}"), None, "{}"), Ok(()));
        assert_eq!(
            run(&format!("query {name} {{ a }}"), Some(&name), "{}"),
            Ok(())
        );
        let long = "Q".repeat(MAX_OPERATION_NAME + 1);
        let refused = run(&format!("query {long} {{ a }}"), None, "{}").unwrap_err();
        assert!(refused.contains("at most 128"), "{refused}");
        // Named in the request too: refused before anything echoes the name back.
        let refused = run("query A { a }", Some(&long), "{}").unwrap_err();
        assert!(
            !refused.contains(&long) && refused.contains("128"),
            "{refused}"
        );
    }

    #[test]
    fn int_variables_are_32_bit_everywhere() {
        let doc = "query A($n: Int, $l: [Int], $o: Outer) { a }";
        assert_eq!(
            run(doc, None, r#"{"n": 2147483647, "l": [-2147483648]}"#),
            Ok(())
        );
        for bad in [
            r#"{"n": 2147483648}"#,
            r#"{"n": -2147483649}"#,
            r#"{"n": 18446744073709551615}"#,
            r#"{"n": 1e20}"#,
            r#"{"l": [1, 2147483648]}"#,
            r#"{"o": {"inner": {"amount": 9999999999}}}"#,
            r#"{"o": {"counts": [3000000000]}}"#,
        ] {
            let refused = run(doc, None, bad).unwrap_err();
            assert!(refused.contains("32-bit"), "{bad}: {refused}");
        }
        // A number spelt as a float is not an Int, whole or not, wherever it is.
        for bad in [
            r#"{"n": 1e3}"#,
            r#"{"n": 1000.0}"#,
            r#"{"n": 1.5}"#,
            r#"{"n": -0.5}"#,
            r#"{"l": [1, 2.0]}"#,
            r#"{"o": {"inner": {"amount": 5e2}}}"#,
        ] {
            let refused = run(doc, None, bad).unwrap_err();
            assert!(refused.contains("non-integer value"), "{bad}: {refused}");
        }
        // In-range nested values and nulls pass.
        assert_eq!(
            run(
                doc,
                None,
                r#"{"n": null, "o": {"inner": {"amount": 5}, "label": "x", "counts": 3}}"#
            ),
            Ok(())
        );
    }

    #[test]
    fn values_of_the_wrong_kind_are_refused_by_kind_without_echoing_them() {
        let doc = "query A($n: Int, $l: [Int], $o: Outer, $s: String, $b: Boolean, $f: Float, $i: ID, $e: Colour) { a }";
        for (bad, says) in [
            (r#"{"n": "100"}"#, "Int cannot represent a string"),
            (r#"{"n": true}"#, "Int cannot represent a boolean"),
            (r#"{"n": [[[1]]]}"#, "Int cannot represent a list"),
            (r#"{"n": {"a": 1}}"#, "Int cannot represent an object"),
            (r#"{"l": [1, "2"]}"#, "Int cannot represent a string"),
            (
                r#"{"o": true}"#,
                "Outer is an input object, found a boolean",
            ),
            (r#"{"o": [{}]}"#, "Outer is an input object, found a list"),
            (
                r#"{"o": {"inner": "secret-ish"}}"#,
                "field \"inner\": Inner is an input object, found a string",
            ),
            (r#"{"o": {"label": 7}}"#, "String cannot represent a number"),
            (r#"{"s": {"x": 1}}"#, "String cannot represent an object"),
            (r#"{"b": "yes"}"#, "Boolean cannot represent a string"),
            (r#"{"f": "1.5"}"#, "Float cannot represent a string"),
            (r#"{"i": 1.5}"#, "ID cannot represent a number"),
            (r#"{"i": {}}"#, "ID cannot represent an object"),
        ] {
            let refused = run(doc, None, bad).unwrap_err();
            assert!(refused.contains(says), "{bad}: {refused}");
            assert!(!refused.contains("secret-ish"), "{refused}");
        }
        let good = r#"{"s": "x", "b": false, "f": 2, "i": 42, "e": 42, "o": {"inner": null}}"#;
        assert_eq!(
            run(doc, None, good),
            Ok(()),
            "enums and custom scalars are the engine's"
        );
        assert_eq!(run(doc, None, r#"{"i": "abc", "f": 1.5}"#), Ok(()));
    }

    #[test]
    fn validation_errors_are_capped_with_one_saying_how_many_there_were() {
        let error = |i: usize| ValidationError {
            locations: Vec::new(),
            message: format!("error {i}"),
            error_code: "FieldsOnCorrectType",
        };
        let few: Vec<_> = (0..MAX_VALIDATION_ERRORS).map(error).collect();
        assert!(capped(&few).is_none(), "100 are answered as they are");
        let many: Vec<_> = (0..250).map(error).collect();
        let kept = capped(&many).unwrap();
        assert_eq!(kept.len(), MAX_VALIDATION_ERRORS + 1);
        assert_eq!(kept[99].message, "error 99");
        assert_eq!(kept[100].error_code, "TooManyValidationErrors");
        assert!(
            kept[100].message.contains("first 100 of 250"),
            "{}",
            kept[100].message
        );
    }

    #[test]
    fn only_the_selected_operation_counts() {
        let doc = "query A($n: Int) { a } query B($n: Float) { a }";
        assert_eq!(run(doc, Some("B"), r#"{"n": 9999999999}"#), Ok(()));
        assert!(run(doc, Some("A"), r#"{"n": 9999999999}"#).is_err());
    }
}
