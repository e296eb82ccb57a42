//! `tenor-router serve`: the stock Hive Router (hive-router 0.2.x as a library) with our plugins,
//! behind a startup guard.
//!
//! hive-router reads its configuration file only from `ROUTER_CONFIG_FILE_PATH` (or
//! `router.config.yaml` in the working directory). `main` makes sure that variable is set before
//! anything here runs — by re-executing itself with it, since setting an environment variable
//! in-process needs `unsafe` (edition 2024) and the workspace forbids unsafe code.

use hive_router::config::supergraph::SupergraphSource;
use hive_router::config::{HiveRouterConfig, load_config};
use hive_router::error::RouterInitError;
use hive_router::{PluginRegistry, init_rustls_crypto_provider, ntex, router_entrypoint};

use crate::compose::{Problems, check_served_supergraph};
use crate::plugins::tenor::TenorPlugin;

/// The variable hive-router reads its config path from.
pub const CONFIG_ENV: &str = "ROUTER_CONFIG_FILE_PATH";
/// Where traces go; unset, the router records none.
pub const TRACES_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// hive-router's override of `telemetry.tracing.collect.sampling`.
pub const SAMPLING_ENV: &str = "TELEMETRY_TRACING_SAMPLING_RATE";

/// The environment hive-router must see, from ours: its config path, and tracing switched by
/// whether a collector endpoint is configured (see `telemetry` in router.config.yaml).
pub fn engine_environment(
    config_path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let endpoint = env(TRACES_ENDPOINT_ENV).filter(|e| !e.trim().is_empty());
    let sampling = match endpoint {
        None => "0".to_owned(),
        Some(_) => env(SAMPLING_ENV).unwrap_or_else(|| "1.0".to_owned()),
    };
    let mut wanted = vec![
        (CONFIG_ENV.to_owned(), config_path.to_owned()),
        (SAMPLING_ENV.to_owned(), sampling),
    ];
    // Every Tenor service takes LOG_FORMAT=json|pretty; hive-router calls "pretty" `text` and
    // refuses to start on anything else.
    if env(LOG_FORMAT_ENV).as_deref() == Some("pretty") {
        wanted.push((LOG_FORMAT_ENV.to_owned(), "text".to_owned()));
    }
    wanted
}

const LOG_FORMAT_ENV: &str = "LOG_FORMAT";
/// Relative to the working directory (`./dev` runs services from the repository root).
pub const DEFAULT_CONFIG: &str = "router/router.config.yaml";

/// The engine's plugins: one, which runs ours in order (`plugins.tenor.config.<name>` blocks).
pub fn plugins() -> PluginRegistry {
    // One plugin: it runs ours in their order (plugins::tenor says why not ten).
    PluginRegistry::new().register::<TenorPlugin>()
}

/// Loads the configuration exactly as the router will (same loader, same env overrides) and
/// refuses settings under which the router would silently stop protecting data:
/// - `jwt.enabled: false` — the router then enforces no auth directive at all;
/// - `authorization.directives.enabled: false` — same;
/// - a supergraph that uses an auth directive without its `@link`, or whose root types cannot be
///   planned (see [`check_served_supergraph`]).
pub fn guard(config_path: &str) -> anyhow::Result<()> {
    // Environment values first: hive-router's own errors for them name the field, not the
    // variable, and for plugins not even the field ("expected u32").
    let raw =
        std::fs::read_to_string(config_path).map_err(|e| anyhow::anyhow!("{config_path}: {e}"))?;
    let raw: serde_yaml::Value =
        serde_yaml::from_str(&raw).map_err(|e| anyhow::anyhow!("{config_path}: {e}"))?;
    let env_problems = from_env_problems(&raw, &|name| std::env::var(name).ok());
    if !env_problems.is_empty() {
        anyhow::bail!(
            "{config_path}: bad environment values:\n{}",
            Problems(env_problems)
        );
    }
    let config = load_config(Some(config_path.to_owned()))
        .map_err(|e| anyhow::anyhow!("{config_path}: {e}"))?;
    let problems = config_problems(&config);
    if !problems.is_empty() {
        anyhow::bail!("{config_path} is unsafe to serve:\n{}", Problems(problems));
    }
    Ok(())
}

