//! `supergraph.yaml`, read: rover's format parsed and checked, and the subgraph SDL files it
//! names loaded for the composer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use super::Problems;

/// `supergraph.yaml` in rover's format (only what we use: SDL files, not introspection).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupergraphConfig {
    /// e.g. `=2.5.0`: the highest federation spec version a subgraph may link.
    pub federation_version: Option<String>,
    pub subgraphs: BTreeMap<String, SubgraphConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubgraphConfig {
    pub routing_url: String,
    pub schema: SubgraphSchemaSource,
}

/// Rover also accepts `subgraph_url` (introspection) and `graphref`; we compose only committed
/// SDL files, so a build never depends on what happens to be running.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphSchemaSource {
    pub file: PathBuf,
}

impl SupergraphConfig {
    pub fn parse(yaml: &str) -> anyhow::Result<Self> {
        let config: Self = serde_yaml::from_str(yaml).context(
            "supergraph.yaml: expected rover's format \
             (federation_version, subgraphs.<name>.routing_url, subgraphs.<name>.schema.file)",
        )?;
        if config.subgraphs.is_empty() {
            bail!("supergraph.yaml lists no subgraphs");
        }
        if let Some(v) = &config.federation_version {
            parse_federation_version(v)?;
        }
        for (name, s) in &config.subgraphs {
            if !(s.routing_url.starts_with("http://") || s.routing_url.starts_with("https://")) {
                bail!("supergraph.yaml: subgraph {name}: routing_url must be an http(s) URL");
            }
        }
        Ok(config)
    }
}

/// `=2.5.0`, `2.5`, `2.5.1` → (2, 5). Rover's `=` prefix means "exactly"; we read it as the ceiling.
pub(super) fn parse_federation_version(v: &str) -> anyhow::Result<(u32, u32)> {
    let bare = v.trim().trim_start_matches('=').trim_start_matches('v');
    let mut parts = bare.split('.');
    let major = parts.next().and_then(|p| p.parse().ok());
    let minor = parts.next().and_then(|p| p.parse().ok());
    match (major, minor) {
        (Some(2), Some(minor)) => Ok((2, minor)),
        _ => bail!("supergraph.yaml: federation_version {v:?} is not a federation 2.x version"),
    }
}

/// One subgraph as the composer takes it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SubgraphSdl {
    pub name: String,
    pub url: String,
    #[serde(rename = "typeDefs")]
    pub type_defs: String,
}

/// Reads every subgraph's SDL file (paths relative to the yaml's folder). Reports every missing
/// or unreadable file at once.
pub fn load_subgraphs(
    config: &SupergraphConfig,
    base_dir: &Path,
) -> anyhow::Result<Vec<SubgraphSdl>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, s) in &config.subgraphs {
        let path = base_dir.join(&s.schema.file);
        match std::fs::read_to_string(&path) {
            Ok(sdl) if sdl.trim().is_empty() => {
                problems.push(format!("subgraph {name}: {} is empty", path.display()))
            }
            Ok(sdl) => out.push(SubgraphSdl {
                name: name.clone(),
                url: s.routing_url.clone(),
                type_defs: sdl,
            }),
            Err(e) => problems.push(format!(
                "subgraph {name}: cannot read its SDL {}: {e} \
                 (write it with `tenor-{name} print-schema > {}`)",
                path.display(),
                s.schema.file.display()
            )),
        }
    }
    if !problems.is_empty() {
        bail!(Problems(problems));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_rovers_format_and_reports_missing_files() {
        let config = SupergraphConfig::parse(
            "federation_version: =2.5.0\nsubgraphs:\n  user:\n    routing_url: http://127.0.0.1:4002/graphql\n    schema:\n      file: ./nope/user.graphql\n",
        )
        .unwrap();
        assert_eq!(
            config.subgraphs["user"].schema.file,
            PathBuf::from("./nope/user.graphql")
        );
        let err = load_subgraphs(&config, Path::new("/nonexistent"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("subgraph user") && err.contains("nope/user.graphql"),
            "{err}"
        );
        assert!(
            SupergraphConfig::parse("subgraphs:\n  user:\n    routing_url: http://x/graphql\n    schema:\n      subgraph_url: http://x\n").is_err(),
            "introspection sources are refused"
        );
    }
}
