//! The String/ID inputs of every mutation, walked from the committed supergraph.

use std::collections::BTreeMap;

use async_graphql_parser::types::{
    BaseType, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};

/// One input of one mutation: `path` is the argument and, inside input objects, the fields.
#[derive(Debug, Clone)]
pub(super) struct Input {
    pub(super) mutation: String,
    pub(super) path: Vec<String>,
}

impl Input {
    pub(super) fn name(&self) -> String {
        format!("{}({})", self.mutation, self.path.join("."))
    }
}

pub(super) struct Mutation {
    pub(super) name: String,
    /// (argument name, its type as written in the SDL).
    pub(super) arguments: Vec<(String, String)>,
    pub(super) payload_has_user_errors: bool,
}

/// The String/ID inputs of every mutation, walked from the schema.
pub(super) fn schema_inputs() -> (Vec<Mutation>, Vec<Input>) {
    let path = tenor_harness::repo_root().join("schema/supergraph.graphql");
    let sdl = std::fs::read_to_string(path).unwrap();
    let document = async_graphql_parser::parse_schema(&sdl).unwrap();
    let mut types = BTreeMap::new();
    for definition in &document.definitions {
        if let TypeSystemDefinition::Type(t) = definition {
            types.insert(t.node.name.node.to_string(), t.node.kind.clone());
        }
    }
    let TypeKind::Object(mutation) = &types["Mutation"] else {
        panic!("no Mutation type");
    };
    let mut mutations = Vec::new();
    let mut inputs = Vec::new();
    for field in &mutation.fields {
        let field = &field.node;
        let name = field.name.node.to_string();
        let payload = base_name(&field.ty.node);
        let payload_has_user_errors = matches!(&types.get(&payload), Some(TypeKind::Object(o))
            if o.fields.iter().any(|f| f.node.name.node == "userErrors"));
        let mut arguments = Vec::new();
        for argument in &field.arguments {
            let argument = &argument.node;
            arguments.push((argument.name.node.to_string(), argument.ty.node.to_string()));
            walk(&types, &name, vec![], argument, &mut inputs);
        }
        mutations.push(Mutation {
            name,
            arguments,
            payload_has_user_errors,
        });
    }
    (mutations, inputs)
}

fn base_name(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => base_name(inner),
    }
}

fn walk(
    types: &BTreeMap<String, TypeKind>,
    mutation: &str,
    mut path: Vec<String>,
    value: &InputValueDefinition,
    inputs: &mut Vec<Input>,
) {
    path.push(value.name.node.to_string());
    let named = base_name(&value.ty.node);
    match named.as_str() {
        "String" | "ID" => inputs.push(Input {
            mutation: mutation.to_owned(),
            path,
        }),
        _ => {
            if let Some(TypeKind::InputObject(object)) = types.get(&named) {
                for field in &object.fields {
                    walk(types, mutation, path.clone(), &field.node, inputs);
                }
            }
        }
    }
}
