//! Running the composer: Hive's `@theguild/federation-composition` under Node, by
//! `router/compose/compose.mjs`, with the subgraphs as JSON on stdin.

use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use super::ComposeOptions;
use super::config::SubgraphSdl;

/// What one composition gives: the supergraph the router serves and the client (API) schema —
/// the same schema as clients see it, without federation's types and directives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Composed {
    pub supergraph: String,
    pub client: String,
}

/// Runs `node compose.mjs --json` with the subgraphs as JSON on stdin (`npm ci` first when its
/// `node_modules` is absent). Composition errors come back as the error, every message included.
pub fn run_composer(opts: &ComposeOptions, subgraphs: &[SubgraphSdl]) -> anyhow::Result<Composed> {
    let dir = &opts.composer_dir;
    let script = dir.join("compose.mjs");
    if !script.is_file() {
        bail!("composer script {} not found", script.display());
    }
    if !dir.join("node_modules").is_dir() {
        let status = Command::new(&opts.npm)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
            .with_context(|| {
                format!(
                    "cannot run `{} ci` in {} (is Node.js installed?)",
                    opts.npm,
                    dir.display()
                )
            })?;
        if !status.success() {
            bail!("`{} ci` in {} failed ({status})", opts.npm, dir.display());
        }
    }
    let input = serde_json::to_vec(subgraphs)?;
    let mut child = Command::new(&opts.node)
        .arg(&script)
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "cannot run `{}` (Node.js ≥ 18 is needed to compose)",
                opts.node
            )
        })?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Write from a thread: a large input must not deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .context("composer did not finish")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to the composer panicked"))?
        .context("cannot send the subgraphs to the composer")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!(
            "composition failed ({}):\n{}",
            output.status,
            stderr.trim_end()
        );
    }
    let composed: Composed = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("composer printed no result:\n{}", stderr.trim_end()))?;
    if composed.supergraph.trim().is_empty() || composed.client.trim().is_empty() {
        bail!("composer printed an empty schema:\n{}", stderr.trim_end());
    }
    Ok(composed)
}