/// Every `{ from_env: VAR, default: D }` whose variable is set to something `D`'s type cannot
/// hold. Messages name the variable and the setting, never the value (it may be a secret).
pub fn from_env_problems(
    config: &serde_yaml::Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut pending = vec![(String::new(), config)];
    while let Some((path, value)) = pending.pop() {
        match value {
            serde_yaml::Value::Mapping(map) => {
                if let Some(serde_yaml::Value::String(var)) = map.get("from_env") {
                    if let (Some(default), Some(set)) = (map.get("default"), env(var))
                        && let Some(expected) = type_mismatch(default, set.trim())
                    {
                        problems.push(format!("{var} (for {path}) must be {expected}"));
                    }
                    continue;
                }
                for (key, child) in map {
                    let key = key.as_str().unwrap_or("?");
                    let child_path = if path.is_empty() {
                        key.to_owned()
                    } else {
                        format!("{path}.{key}")
                    };
                    pending.push((child_path, child));
                }
            }
            serde_yaml::Value::Sequence(items) => {
                for (i, child) in items.iter().enumerate() {
                    pending.push((format!("{path}[{i}]"), child));
                }
            }
            _ => {}
        }
    }
    problems.sort();
    problems
}

/// What `value` should have been, when it cannot stand for something shaped like `default`.
fn type_mismatch(default: &serde_yaml::Value, value: &str) -> Option<&'static str> {
    match default {
        serde_yaml::Value::Bool(_) => {
            (!matches!(value, "true" | "false")).then_some("true or false")
        }
        serde_yaml::Value::Number(n) if n.is_f64() => value
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .is_none()
            .then_some("a non-negative number"),
        serde_yaml::Value::Number(_) => value
            .parse::<u32>()
            .is_err()
            .then_some("a whole number (0 to 4294967295)"),
        // A duration such as `1s` or `250ms` (`0s` included).
        serde_yaml::Value::String(default) if humantime::parse_duration(default).is_ok() => {
            humantime::parse_duration(value)
                .is_err()
                .then_some("a duration such as 1s or 250ms")
        }
        _ => None,
    }
}

fn config_problems(config: &HiveRouterConfig) -> Vec<String> {
    let mut problems = Vec::new();
    if !config.jwt.enabled {
        problems.push(
            "jwt.enabled is false: the router would enforce no @authenticated/@requiresScopes"
                .to_owned(),
        );
    }
    if !config.authorization.directives.enabled {
        problems.push(
            "authorization.directives.enabled is false: auth directives would not be enforced"
                .to_owned(),
        );
    }
    match &config.supergraph {
        SupergraphSource::File {
            path: Some(path), ..
        } => match std::fs::read_to_string(&path.absolute) {
            Ok(sdl) => {
                if let Err(Problems(p)) = check_served_supergraph(&sdl) {
                    problems.extend(p.into_iter().map(|m| format!("{}: {m}", path.relative)));
                }
            }
            Err(e) => problems.push(format!(
                "supergraph {} cannot be read: {e} (run `tenor-router compose`)",
                path.absolute
            )),
        },
        _ => problems.push(
            "supergraph.source must be `file` with a path (schema/supergraph.graphql)".to_owned(),
        ),
    }
    problems
}

/// Stack of each worker thread. The engine parses WebSocket messages (up to ntex's 64 KiB frame
/// limit) with sonic-rs, whose DOM parser recurses once per nesting level; 64 Ki levels need tens
/// of MiB in a release build, far beyond the 2 MiB default. Only pages a message actually
/// touches are ever committed, so this costs address space, not memory.
pub const WORKER_STACK_BYTES: usize = 256 * 1024 * 1024;

/// ES256 access tokens are verified with aws-lc-rs, about 5× faster than the RustCrypto backend
/// hive-router asks for (docs/benchmarks.md § auth). With both backends compiled in, jsonwebtoken has
/// no default and panics on the first token, so this runs before the engine starts.
fn install_jwt_provider() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// Starts the router and runs until it is stopped (SIGINT/SIGTERM → graceful shutdown).
///
/// What `#[hive_router::main]` expands to, plus the worker stack size.
pub fn run() -> Result<(), RouterInitError> {
    ntex::rt::System::build()
        .name("tenor-router")
        .stack_size(WORKER_STACK_BYTES)
        .build(ntex::rt::DefaultRuntime)
        .block_on(async move {
            init_rustls_crypto_provider();
            install_jwt_provider();
            router_entrypoint(plugins()).await
        })
}
