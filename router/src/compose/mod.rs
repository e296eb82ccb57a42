//! `tenor-router compose`: `supergraph.yaml` → composed, checked `schema/supergraph.graphql`.
//!
//! Composition itself is Hive's composer (`@theguild/federation-composition`, npm) run by
//! `router/compose/compose.mjs` with a committed lock file; docs/conventions.md § Router and
//! composition says why not a Rust composer. What this module adds is the part a composer does not promise: the checks that make
//! the router actually enforce what the subgraphs declare. A supergraph that uses
//! `@requiresScopes` without `@link(url: "https://specs.apollo.dev/requiresScopes/v0.1")` plans
//! and serves fine — and the router silently stops enforcing the scopes. So does one whose root
//! types lack `@join__type` (every query fails to plan). Both fail composition here.
//!
//! The check functions are pure (SDL strings in, problems out); only [`compose`] touches the
//! file system and runs node.
//!
//! Here: [`compose`], the whole of it in order, and [`Problems`], how every check reports. In
//! the submodules, re-exported here: `config` (`supergraph.yaml` and the SDL files it names),
//! `checks` (the pure checks, reading documents with `sdl`) and `run` (Node and `compose.mjs`).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

mod checks;
mod config;
mod run;
mod sdl;

pub use checks::{AUTH_DIRECTIVES, check_served_supergraph, check_subgraphs, check_supergraph};
pub use config::{
    SubgraphConfig, SubgraphSchemaSource, SubgraphSdl, SupergraphConfig, load_subgraphs,
};
pub use run::run_composer;

/// Where things are; every path defaults relative to the folder of `supergraph.yaml`.
#[derive(Debug, Clone)]
pub struct ComposeOptions {
    pub config: PathBuf,
    /// The Node project holding `compose.mjs` and its lock file.
    pub composer_dir: PathBuf,
    pub node: String,
    pub npm: String,
}

impl ComposeOptions {
    pub fn for_config(config: impl Into<PathBuf>) -> Self {
        let config = config.into();
        let base = base_dir(&config);
        Self {
            composer_dir: base.join("router").join("compose"),
            config,
            node: std::env::var("NODE").unwrap_or_else(|_| "node".to_owned()),
            npm: std::env::var("NPM").unwrap_or_else(|_| "npm".to_owned()),
        }
    }
}

pub fn base_dir(config: &Path) -> PathBuf {
    match config.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Reads `supergraph.yaml`, loads and checks the subgraph SDLs, composes them, checks the
/// supergraph and returns its SDL. Writes nothing.
pub fn compose(opts: &ComposeOptions) -> anyhow::Result<String> {
    let yaml = std::fs::read_to_string(&opts.config)
        .with_context(|| format!("cannot read {}", opts.config.display()))?;
    let config = SupergraphConfig::parse(&yaml)?;
    let subgraphs = load_subgraphs(&config, &base_dir(&opts.config))?;
    check_subgraphs(&subgraphs, config.federation_version.as_deref())
        .map_err(|p| anyhow::anyhow!("subgraph SDLs are not composable:\n{p}"))?;
    let supergraph = run_composer(opts, &subgraphs)?;
    check_supergraph(&supergraph, &subgraphs)
        .map_err(|p| anyhow::anyhow!("the composed supergraph fails its checks:\n{p}"))?;
    Ok(supergraph)
}

/// Every problem a check found, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<String>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "- {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}
