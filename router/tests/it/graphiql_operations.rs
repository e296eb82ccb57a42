//! The back-office GraphiQL's saved staff operations (`router/graphiql/operations/`, opened as
//! tabs on a staff member's first visit): each must be valid against the committed supergraph,
//! need no scope its header does not name, come with example variables that fit it, and run on
//! the real stack for a staff member holding exactly the header's scopes.
//!
//! The header format is described in `router/graphiql/operations.mjs`, which bundles the files.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use async_graphql_parser::types::{
    BaseType, DocumentOperations, OperationDefinition, OperationType, Selection, SelectionSet,
    Type, TypeKind, TypeSystemDefinition,
};
use async_graphql_parser::{Positioned, parse_query, parse_schema};
use async_graphql_value::ConstValue;
use serde_json::Value;
use tenor_router::operations::{Operation, check};

use crate::common::{RouterStack, eventually, repo_root};
use crate::graphiql_browser::borderline_submission;

/// One `NN-<Name>.graphql` file with what its header says.
struct Saved {
    file: String,
    operation: Operation,
    scopes: Vec<String>,
    example: serde_json::Map<String, Value>,
}

fn operations_dir() -> PathBuf {
    repo_root().join("router/graphiql/operations")
}

fn supergraph() -> String {
    std::fs::read_to_string(repo_root().join("schema/supergraph.graphql")).unwrap()
}

/// Every saved operation in tab order; panics naming the file on a malformed one.
fn saved_operations() -> Vec<Saved> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(operations_dir())
        .expect("router/graphiql/operations")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "graphql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no saved staff operations");
    files
        .iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(path).unwrap();
            parse_saved(&file, &text).unwrap_or_else(|problem| panic!("{file}: {problem}"))
        })
        .collect()
}

fn parse_saved(file: &str, text: &str) -> Result<Saved, String> {
    let stem = file.strip_suffix(".graphql").unwrap();
    let (_, file_name) = stem
        .split_once('-')
        .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .ok_or("name it NN-<OperationName>.graphql")?;

    let document = parse_query(text).map_err(|e| format!("does not parse: {e}"))?;
    let (name, kind) = match &document.operations {
        DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            let (name, op) = ops.iter().next().unwrap();
            let kind = match op.node.ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            (name.to_string(), kind)
        }
        _ => return Err("must hold exactly one named operation".into()),
    };
    if name != file_name {
        return Err(format!(
            "the operation is named {name}; name the file NN-{name}.graphql"
        ));
    }

    let header: Vec<&str> = text
        .lines()
        .take_while(|line| line.starts_with('#'))
        .map(|line| line.trim_start_matches('#').strip_prefix(' ').unwrap_or(""))
        .collect();
    // The page shows the first line's "<Task>: " and the "Variables: " help (operations.mjs).
    if !header.first().is_some_and(|line| line.contains(": ")) {
        return Err("the header must start \"<Task>: what it does\"".into());
    }
    if !header.iter().any(|line| line.starts_with("Variables: ")) {
        return Err("no \"Variables: …\" line in the header".into());
    }
    let scopes: Vec<String> = header
        .iter()
        .find_map(|line| {
            line.strip_prefix("Scope: ")
                .or_else(|| line.strip_prefix("Scopes: "))
        })
        .ok_or("no \"Scope: <scope>\" line in the header")?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let example_at = header
        .iter()
        .position(|line| line.starts_with("Example variables: "))
        .ok_or("no \"Example variables: {…}\" in the header")?;
    let example_text = std::iter::once(&header[example_at]["Example variables: ".len()..])
        .chain(header[example_at + 1..].iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    let example = match serde_json::from_str(&example_text) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(format!(
                "the example variables are not a JSON object: {example_text}"
            ));
        }
    };

    Ok(Saved {
        file: file.to_owned(),
        operation: Operation {
            name,
            kind,
            body: text.trim_end().to_owned(),
        },
        scopes,
        example,
    })
}

/// What `@requiresScopes` asks for, from the supergraph, by type name.
struct ScopeRules {
    types: HashMap<String, TypeRules>,
}

/// A type's own requirement and its fields'.
struct TypeRules {
    own: Option<Requirement>,
    fields: HashMap<String, FieldRule>,
}

struct FieldRule {
    /// The named type the field returns (lists unwrapped).
    returns: String,
    requirement: Option<Requirement>,
}

/// Any one of the inner lists, all of whose scopes are needed (the directive's OR of ANDs).
type Requirement = Vec<Vec<String>>;

