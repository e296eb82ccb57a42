//! `graphiql`: the back-office GraphiQL, self-hosted at `/graphiql`.
//!
//! Staff tokens and KYC data must never share a page with a third-party script, so the stock
//! Hive Router page (scripts from a CDN) stays off and this plugin serves a pinned GraphiQL built
//! from `router/graphiql` (by `./dev`) under a Content-Security-Policy that lets the page load and
//! connect to nothing but the router itself.
//!
//! The files are read once at start-up into memory: a request never touches the file system (so
//! no blocking I/O on the hot path), and only names that were found *inside* the directory can
//! ever be served — a `..`, an encoded slash or a symlink out of the directory has nothing to
//! match.
//!
//! Here: the plugin and where it finds the build. [`Site`] (in `site`) answers requests from
//! memory; `load` reads the build into it.

use std::path::{Path, PathBuf};

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use serde::Deserialize;

mod load;
mod site;
#[cfg(test)]
mod tests;

pub use site::{CONTENT_SECURITY_POLICY, Reply, Site, page_policy};

/// Where the page lives. Fixed: the built `index.html` refers to `/graphiql/assets/…`.
pub const MOUNT: &str = "/graphiql";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphiqlConfig {
    /// The built GraphiQL (`index.html` + `assets/`). Relative paths resolve from the folder of
    /// the router config file, like hive-router's own paths. Default: `graphiql/dist` there, or
    /// in this crate's source folder when the config lives elsewhere.
    #[serde(default)]
    pub assets_dir: Option<String>,
}

pub struct GraphiqlPlugin {
    site: Site,
}

#[hive_router::async_trait]
impl RouterPlugin for GraphiqlPlugin {
    type Config = GraphiqlConfig;

    fn plugin_name() -> &'static str {
        "graphiql"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config: GraphiqlConfig = payload.config()?;
        let dir = resolve_assets_dir(
            config.assets_dir.as_deref(),
            &config_folder(),
            Path::new(env!("CARGO_MANIFEST_DIR")),
        );
        let graphql_path = payload.router_config().graphql_path().to_owned();
        let site = match Site::load(&dir, &graphql_path) {
            Ok(site) => {
                tracing::info!(dir = %dir.display(), files = site.files.len(), "GraphiQL at {MOUNT}");
                site
            }
            // The router still serves GraphQL; the page says what to do instead of a bare 404.
            Err(problem) => {
                tracing::warn!(dir = %dir.display(), %problem, "GraphiQL assets missing; {MOUNT} answers 503");
                Site::missing(problem)
            }
        };
        payload.initialize_plugin(GraphiqlPlugin { site })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            match self.site.respond(request.method(), request.path()) {
                Some(reply) => payload.end_with_response(reply.into_response()),
                None => payload.proceed(),
            }
        })
    }
}

/// The folder of the config file hive-router loads (`ROUTER_CONFIG_FILE_PATH`, which `main`
/// always sets), resolved the way hive-router resolves it: relative to the working directory.
fn config_folder() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    match std::env::var_os(crate::serve::CONFIG_ENV) {
        Some(file) => cwd.join(Path::new(&file).parent().unwrap_or(Path::new(""))),
        None => cwd,
    }
}

/// An explicit `assets_dir` is taken as configured (relative to the config folder). Without
/// one, `graphiql/dist` beside the config file, else the one in this crate's source tree — so a
/// config generated elsewhere (tests, a temp dir) still finds the build `./dev` made.
pub fn resolve_assets_dir(
    configured: Option<&str>,
    config_folder: &Path,
    crate_dir: &Path,
) -> PathBuf {
    if let Some(dir) = configured {
        return config_folder.join(dir);
    }
    let beside_config = config_folder.join("graphiql/dist");
    if beside_config.join("index.html").is_file() {
        beside_config
    } else {
        crate_dir.join("graphiql/dist")
    }
}
