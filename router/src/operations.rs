//! The mobile app's operations (`schema/operations/*.graphql`): checked against the supergraph
//! on every composition, and published to the router as a persisted-documents manifest.
//!
//! The app ships with these documents compiled in and cannot be updated in step with the API,
//! so a schema change that would break one of them must fail composition, not a customer's
//! phone. The same files become the Apollo-format manifest the router serves them from: the app
//! sends only `documentId` (the body's SHA-256), and with client name `tenor-mobile` the router
//! refuses anything that is not in it.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context as _;
use hive_router::graphql_tools::parser::query::{
    Definition, Document, OperationDefinition, parse_query,
};
use hive_router::graphql_tools::parser::schema::parse_schema;
use hive_router::graphql_tools::validation::rules::default_rules_validation_plan;
use hive_router::graphql_tools::validation::validate::validate;
use hive_router::query_planner::consumer_schema::ConsumerSchema;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::compose::Problems;

/// One `<Name>.graphql` file: exactly one named operation, named like the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub name: String,
    /// `query`, `mutation` or `subscription`.
    pub kind: &'static str,
    /// The document exactly as the app sends it (file content without trailing whitespace).
    pub body: String,
}

impl Operation {
    /// The persisted-document id: hex SHA-256 of the body (Apollo's convention).
    pub fn id(&self) -> String {
        format!("{:x}", Sha256::digest(self.body.as_bytes()))
    }
}

/// Reads every `*.graphql` in `dir` (sorted by name); each must hold one operation named like
/// its file, so a manifest entry, a log line and a file always agree.
pub fn load(dir: &Path) -> anyhow::Result<Vec<Operation>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut operations = Vec::new();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?
            .trim_end()
            .to_owned();
        match single_operation(&body) {
            Ok((name, _)) if name != stem => problems.push(format!(
                "{}: the operation is named {name}; name the file {name}.graphql",
                file.display()
            )),
            Ok((name, kind)) => operations.push(Operation { name, kind, body }),
            Err(e) => problems.push(format!("{}: {e}", file.display())),
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems).into());
    }
    Ok(operations)
}

/// The operations of a document, in order (its fragments left out).
pub fn operations_of<'d, 'a>(
    document: &'d Document<'a, String>,
) -> Vec<&'d OperationDefinition<'a, String>> {
    document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Operation(op) => Some(op),
            Definition::Fragment(_) => None,
        })
        .collect()
}

fn single_operation(body: &str) -> Result<(String, &'static str), String> {
    let document = parse_query::<String>(body).map_err(|e| format!("does not parse: {e}"))?;
    let operations = operations_of(&document);
    let [operation] = operations.as_slice() else {
        return Err(format!(
            "holds {} operations; put each in its own file",
            operations.len()
        ));
    };
    let (name, kind) = match operation {
        OperationDefinition::Query(q) => (q.name.clone(), "query"),
        OperationDefinition::Mutation(m) => (m.name.clone(), "mutation"),
        OperationDefinition::Subscription(s) => (s.name.clone(), "subscription"),
        OperationDefinition::SelectionSet(_) => (None, "query"),
    };
    let name = name.ok_or("the operation has no name")?;
    Ok((name, kind))
}

/// The client-facing schema of `supergraph`, what the router serves and validates operations
/// against: `@inaccessible` pruned, federation internals stripped.
pub fn consumer_schema(supergraph: &str) -> Result<ConsumerSchema, String> {
    let supergraph = parse_schema::<String>(supergraph)
        .map_err(|e| format!("the supergraph does not parse: {e}"))?
        .into_static();
    Ok(ConsumerSchema::new_from_supergraph(&supergraph))
}

/// Validates every operation against [`consumer_schema`]. One problem per error, naming the
/// operation.
pub fn check(supergraph: &str, operations: &[Operation]) -> Result<(), Problems> {
    let schema = consumer_schema(supergraph).map_err(|e| Problems(vec![e]))?;
    let plan = default_rules_validation_plan();
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for operation in operations {
        if !names.insert(&operation.name) {
            problems.push(format!("{}: two operations with this name", operation.name));
        }
        let document = match parse_query::<String>(&operation.body) {
            Ok(d) => d.into_static(),
            Err(e) => {
                problems.push(format!("{}: does not parse: {e}", operation.name));
                continue;
            }
        };
        for error in validate(&schema.document, &document, &plan) {
            problems.push(format!("{} would break: {}", operation.name, error.message));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    version: u8,
    operations: Vec<ManifestOperation<'a>>,
}

#[derive(Serialize)]
struct ManifestOperation<'a> {
    id: String,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    body: &'a str,
}

/// The Apollo persisted-query manifest (format `apollo-persisted-query-manifest`, version 1)
/// hive-router's file storage reads.
pub fn manifest(operations: &[Operation]) -> String {
    let manifest = Manifest {
        format: "apollo-persisted-query-manifest",
        version: 1,
        operations: operations
            .iter()
            .map(|op| ManifestOperation {
                id: op.id(),
                name: &op.name,
                kind: op.kind,
                body: &op.body,
            })
            .collect(),
    };
    let mut json = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERGRAPH: &str = r#"
schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION) { query: Query }
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
enum join__Graph { USER @join__graph(name: "user", url: "http://u") }
type Query @join__type(graph: USER) { me: User }
type User @join__type(graph: USER, key: "id") { id: ID! email: String }
"#;

    fn op(body: &str) -> Operation {
        let (name, kind) = single_operation(body).unwrap();
        Operation {
            name,
            kind,
            body: body.to_owned(),
        }
    }

    #[test]
    fn a_valid_operation_passes_and_a_removed_field_names_the_operation() {
        let me = op("query Me { me { id email } }");
        assert_eq!(check(SUPERGRAPH, std::slice::from_ref(&me)), Ok(()));
        let without_email = SUPERGRAPH.replace(" email: String", "");
        let err = check(&without_email, &[me]).unwrap_err().to_string();
        assert!(err.contains("Me would break"), "{err}");
        assert!(err.contains("email"), "{err}");
    }

    #[test]
    fn ids_are_the_sha256_of_the_body() {
        let me = op("query Me { me { id } }");
        // Known answer: `printf 'query Me { me { id } }' | sha256sum`.
        assert_eq!(
            me.id(),
            "2e3e49f19828396c35f7f9415f5558239d37f5d85b674851f58bf43337f5aaab"
        );
        let manifest: serde_json::Value = serde_json::from_str(&manifest(&[me])).unwrap();
        assert_eq!(manifest["format"], "apollo-persisted-query-manifest");
        assert_eq!(manifest["operations"][0]["name"], "Me");
        assert_eq!(manifest["operations"][0]["type"], "query");
    }

    #[test]
    fn anonymous_and_multi_operation_files_are_refused() {
        assert!(single_operation("{ me { id } }").is_err());
        assert!(single_operation("query A { me { id } } query B { me { id } }").is_err());
    }
}
