//! Seeded generative fuzz: random bodies around the GraphQL keys, and well-typed operations of
//! the supergraph with random variables (numbers at every integer width, hostile strings, the
//! wrong kind on purpose), none of which may get a server fault or go unanswered.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::{ANSWER_WITHIN, Case, assert_healthy, generous, nested, server_fault};
use crate::common::{self, RouterStack};

/// A random JSON value: nesting, strings with control characters, bidi overrides and astral
/// characters, numbers at and past every integer width.
fn random_json(rng: &mut StdRng, depth: usize) -> String {
    let pick = if depth == 0 {
        rng.gen_range(0..5)
    } else {
        rng.gen_range(0..7)
    };
    match pick {
        0 => "null".to_owned(),
        1 => if rng.r#gen() { "true" } else { "false" }.to_owned(),
        2 => random_number(rng),
        3 | 4 => serde_json::to_string(&random_string(rng)).unwrap(),
        5 => {
            let n = rng.gen_range(0..4);
            let items: Vec<String> = (0..n).map(|_| random_json(rng, depth - 1)).collect();
            format!("[{}]", items.join(","))
        }
        _ => {
            let n = rng.gen_range(0..4);
            let fields: Vec<String> = (0..n)
                .map(|_| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(&random_string(rng)).unwrap(),
                        random_json(rng, depth - 1)
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

fn random_number(rng: &mut StdRng) -> String {
    const EDGES: &[&str] = &[
        "0",
        "-0",
        "1",
        "-1",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "9007199254740993",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "1e308",
        "1e999",
        "-1e999",
        "1.5",
        "0.1e-400",
        "123456789012345678901234567890",
    ];
    if rng.gen_bool(0.5) {
        EDGES[rng.gen_range(0..EDGES.len())].to_owned()
    } else {
        rng.r#gen::<i64>().to_string()
    }
}

fn random_string(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Siti",
        " ",
        "\u{0}",
        "\u{7}",
        "\u{1b}[31m",
        "\u{7f}",
        "\u{85}",
        "\u{202e}",
        "\u{2066}",
        "\u{200b}",
        "\u{feff}",
        "\u{e0041}",
        "e\u{301}",
        "😀",
        "\u{fffd}",
        "'; DROP TABLE users; --",
        "{",
        "}",
        "[",
        "\"",
        "\\",
        "%00",
        "<script>",
        "ــــ",
        "\u{10ffff}",
    ];
    let n = rng.gen_range(0..8);
    let mut s: String = (0..n)
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect();
    if rng.gen_bool(0.03) {
        s.push_str(&"x".repeat(rng.gen_range(1_000..300_000)));
    }
    s
}

/// A random request body around the GraphQL keys.
fn random_body(rng: &mut StdRng, operations: &[Operation]) -> String {
    let mut fields = Vec::new();
    let keys = [
        "query",
        "variables",
        "extensions",
        "operationName",
        "documentId",
        "other",
    ];
    for _ in 0..rng.gen_range(0..5) {
        let key = keys[rng.gen_range(0..keys.len())];
        let value = match key {
            "query" if rng.gen_bool(0.6) && !operations.is_empty() => {
                serde_json::to_string(&operations[rng.gen_range(0..operations.len())].document)
                    .unwrap()
            }
            _ if rng.gen_bool(0.05) => nested("[", "]", rng.gen_range(10..3_000)),
            _ => {
                let depth = rng.gen_range(0..6);
                random_json(rng, depth)
            }
        };
        fields.push(format!("{}:{value}", serde_json::to_string(key).unwrap()));
    }
    format!("{{{}}}", fields.join(","))
}

/// A well-typed operation of the supergraph: one root field, every argument a variable.
struct Operation {
    document: String,
    variables: Vec<(String, Shape)>,
}

#[derive(Clone, Debug)]
enum Shape {
    Named(String, bool),
    List(Box<Shape>, bool),
}

struct Schema {
    inputs: std::collections::HashMap<String, Vec<(String, Shape)>>,
    enums: std::collections::HashMap<String, Vec<String>>,
}

fn shape(ty: &async_graphql_parser::types::Type) -> Shape {
    use async_graphql_parser::types::BaseType;
    match &ty.base {
        BaseType::Named(name) => Shape::Named(name.to_string(), !ty.nullable),
        BaseType::List(inner) => Shape::List(Box::new(shape(inner)), !ty.nullable),
    }
}

fn type_text(shape: &Shape) -> String {
    match shape {
        Shape::Named(name, required) => format!("{name}{}", if *required { "!" } else { "" }),
        Shape::List(inner, required) => {
            format!("[{}]{}", type_text(inner), if *required { "!" } else { "" })
        }
    }
}

/// Every root field of the client-facing supergraph as an operation with variables.
fn operations_of_the_supergraph() -> (Vec<Operation>, Schema) {
    use async_graphql_parser::types::{TypeKind, TypeSystemDefinition};
    let sdl =
        std::fs::read_to_string(common::repo_root().join("schema/supergraph.graphql")).unwrap();
    let document = async_graphql_parser::parse_schema(&sdl).unwrap();
    let mut schema = Schema {
        inputs: Default::default(),
        enums: Default::default(),
    };
    let mut roots = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        match &ty.node.kind {
            TypeKind::InputObject(input) => {
                schema.inputs.insert(
                    name,
                    input
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), shape(&f.node.ty.node)))
                        .collect(),
                );
            }
            TypeKind::Enum(e) => {
                schema.enums.insert(
                    name,
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                );
            }
            TypeKind::Object(object) if ["Query", "Mutation"].contains(&name.as_str()) => {
                for field in &object.fields {
                    let field_name = field.node.name.node.to_string();
                    if field_name.starts_with('_') {
                        continue; // federation internals (_entities, _service)
                    }
                    let args: Vec<(String, Shape)> = field
                        .node
                        .arguments
                        .iter()
                        .map(|a| (a.node.name.node.to_string(), shape(&a.node.ty.node)))
                        .collect();
                    let keyword = if name == "Query" { "query" } else { "mutation" };
                    let definitions: Vec<String> = args
                        .iter()
                        .map(|(n, s)| format!("${n}: {}", type_text(s)))
                        .collect();
                    let arguments: Vec<String> =
                        args.iter().map(|(n, _)| format!("{n}: ${n}")).collect();
                    let head = if definitions.is_empty() {
                        String::new()
                    } else {
                        format!("({})", definitions.join(", "))
                    };
                    let call = if arguments.is_empty() {
                        String::new()
                    } else {
                        format!("({})", arguments.join(", "))
                    };
                    // `__typename` is valid under any object type; scalars take no selection.
                    let scalar = [
                        "String", "Int", "Float", "Boolean", "ID", "DateTime", "UUID",
                    ]
                    .iter()
                    .any(|s| {
                        field
                            .node
                            .ty
                            .node
                            .to_string()
                            .trim_matches(|c| c == '[' || c == ']' || c == '!')
                            == *s
                    });
                    let selection = if scalar { "" } else { " { __typename }" };
                    roots.push(Operation {
                        document: format!(
                            "{keyword} Fuzz{head} {{ {field_name}{call}{selection} }}"
                        ),
                        variables: args,
                    });
                }
            }
            _ => {}
        }
    }
    (roots, schema)
}

