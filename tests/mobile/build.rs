//! Generates one `graphql_client` type per operation in `schema/operations/`, checked against
//! `schema/client.graphql` at compile time, and the table of their persisted-document ids from
//! `schema/operations/manifest.json`. A schema change that breaks an operation the app ships,
//! or an operation that is not in the manifest, fails this build rather than the app.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let schema_dir = manifest_dir.join("../../schema");
    let operations_dir = schema_dir.join("operations");
    println!("cargo:rerun-if-changed={}", operations_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        schema_dir.join("client.graphql").display()
    );

    let mut names: Vec<String> = std::fs::read_dir(&operations_dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", operations_dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "graphql"))
        .map(|path| {
            println!("cargo:rerun-if-changed={}", path.display());
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();

    let ids = persisted_ids(&operations_dir.join("manifest.json"));
    let mut out = String::new();
    for name in &names {
        // graphql_client resolves these paths from this crate's folder.
        writeln!(
            out,
            "#[derive(graphql_client::GraphQLQuery)]\n\
             #[graphql(schema_path = \"../../schema/client.graphql\", \
             query_path = \"../../schema/operations/{name}.graphql\", \
             response_derives = \"Debug, Clone, PartialEq\", \
             variables_derives = \"Debug, Clone\")]\n\
             pub struct {name};\n"
        )
        .unwrap();
    }
    out.push_str("/// Persisted-document id of each operation, by operation name.\n");
    out.push_str("pub const DOCUMENT_IDS: &[(&str, &str)] = &[\n");
    for name in &names {
        let id = ids
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id)
            .unwrap_or_else(|| {
                panic!(
                    "{name} is not in schema/operations/manifest.json: run `tenor-router compose`"
                )
            });
        writeln!(out, "    ({name:?}, {id:?}),").unwrap();
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("operations.rs");
    std::fs::write(target, out).unwrap();
}

fn persisted_ids(manifest: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    json["operations"]
        .as_array()
        .expect("manifest.json lists operations")
        .iter()
        .map(|op| {
            (
                op["name"].as_str().unwrap().to_owned(),
                op["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