impl ScopeRules {
    fn from_supergraph(sdl: &str) -> Self {
        let document = parse_schema(sdl).expect("the supergraph parses");
        let mut types = HashMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let definition = definition.node;
            let fields = match definition.kind {
                TypeKind::Object(object) => object.fields,
                TypeKind::Interface(interface) => interface.fields,
                _ => Vec::new(),
            };
            let fields = fields
                .into_iter()
                .map(|field| {
                    let field = field.node;
                    let rule = FieldRule {
                        returns: named_type(&field.ty.node),
                        requirement: requirement(&field.directives),
                    };
                    (field.name.node.to_string(), rule)
                })
                .collect();
            let own = requirement(&definition.directives);
            types.insert(definition.name.node.to_string(), TypeRules { own, fields });
        }
        Self { types }
    }

    /// Every scope some `@requiresScopes` names.
    fn known_scopes(&self) -> BTreeSet<&str> {
        let requirements = self.types.values().flat_map(|rules| {
            let fields = rules.fields.values().filter_map(|f| f.requirement.as_ref());
            rules.own.iter().chain(fields)
        });
        requirements
            .flatten()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// The fields of `operation` whose requirement `scopes` do not meet, as `Type.field`.
    fn unmet(&self, operation: &OperationDefinition, scopes: &[String]) -> Vec<String> {
        let root = match operation.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        let mut unmet = Vec::new();
        self.walk(root, &operation.selection_set.node, scopes, &mut unmet);
        unmet
    }

    fn walk(
        &self,
        type_name: &str,
        selections: &SelectionSet,
        scopes: &[String],
        unmet: &mut Vec<String>,
    ) {
        let met = |requirement: &Option<Requirement>| {
            requirement.as_ref().is_none_or(|any| {
                any.iter()
                    .any(|all| all.iter().all(|scope| scopes.contains(scope)))
            })
        };
        for selection in &selections.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    if name.starts_with("__") {
                        continue;
                    }
                    let rule = &self.types[type_name].fields[name];
                    let type_requirement =
                        self.types.get(&rule.returns).and_then(|t| t.own.clone());
                    if !met(&rule.requirement) || !met(&type_requirement) {
                        unmet.push(format!("{type_name}.{name}"));
                    }
                    self.walk(&rule.returns, &field.selection_set.node, scopes, unmet);
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment.node.type_condition.as_ref();
                    let on = on.map_or(type_name, |c| c.node.on.node.as_str());
                    self.walk(on, &fragment.node.selection_set.node, scopes, unmet);
                }
                Selection::FragmentSpread(_) => {
                    panic!("saved operations keep their fields inline (no named fragments)")
                }
            }
        }
    }
}

fn named_type(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named_type(inner),
    }
}