fn random_value(rng: &mut StdRng, shape: &Shape, schema: &Schema, depth: usize) -> String {
    if rng.gen_bool(0.05) {
        return random_json(rng, 2); // the wrong kind on purpose
    }
    match shape {
        Shape::List(inner, _) if depth < 6 => {
            let items: Vec<String> = (0..rng.gen_range(0..3))
                .map(|_| random_value(rng, inner, schema, depth + 1))
                .collect();
            format!("[{}]", items.join(","))
        }
        Shape::List(..) => "[]".to_owned(),
        Shape::Named(name, _) => match name.as_str() {
            "Int" | "Float" => random_number(rng),
            "Boolean" => rng.r#gen::<bool>().to_string(),
            "ID" | "UUID" if rng.gen_bool(0.5) => format!("\"{}\"", uuid::Uuid::new_v4()),
            _ if schema.enums.contains_key(name) => {
                let values = &schema.enums[name];
                if rng.gen_bool(0.8) {
                    format!("\"{}\"", values[rng.gen_range(0..values.len())])
                } else {
                    serde_json::to_string(&random_string(rng)).unwrap()
                }
            }
            _ if schema.inputs.contains_key(name) && depth < 6 => {
                let mut fields = Vec::new();
                for (field, field_shape) in &schema.inputs[name] {
                    if rng.gen_bool(0.9) {
                        let value = random_value(rng, field_shape, schema, depth + 1);
                        fields.push(format!("\"{field}\":{value}"));
                    }
                }
                format!("{{{}}}", fields.join(","))
            }
            _ => serde_json::to_string(&random_string(rng)).unwrap(),
        },
    }
}

#[tokio::test]
async fn fuzz() {
    let cases: usize = std::env::var("TENOR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("TENOR_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261201);
    let stack = RouterStack::start_with(generous).await;
    let customer = stack.customer().await;
    let token = stack.router.login(&customer).await;
    let (operations, schema) = operations_of_the_supergraph();
    assert!(
        operations.len() > 20,
        "only {} root fields found",
        operations.len()
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for i in 0..cases {
        let body = if rng.gen_bool(0.5) {
            random_body(&mut rng, &operations)
        } else {
            let operation = &operations[rng.gen_range(0..operations.len())];
            let mut variables = Vec::new();
            for (name, shape) in &operation.variables {
                if rng.gen_bool(0.95) {
                    let value = random_value(&mut rng, shape, &schema, 0);
                    variables.push(format!("\"{name}\":{value}"));
                }
            }
            format!(
                "{{\"query\":{},\"variables\":{{{}}}}}",
                serde_json::to_string(&operation.document).unwrap(),
                variables.join(",")
            )
        };
        let case = Case {
            name: format!("fuzz case {i} (seed {seed})"),
            method: reqwest::Method::POST,
            query_string: String::new(),
            content_type: Some("application/json"),
            body: body.into_bytes(),
        };
        let mut request = client
            .post(stack.router.graphql_url())
            .header("content-type", "application/json")
            .body(case.body.clone());
        if rng.gen_bool(0.7) {
            request = request.bearer_auth(&token);
        }
        let outcome = match tokio::time::timeout(ANSWER_WITHIN, request.send()).await {
            Err(_) => Err("no answer within 2 s".to_owned()),
            Ok(Err(e)) => Err(format!("transport error: {e}")),
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                server_fault(status, &text).map_or(Ok(()), Err)
            }
        };
        if let Err(problem) = outcome {
            failures.push(format!(
                "{}: {problem}\n  body: {:.400}",
                case.name,
                String::from_utf8_lossy(&case.body)
            ));
        }
    }
    println!(
        "fuzz: {cases} cases, {} failed (seed {seed})",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_healthy(&stack.router).await;
}
