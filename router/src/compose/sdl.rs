//! Reading a parsed SDL document for the checks: its type definitions, the `@link` URLs on its
//! schema, the subgraphs in `join__Graph`, and every directive it applies.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql_parser::Positioned;
use async_graphql_parser::types::{
    ConstDirective, ServiceDocument, TypeDefinition, TypeKind, TypeSystemDefinition,
};
use async_graphql_value::ConstValue;

pub(super) fn type_definitions(doc: &ServiceDocument) -> Vec<&TypeDefinition> {
    doc.definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some(&t.node),
            _ => None,
        })
        .collect()
}

/// URLs of every `@link` on `schema` / `extend schema`.
pub(super) fn link_urls(doc: &ServiceDocument) -> Vec<String> {
    doc.definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Schema(s) => Some(&s.node.directives),
            _ => None,
        })
        .flatten()
        .filter(|d| d.node.name.node.as_str() == "link")
        .filter_map(|d| string_argument(&d.node, "url"))
        .collect()
}

/// `join__Graph` enum values → (subgraph name → URL) from `@join__graph(name:, url:)`.
pub(super) fn join_graphs(doc: &ServiceDocument) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for t in type_definitions(doc) {
        if t.name.node.as_str() != "join__Graph" {
            continue;
        }
        if let TypeKind::Enum(e) = &t.kind {
            for v in &e.values {
                for d in &v.node.directives {
                    if d.node.name.node.as_str() == "join__graph"
                        && let (Some(name), Some(url)) = (
                            string_argument(&d.node, "name"),
                            string_argument(&d.node, "url"),
                        )
                    {
                        out.insert(name, url);
                    }
                }
            }
        }
    }
    out
}

/// Names of every directive applied anywhere in the document (not merely defined).
pub(super) fn directive_usages(doc: &ServiceDocument) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |ds: &[Positioned<ConstDirective>]| {
        for d in ds {
            out.insert(d.node.name.node.to_string());
        }
    };
    for def in &doc.definitions {
        match def {
            TypeSystemDefinition::Schema(s) => add(&s.node.directives),
            TypeSystemDefinition::Directive(d) => {
                for a in &d.node.arguments {
                    add(&a.node.directives);
                }
            }
            TypeSystemDefinition::Type(t) => {
                let t = &t.node;
                add(&t.directives);
                match &t.kind {
                    TypeKind::Scalar | TypeKind::Union(_) => {}
                    TypeKind::Object(o) => {
                        for f in &o.fields {
                            add(&f.node.directives);
                            for a in &f.node.arguments {
                                add(&a.node.directives);
                            }
                        }
                    }
                    TypeKind::Interface(i) => {
                        for f in &i.fields {
                            add(&f.node.directives);
                            for a in &f.node.arguments {
                                add(&a.node.directives);
                            }
                        }
                    }
                    TypeKind::Enum(e) => {
                        for v in &e.values {
                            add(&v.node.directives);
                        }
                    }
                    TypeKind::InputObject(i) => {
                        for f in &i.fields {
                            add(&f.node.directives);
                        }
                    }
                }
            }
        }
    }
    out
}

fn string_argument(d: &ConstDirective, name: &str) -> Option<String> {
    match d.get_argument(name).map(|v| &v.node) {
        Some(ConstValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}
