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
use crate::graphiql::GraphiqlPlugin;
use crate::plugins::client_ip::ClientIpPlugin;
use crate::plugins::error_codes::ErrorCodesPlugin;
use crate::plugins::rate_limit::RateLimitPlugin;
use crate::plugins::request_id::RequestIdPlugin;

/// The variable hive-router reads its config path from.
pub const CONFIG_ENV: &str = "ROUTER_CONFIG_FILE_PATH";
/// Relative to the working directory (`./dev` runs services from the repository root).
pub const DEFAULT_CONFIG: &str = "router/router.config.yaml";

/// Our plugins, in the order they run. Each is enabled by a `plugins.<name>` block in the config.
pub fn plugins() -> PluginRegistry {
    PluginRegistry::new()
        // First: it answers /graphiql itself (static files, no GraphQL), so nothing after it runs.
        .register::<GraphiqlPlugin>()
        .register::<ClientIpPlugin>()
        .register::<RequestIdPlugin>()
        .register::<RateLimitPlugin>()
        .register::<ErrorCodesPlugin>()
}

/// Loads the configuration exactly as the router will (same loader, same env overrides) and
/// refuses settings under which the router would silently stop protecting data:
/// - `jwt.enabled: false` — the router then enforces no auth directive at all;
/// - `authorization.directives.enabled: false` — same;
/// - a supergraph that uses an auth directive without its `@link`, or whose root types cannot be
///   planned (see [`check_served_supergraph`]).
pub fn guard(config_path: &str) -> anyhow::Result<()> {
    let config = load_config(Some(config_path.to_owned()))
        .map_err(|e| anyhow::anyhow!("{config_path}: {e}"))?;
    let problems = config_problems(&config);
    if !problems.is_empty() {
        anyhow::bail!("{config_path} is unsafe to serve:\n{}", Problems(problems));
    }
    Ok(())
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

/// Starts the router and runs until it is stopped (SIGINT/SIGTERM → graceful shutdown).
#[hive_router::main]
pub async fn run() -> Result<(), RouterInitError> {
    init_rustls_crypto_provider();
    router_entrypoint(plugins()).await
}
