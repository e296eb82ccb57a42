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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use async_graphql_parser::types::{
    ConstDirective, ServiceDocument, TypeDefinition, TypeKind, TypeSystemDefinition,
};
use async_graphql_parser::{Positioned, parse_schema};
use async_graphql_value::ConstValue;
use serde::{Deserialize, Serialize};

/// The authorization directives hive-router enforces, each with the spec its `@link` must name.
/// Without that link in the supergraph the router ignores the directive.
pub const AUTH_DIRECTIVES: &[(&str, &str)] = &[
    (
        "requiresScopes",
        "https://specs.apollo.dev/requiresScopes/v0.1",
    ),
    (
        "authenticated",
        "https://specs.apollo.dev/authenticated/v0.1",
    ),
    ("policy", "https://specs.apollo.dev/policy/v0.1"),
];

/// Root operation types that must be routed to at least one subgraph (`@join__type`).
const ROOT_TYPES: &[&str] = &["Query", "Mutation", "Subscription"];

// ---------------------------------------------------------------------------------------------
// supergraph.yaml

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
fn parse_federation_version(v: &str) -> anyhow::Result<(u32, u32)> {
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

// ---------------------------------------------------------------------------------------------
// checks

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

/// Checks each subgraph SDL before composition: it parses, and links no federation spec newer
/// than `federation_version`.
pub fn check_subgraphs(
    subgraphs: &[SubgraphSdl],
    federation_version: Option<&str>,
) -> Result<(), Problems> {
    let ceiling = federation_version.and_then(|v| parse_federation_version(v).ok());
    let mut problems = Vec::new();
    for s in subgraphs {
        let doc = match parse_schema(&s.type_defs) {
            Ok(doc) => doc,
            Err(e) => {
                problems.push(format!("subgraph {}: SDL does not parse: {e}", s.name));
                continue;
            }
        };
        if let Some((major, minor)) = ceiling {
            for url in link_urls(&doc) {
                if let Some(v) = url.strip_prefix("https://specs.apollo.dev/federation/v")
                    && let Some((ma, mi)) = v.split_once('.')
                    && let (Ok(ma), Ok(mi)) = (ma.parse::<u32>(), mi.parse::<u32>())
                    && (ma, mi) > (major, minor)
                {
                    problems.push(format!(
                        "subgraph {}: links federation v{ma}.{mi}, newer than \
                         supergraph.yaml's federation_version {major}.{minor}",
                        s.name
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

/// Checks a composed supergraph against the subgraphs it came from:
/// - it parses, and lists exactly the configured subgraphs in `join__Graph` (name and URL);
/// - `Query` exists, and every root type present (`Query`, `Mutation`, `Subscription`) carries
///   `@join__type` (without it nothing on that root can be planned);
/// - every auth directive used in the supergraph has its spec `@link` (without it the router
///   silently stops enforcing the directive);
/// - every auth directive used in any subgraph is still used in the supergraph (a composer that
///   drops it would leave fields unprotected without an error).
pub fn check_supergraph(supergraph: &str, subgraphs: &[SubgraphSdl]) -> Result<(), Problems> {
    let doc = match parse_schema(supergraph) {
        Ok(doc) => doc,
        Err(e) => return Err(Problems(vec![format!("supergraph does not parse: {e}")])),
    };
    let mut problems = Vec::new();

    // Subgraphs: join__Graph values carry @join__graph(name, url).
    let graphs = join_graphs(&doc);
    for s in subgraphs {
        match graphs.get(&s.name) {
            None => problems.push(format!("subgraph {} is missing from join__Graph", s.name)),
            Some(url) if *url != s.url => problems.push(format!(
                "subgraph {} routes to {url} in the supergraph, {} in supergraph.yaml",
                s.name, s.url
            )),
            Some(_) => {}
        }
    }
    for name in graphs.keys() {
        if !subgraphs.iter().any(|s| &s.name == name) {
            problems.push(format!(
                "join__Graph lists {name}, which supergraph.yaml does not"
            ));
        }
    }

    problems.extend(served_supergraph_problems(&doc));

    // A composer that drops an auth directive would leave fields unprotected without an error.
    let used = directive_usages(&doc);
    for s in subgraphs {
        let Ok(sub) = parse_schema(&s.type_defs) else {
            continue;
        };
        let sub_used = directive_usages(&sub);
        for (directive, _) in AUTH_DIRECTIVES {
            if sub_used.contains(*directive) && !used.contains(*directive) {
                problems.push(format!(
                    "subgraph {} uses @{directive} but the supergraph carries none: \
                     those fields would be unprotected",
                    s.name
                ));
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

/// The checks that need only the supergraph itself, run again by `serve` on whatever file the
/// router is about to load: root types carry `@join__type`, and every auth directive used has
/// its spec `@link`.
pub fn check_served_supergraph(supergraph: &str) -> Result<(), Problems> {
    let problems = match parse_schema(supergraph) {
        Ok(doc) => served_supergraph_problems(&doc),
        Err(e) => vec![format!("supergraph does not parse: {e}")],
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

fn served_supergraph_problems(doc: &ServiceDocument) -> Vec<String> {
    let mut problems = Vec::new();
    let types = type_definitions(doc);
    for root in ROOT_TYPES {
        let defs: Vec<_> = types
            .iter()
            .filter(|t| t.name.node.as_str() == *root)
            .collect();
        if defs.is_empty() {
            if *root == "Query" {
                problems.push("the supergraph has no Query type".to_owned());
            }
            continue;
        }
        let joined = defs.iter().any(|t| {
            t.directives
                .iter()
                .any(|d| d.node.name.node.as_str() == "join__type")
        });
        if !joined {
            problems.push(format!(
                "{root} has no @join__type: the router cannot plan any {root} field"
            ));
        }
    }
    let used = directive_usages(doc);
    let links: BTreeSet<String> = link_urls(doc).into_iter().collect();
    for (directive, spec) in AUTH_DIRECTIVES {
        if used.contains(*directive) && !links.contains(*spec) {
            problems.push(format!(
                "@{directive} is used but the supergraph has no @link(url: \"{spec}\"): \
                 the router would silently not enforce it"
            ));
        }
    }
    problems
}

fn type_definitions(doc: &ServiceDocument) -> Vec<&TypeDefinition> {
    doc.definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some(&t.node),
            _ => None,
        })
        .collect()
}

/// URLs of every `@link` on `schema` / `extend schema`.
fn link_urls(doc: &ServiceDocument) -> Vec<String> {
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
fn join_graphs(doc: &ServiceDocument) -> BTreeMap<String, String> {
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
fn directive_usages(doc: &ServiceDocument) -> BTreeSet<String> {
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

// ---------------------------------------------------------------------------------------------
// running the composer

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

/// Runs `node compose.mjs` with the subgraphs as JSON on stdin (`npm ci` first when its
/// `node_modules` is absent). Composition errors come back as the error, every message included.
pub fn run_composer(opts: &ComposeOptions, subgraphs: &[SubgraphSdl]) -> anyhow::Result<String> {
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
    let sdl = String::from_utf8(output.stdout).context("composer printed non-UTF-8")?;
    if sdl.trim().is_empty() {
        bail!("composer printed no supergraph:\n{}", stderr.trim_end());
    }
    Ok(sdl)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBGRAPH: &str = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@requiresScopes"])
        type Query { me: User users: [User!]! @requiresScopes(scopes: [["user:admin"]]) }
        type User @key(fields: "id") { id: ID! }
    "#;

    fn subgraphs() -> Vec<SubgraphSdl> {
        vec![SubgraphSdl {
            name: "user".into(),
            url: "http://127.0.0.1:4002/graphql".into(),
            type_defs: SUBGRAPH.into(),
        }]
    }

    const GOOD: &str = r#"
        schema
          @link(url: "https://specs.apollo.dev/link/v1.0")
          @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
          @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
        { query: Query }
        directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT
        scalar requiresScopes__Scope
        enum join__Graph { USER @join__graph(name: "user", url: "http://127.0.0.1:4002/graphql") }
        type Query @join__type(graph: USER) {
          me: User
          users: [User!]! @requiresScopes(scopes: [["user:admin"]])
        }
        type User @join__type(graph: USER, key: "id") { id: ID! }
    "#;

    fn problems(sdl: &str) -> Vec<String> {
        match check_supergraph(sdl, &subgraphs()) {
            Ok(()) => vec![],
            Err(Problems(p)) => p,
        }
    }

    #[test]
    fn a_complete_supergraph_passes() {
        assert_eq!(problems(GOOD), Vec::<String>::new());
    }

    #[test]
    fn missing_requires_scopes_link_fails() {
        let sdl = GOOD.replace(
            r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
            "",
        );
        let p = problems(&sdl);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("@requiresScopes") && p[0].contains("requiresScopes/v0.1"),
            "{p:?}"
        );
    }

    #[test]
    fn authenticated_and_policy_need_their_links_too() {
        let sdl = GOOD.replace(
            "me: User",
            r#"me: User @authenticated  admin: Int @policy(policies: [["ops"]])"#,
        );
        let p = problems(&sdl);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|m| m.contains("authenticated/v0.1")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("policy/v0.1")), "{p:?}");
        let linked = sdl.replace(
            "{ query: Query }",
            r#"@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
               @link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY) { query: Query }"#,
        );
        assert_eq!(problems(&linked), Vec::<String>::new());
    }

    #[test]
    fn a_directive_only_defined_is_not_a_use() {
        let sdl = GOOD
            .replace(r#"@requiresScopes(scopes: [["user:admin"]])"#, "")
            .replace(
                r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
                "",
            );
        // The supergraph alone would be fine, but the subgraph uses @requiresScopes.
        let p = problems(&sdl);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("subgraph user uses @requiresScopes"), "{p:?}");
    }

    #[test]
    fn root_types_without_join_type_fail() {
        let sdl = GOOD.replace("type Query @join__type(graph: USER)", "type Query")
            + "\ntype Mutation { ping: Int }";
        let p = problems(&sdl);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p.iter().any(|m| m.starts_with("Query has no @join__type")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("Mutation has no @join__type")),
            "{p:?}"
        );
    }

    #[test]
    fn subgraphs_must_match_join_graph() {
        let mut subs = subgraphs();
        subs[0].url = "http://127.0.0.1:9999/graphql".into();
        subs.push(SubgraphSdl {
            name: "loan".into(),
            url: "http://x/graphql".into(),
            type_defs: SUBGRAPH.into(),
        });
        let Err(Problems(p)) = check_supergraph(GOOD, &subs) else {
            panic!("should fail")
        };
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p.iter()
                .any(|m| m.contains("routes to http://127.0.0.1:4002/graphql")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.contains("subgraph loan is missing")),
            "{p:?}"
        );
    }

    #[test]
    fn served_check_needs_only_the_supergraph() {
        assert_eq!(check_served_supergraph(GOOD), Ok(()));
        let bad = GOOD.replace(
            r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
            "",
        );
        let Err(Problems(p)) = check_served_supergraph(&bad) else {
            panic!("should fail")
        };
        assert!(
            p.len() == 1 && p[0].contains("requiresScopes/v0.1"),
            "{p:?}"
        );
    }

    #[test]
    fn unparsable_supergraph_fails() {
        assert!(
            problems("type Query {")
                .first()
                .is_some_and(|m| m.contains("does not parse"))
        );
    }

    #[test]
    fn federation_version_is_a_ceiling() {
        let subs = subgraphs();
        assert!(check_subgraphs(&subs, Some("=2.5.0")).is_ok());
        assert!(check_subgraphs(&subs, None).is_ok());
        let Err(Problems(p)) = check_subgraphs(&subs, Some("=2.3.0")) else {
            panic!("should fail")
        };
        assert!(p[0].contains("newer than"), "{p:?}");
        assert!(SupergraphConfig::parse("federation_version: '1'\nsubgraphs: {}").is_err());
    }

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