fn requirement(
    directives: &[Positioned<async_graphql_parser::types::ConstDirective>],
) -> Option<Requirement> {
    let directive = directives
        .iter()
        .find(|d| d.node.name.node == "requiresScopes")?;
    let (_, scopes) = directive
        .node
        .arguments
        .iter()
        .find(|(name, _)| name.node == "scopes")?;
    let strings = |value: &ConstValue| match value {
        ConstValue::List(items) => items
            .iter()
            .filter_map(|item| match item {
                ConstValue::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    match &scopes.node {
        ConstValue::List(any) => Some(any.iter().map(strings).collect()),
        _ => None,
    }
}

fn operation_definition(saved: &Saved) -> OperationDefinition {
    match parse_query(&saved.operation.body).unwrap().operations {
        DocumentOperations::Multiple(ops) => ops.into_values().next().unwrap().node,
        DocumentOperations::Single(op) => op.node,
    }
}

/// The example variables fit the operation: no unknown name, every required variable given.
fn example_problems(saved: &Saved) -> Vec<String> {
    let definition = operation_definition(saved);
    let declared: HashMap<String, bool> = definition
        .variable_definitions
        .iter()
        .map(|v| {
            let required = !v.node.var_type.node.nullable && v.node.default_value.is_none();
            (v.node.name.node.to_string(), required)
        })
        .collect();
    let mut problems = Vec::new();
    for name in saved.example.keys() {
        if !declared.contains_key(name) {
            problems.push(format!("example variable ${name} is not declared"));
        }
    }
    for (name, required) in &declared {
        if *required && saved.example.get(name).is_none_or(Value::is_null) {
            problems.push(format!("required ${name} has no example value"));
        }
    }
    problems
}

#[test]
fn saved_staff_operations_are_valid_and_name_the_scopes_they_need() {
    let sdl = supergraph();
    let saved = saved_operations();
    let operations: Vec<Operation> = saved.iter().map(|s| s.operation.clone()).collect();
    if let Err(problems) = check(&sdl, &operations) {
        panic!("saved staff operations do not fit schema/supergraph.graphql: {problems}");
    }

    let rules = ScopeRules::from_supergraph(&sdl);
    let known = rules.known_scopes();
    let mut problems = Vec::new();
    for op in &saved {
        for scope in &op.scopes {
            if !known.contains(scope.as_str()) {
                problems.push(format!("{}: no field requires the scope {scope}", op.file));
            }
        }
        let unmet = rules.unmet(&operation_definition(op), &op.scopes);
        if !unmet.is_empty() {
            problems.push(format!(
                "{}: {} need(s) a scope the header does not name ({})",
                op.file,
                unmet.join(", "),
                op.scopes.join(" ")
            ));
        }
        for problem in example_problems(op) {
            problems.push(format!("{}: {problem}", op.file));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Each task the back office needs has its tab.
    let names: BTreeSet<&str> = saved.iter().map(|s| s.operation.name.as_str()).collect();
    for needed in [
        "KycReviewQueue",
        "ReviewKyc",
        "CreditReviewQueue",
        "DecideLoan",
        "LoanSearch",
        "DisburseLoan",
        "CustomerPii",
        "PiiAccessLog",
        "NotificationTemplates",
        "CreateNotificationTemplateVersion",
    ] {
        assert!(names.contains(needed), "no saved operation {needed}");
    }
}

/// The checks above can fail: a field that does not exist, a scope left out of the header and
/// an example that misses a required variable are each caught.
#[test]
fn the_checks_catch_a_missing_field_an_unnamed_scope_and_a_bad_example() {
    let sdl = supergraph();
    let saved = saved_operations();
    let by_name = |name: &str| {
        saved
            .iter()
            .find(|s| s.operation.name == name)
            .unwrap_or_else(|| panic!("no saved operation {name}"))
    };

    let queue = by_name("KycReviewQueue");
    let mut broken = queue.operation.clone();
    broken.body = broken.body.replace("faceMatchScore", "faceMatchScoreTypo");
    assert_ne!(broken.body, queue.operation.body);
    let err = check(&sdl, &[broken]).unwrap_err().to_string();
    assert!(
        err.contains("KycReviewQueue") && err.contains("faceMatchScoreTypo"),
        "{err}"
    );

    let rules = ScopeRules::from_supergraph(&sdl);
    let pii = by_name("CustomerPii");
    let fewer: Vec<String> = pii
        .scopes
        .iter()
        .filter(|s| *s != "kyc:pii:read")
        .cloned()
        .collect();
    assert!(
        rules
            .unmet(&operation_definition(pii), &fewer)
            .contains(&"Kyc.documentNumber".to_owned())
    );

    let mut without_id = parse_saved(
        "99-DisburseLoan.graphql",
        &std::fs::read_to_string(operations_dir().join(&by_name("DisburseLoan").file)).unwrap(),
    )
    .unwrap();
    without_id.example.remove("id");
    assert_eq!(
        example_problems(&without_id),
        ["required $id has no example value"]
    );
}

/// The all-zero id the examples use where a staff member pastes a real one: such an example
/// may only earn a NOT_FOUND-like user error; any other must succeed outright.
const PLACEHOLDER_ID: &str = "00000000-0000-0000-0000-000000000000";

#[tokio::test]
async fn every_saved_operation_runs_for_staff_with_exactly_its_scopes() {
    let stack = RouterStack::start_deciding().await;
    // A submission in the KYC review queue, so that saved operation reads rows (and every field
    // of them, other subgraphs' included) with nothing but its own scope.
    let kyc_id = borderline_submission(&stack).await;
    let mut kyc_queue_rows = Value::Null;
    let mut tokens: HashMap<Vec<String>, String> = HashMap::new();
    for saved in saved_operations() {
        let token = match tokens.get(&saved.scopes) {
            Some(token) => token.clone(),
            None => {
                let scopes: Vec<&str> = saved.scopes.iter().map(String::as_str).collect();
                let staff = stack.staff(&scopes).await;
                let token = stack.router.login(&staff).await;
                tokens.insert(saved.scopes.clone(), token.clone());
                token
            }
        };
        let variables = Value::Object(saved.example.clone());
        let mut response = stack
            .gql(&saved.operation.body, variables.clone(), Some(&token))
            .await;
        if saved.operation.name == "KycReviewQueue" {
            // The simulated vendor scores the submission asynchronously.
            eventually(async || {
                response = stack
                    .gql(&saved.operation.body, variables.clone(), Some(&token))
                    .await;
                kyc_queue_rows = response["data"]["kycReviewQueue"]["nodes"].clone();
                // An error is final: the assertion below reports it.
                !response["errors"].is_null() || kyc_queue_rows.to_string().contains(&kyc_id)
            })
            .await;
        }
        let file = &saved.file;
        assert!(
            response["errors"].is_null(),
            "{file} as staff with {:?} and its example variables: {response}",
            saved.scopes
        );
        let data = response["data"]
            .as_object()
            .unwrap_or_else(|| panic!("{file}: no data: {response}"));
        if saved.operation.kind == "mutation" {
            for (field, payload) in data {
                let user_errors = payload["userErrors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if variables.to_string().contains(PLACEHOLDER_ID) {
                    assert!(
                        user_errors
                            .iter()
                            .all(|e| e["code"].as_str().is_some_and(|c| c.contains("NOT_FOUND"))),
                        "{file}: {field} refused the example for another reason: {response}"
                    );
                } else {
                    assert!(user_errors.is_empty(), "{file}: {response}");
                }
            }
        }
    }
    let row = kyc_queue_rows
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["id"] == kyc_id.as_str()))
        .unwrap_or_else(|| panic!("{kyc_id} is not in {kyc_queue_rows}"));
    assert!(row["faceMatchScore"].is_f64(), "{row}");
    assert!(row["selfieImageUrl"].is_string(), "{row}");
    assert!(row["user"]["id"].is_string(), "{row}");
}
