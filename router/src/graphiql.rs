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

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hive_router::executor::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::plugins::hooks::on_plugin_init::{
    OnPluginInitPayload, OnPluginInitResult,
};
use hive_router::executor::plugins::plugin_trait::{RouterPlugin, StartHookPayload as _};
use hive_router::ntex::http::{Method, Response, ResponseBuilder, StatusCode};
use hive_router::ntex::util::Bytes;
use serde::Deserialize;

/// Where the page lives. Fixed: the built `index.html` refers to `/graphiql/assets/…`.
pub const MOUNT: &str = "/graphiql";

/// `default-src 'none'` and only `'self'` where the page needs something. `connect-src 'self'`
/// also covers `ws:`/`wss:` to the same host (CSP Level 3), which the subscriptions use. Fonts are
/// files under `/graphiql/assets` (the build turns GraphiQL's inlined `data:` fonts into files).
/// `img-src data:` is for the small SVG icons GraphiQL's CSS carries inline.
///
/// `style-src` gets one more source on the page itself: a fresh nonce per response (see
/// [`page_policy`]), because GraphiQL's dialogs lock scrolling by injecting a `<style>` element
/// (react-remove-scroll), whose content varies (scrollbar width) so no hash fits. No
/// `'unsafe-inline'` anywhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy of the page, allowing `<style nonce="{nonce}">` besides the router's own CSS.
pub fn page_policy(nonce: &str) -> String {
    CONTENT_SECURITY_POLICY.replacen(
        "style-src 'self';",
        &format!("style-src 'self' 'nonce-{nonce}';"),
        1,
    )
}

/// Headers on every response of this plugin, found or not (the page's CSP is replaced).
const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// `index.html` names the current asset files, so it is never cached; the assets carry a content
/// hash in their names, so they never change and can be cached for good.
const CACHE_INDEX: &str = "no-store";
const CACHE_HASHED: &str = "public, max-age=31536000, immutable";

/// Guards against pointing `assets_dir` at something that is not a GraphiQL build.
const MAX_FILES: usize = 500;
const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// The meta tag the page reads the GraphQL path from (router/graphiql/src/index.html).
const ENDPOINT_META: &str = r#"<meta name="tenor-graphql-endpoint" content="/graphql" />"#;
/// Replaced in each page response by that response's style nonce.
const NONCE_PLACEHOLDER: &str = "__CSP_NONCE__";

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

/// The page and its assets, in memory.
pub struct Site {
    files: HashMap<String, Asset>,
    /// Why there are no files (asset directory missing or unusable).
    missing: Option<String>,
}

struct Asset {
    body: Bytes,
    content_type: &'static str,
    cache_control: &'static str,
}

/// What to send back; kept apart from ntex so the routing is testable on its own.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    pub body: Bytes,
}

impl Reply {
    fn new(status: StatusCode, content_type: &'static str, body: Bytes) -> Self {
        let mut headers: Vec<(&'static str, Cow<'static, str>)> = SECURITY_HEADERS
            .iter()
            .map(|(name, value)| (*name, Cow::Borrowed(*value)))
            .collect();
        headers.push(("content-type", content_type.into()));
        Self {
            status,
            headers,
            body,
        }
    }

    fn error(status: StatusCode, message: &'static str) -> Self {
        let mut reply = Self::new(
            status,
            "text/plain; charset=utf-8",
            Bytes::from_static(message.as_bytes()),
        );
        reply.headers.push(("cache-control", "no-store".into()));
        reply
    }

    fn set(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    pub fn into_response(self) -> Response {
        let mut builder = ResponseBuilder::new(self.status);
        for (name, value) in self.headers {
            builder.header(name, value.as_ref());
        }
        builder.body(self.body)
    }
}

impl Site {
    /// Reads every regular file under `dir` (symlinks are skipped, so nothing outside can be
    /// reached through one) and points the page at the router's GraphQL path.
    pub fn load(dir: &Path, graphql_path: &str) -> Result<Self, String> {
        let index = dir.join("index.html");
        if !index.is_file() {
            return Err(format!(
                "{} not found: build it with `./dev infra` (npm ci && npm run build in router/graphiql)",
                index.display()
            ));
        }
        let mut files = HashMap::new();
        let mut total = 0;
        collect(dir, "", &mut files, &mut total)?;
        let html = files.get_mut("index.html").expect("checked above");
        html.body = Bytes::from(point_at_endpoint(&html.body, graphql_path)?);
        Ok(Self {
            files,
            missing: None,
        })
    }

    pub fn missing(problem: String) -> Self {
        Self {
            files: HashMap::new(),
            missing: Some(problem),
        }
    }

    /// `None`: not ours, the router handles it.
    pub fn respond(&self, method: &Method, path: &str) -> Option<Reply> {
        let name = if path == MOUNT || path == "/graphiql/" {
            "index.html"
        } else {
            path.strip_prefix("/graphiql/")?
        };
        if method != Method::GET && method != Method::HEAD {
            let mut reply = Reply::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            reply.set("allow", "GET, HEAD");
            return Some(reply);
        }
        if self.missing.is_some() {
            return Some(Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "GraphiQL is not built on this router: run `./dev infra` (see the router log)\n",
            ));
        }
        // Exact names only: a path with `..`, `%2e`, `//` or `\` matches no collected file.
        let Some(asset) = self.files.get(name) else {
            return Some(Reply::error(StatusCode::NOT_FOUND, "not found\n"));
        };
        let mut reply = Reply::new(StatusCode::OK, asset.content_type, asset.body.clone());
        reply.set("cache-control", asset.cache_control);
        if name == "index.html" {
            let nonce = uuid::Uuid::new_v4().simple().to_string();
            let html = String::from_utf8_lossy(&asset.body).replace(NONCE_PLACEHOLDER, &nonce);
            reply.body = Bytes::from(html);
            reply.set("content-security-policy", page_policy(&nonce));
        }
        if method == Method::HEAD {
            reply.body = Bytes::new();
        }
        Some(reply)
    }
}

fn collect(
    dir: &Path,
    prefix: &str,
    files: &mut HashMap<String, Asset>,
    total: &mut u64,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            continue; // not UTF-8: no URL path can name it
        };
        if file_name.starts_with('.') {
            continue;
        }
        let name = format!("{prefix}{file_name}");
        if kind.is_dir() {
            collect(&entry.path(), &format!("{name}/"), files, total)?;
        } else if kind.is_file() {
            let body = std::fs::read(entry.path()).map_err(|e| format!("{name}: {e}"))?;
            *total += body.len() as u64;
            if files.len() >= MAX_FILES || *total > MAX_TOTAL_BYTES {
                return Err(format!(
                    "{} holds more than {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes: not a GraphiQL build",
                    dir.display()
                ));
            }
            let cache_control = if name == "index.html" {
                CACHE_INDEX
            } else {
                CACHE_HASHED
            };
            files.insert(
                name.clone(),
                Asset {
                    body: Bytes::from(body),
                    content_type: content_type(&name),
                    cache_control,
                },
            );
        }
    }
    Ok(())
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Writes the router's GraphQL path into the page's meta tag.
fn point_at_endpoint(html: &[u8], graphql_path: &str) -> Result<Vec<u8>, String> {
    let html = std::str::from_utf8(html).map_err(|_| "index.html is not UTF-8".to_owned())?;
    if !html.contains(ENDPOINT_META) || !html.contains(NONCE_PLACEHOLDER) {
        return Err(
            "index.html lacks the tenor-graphql-endpoint or tenor-csp-nonce meta tag: not our GraphiQL build"
                .into(),
        );
    }
    let escaped: String = graphql_path
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let meta = ENDPOINT_META.replace("/graphql", &escaped);
    Ok(html.replacen(ENDPOINT_META, &meta, 1).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A build-like directory, with a secret beside it that must never be served.
    struct Fixture {
        root: PathBuf,
    }

    impl Fixture {
        fn new() -> Self {
            let root =
                std::env::temp_dir().join(format!("tenor-graphiql-{}", uuid::Uuid::new_v4()));
            let dist = root.join("dist");
            std::fs::create_dir_all(dist.join("assets")).unwrap();
            std::fs::write(
                dist.join("index.html"),
                format!(
                    "<!doctype html><head>{ENDPOINT_META}<meta name=\"tenor-csp-nonce\" \
                     content=\"{NONCE_PLACEHOLDER}\" /><script src=\"/graphiql/assets/app-1.js\"></script></head>"
                ),
            )
            .unwrap();
            std::fs::write(dist.join("assets/app-1.js"), "console.log('hi')").unwrap();
            std::fs::write(dist.join("assets/font-1.woff2"), [0u8, 1, 2]).unwrap();
            std::fs::write(dist.join(".inputs-sha"), "abc").unwrap();
            std::fs::write(root.join("secret.yaml"), "password: hunter2").unwrap();
            #[cfg(unix)]
            std::os::unix::fs::symlink(root.join("secret.yaml"), dist.join("assets/link.yaml"))
                .unwrap();
            Self { root }
        }

        fn dist(&self) -> PathBuf {
            self.root.join("dist")
        }

        fn site(&self) -> Site {
            Site::load(&self.dist(), "/graphql").unwrap()
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn get(site: &Site, path: &str) -> Option<Reply> {
        site.respond(&Method::GET, path)
    }

    #[test]
    fn serves_the_page_with_the_strict_policy_and_no_caching() {
        let fixture = Fixture::new();
        let site = fixture.site();
        for path in ["/graphiql", "/graphiql/", "/graphiql/index.html"] {
            let reply = get(&site, path).unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert_eq!(
                reply.header("content-type"),
                Some("text/html; charset=utf-8")
            );
            assert_eq!(reply.header("cache-control"), Some("no-store"));
            assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
            let csp = reply.header("content-security-policy").unwrap();
            for directive in [
                "default-src 'none'",
                "script-src 'self';",
                "style-src 'self' 'nonce-",
                "connect-src 'self';",
                "font-src 'self';",
                "frame-ancestors 'none'",
                "base-uri 'none'",
                "form-action 'none'",
            ] {
                assert!(csp.contains(directive), "{directive} missing from {csp}");
            }
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
                "{csp}"
            );
            assert!(
                !csp.contains("http"),
                "no other origin may be allowed: {csp}"
            );
        }
    }

    #[test]
    fn each_page_gets_its_own_style_nonce_in_the_policy_and_the_page() {
        let fixture = Fixture::new();
        let site = fixture.site();
        let nonce_of = |reply: &Reply| {
            let csp = reply.header("content-security-policy").unwrap().to_owned();
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .unwrap_or_else(|| panic!("no nonce in {csp}"))
                .to_owned();
            assert!(
                csp.contains(&format!("style-src 'self' 'nonce-{nonce}';")),
                "{csp}"
            );
            let html = std::str::from_utf8(&reply.body).unwrap();
            assert!(html.contains(&format!("content=\"{nonce}\"")), "{html}");
            assert!(!html.contains(NONCE_PLACEHOLDER));
            nonce
        };
        let first = nonce_of(&get(&site, "/graphiql").unwrap());
        let second = nonce_of(&get(&site, "/graphiql").unwrap());
        assert_ne!(first, second);
        assert!(first.len() >= 32);
        // Assets and errors keep the policy without any nonce.
        let js = get(&site, "/graphiql/assets/app-1.js").unwrap();
        assert_eq!(
            js.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
    }

    #[test]
    fn hashed_assets_are_cached_for_good_with_their_type() {
        let fixture = Fixture::new();
        let site = fixture.site();
        let js = get(&site, "/graphiql/assets/app-1.js").unwrap();
        assert_eq!(js.status, StatusCode::OK);
        assert_eq!(
            js.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(js.header("cache-control"), Some(CACHE_HASHED));
        assert_eq!(&js.body[..], b"console.log('hi')");
        assert!(js.header("content-security-policy").is_some());
        let font = get(&site, "/graphiql/assets/font-1.woff2").unwrap();
        assert_eq!(font.header("content-type"), Some("font/woff2"));
        let head = site
            .respond(&Method::HEAD, "/graphiql/assets/app-1.js")
            .unwrap();
        assert_eq!(head.status, StatusCode::OK);
        assert!(head.body.is_empty());
    }

    #[test]
    fn nothing_outside_the_directory_is_reachable() {
        let fixture = Fixture::new();
        let site = fixture.site();
        for path in [
            "/graphiql/../secret.yaml",
            "/graphiql/assets/../../secret.yaml",
            "/graphiql/%2e%2e/secret.yaml",
            "/graphiql/..%2fsecret.yaml",
            "/graphiql/assets/..%2F..%2Fsecret.yaml",
            "/graphiql//etc/passwd",
            "/graphiql/..\\secret.yaml",
            "/graphiql/assets/link.yaml",
            "/graphiql/.inputs-sha",
            "/graphiql/assets/",
            "/graphiql/assets",
            "/graphiql/nope.js",
        ] {
            let reply = get(&site, path).unwrap();
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
            assert!(
                !String::from_utf8_lossy(&reply.body).contains("hunter2"),
                "{path}"
            );
            assert!(reply.header("content-security-policy").is_some());
        }
    }

    #[test]
    fn other_paths_are_left_to_the_router_and_writes_are_refused() {
        let fixture = Fixture::new();
        let site = fixture.site();
        for path in ["/graphql", "/graphiqlx", "/health", "/", "/assets/app-1.js"] {
            assert!(get(&site, path).is_none(), "{path}");
        }
        let post = site.respond(&Method::POST, "/graphiql").unwrap();
        assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
    }

    #[test]
    fn the_page_is_pointed_at_the_configured_graphql_path() {
        let fixture = Fixture::new();
        let site = Site::load(&fixture.dist(), "/api/\"graphql\"").unwrap();
        let html = get(&site, "/graphiql").unwrap().body;
        let html = std::str::from_utf8(&html).unwrap();
        assert!(
            html.contains(r#"content="/api/&quot;graphql&quot;""#),
            "{html}"
        );
    }

    #[test]
    fn a_missing_build_answers_503_and_a_wrong_directory_is_refused() {
        let fixture = Fixture::new();
        let problem = Site::load(&fixture.root.join("nowhere"), "/graphql")
            .err()
            .unwrap();
        assert!(problem.contains("./dev infra"), "{problem}");
        let site = Site::missing(problem);
        assert_eq!(
            get(&site, "/graphiql").unwrap().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(get(&site, "/graphql").is_none());

        std::fs::write(
            fixture.dist().join("index.html"),
            "<html>someone else's</html>",
        )
        .unwrap();
        assert!(Site::load(&fixture.dist(), "/graphql").is_err());
    }

    #[test]
    fn the_assets_dir_resolves_from_the_config_folder() {
        let fixture = Fixture::new();
        let crate_dir = Path::new("/crate");
        assert_eq!(
            resolve_assets_dir(Some("graphiql/dist"), Path::new("/repo/router"), crate_dir),
            Path::new("/repo/router/graphiql/dist")
        );
        assert_eq!(
            resolve_assets_dir(Some("/srv/graphiql"), Path::new("/repo/router"), crate_dir),
            Path::new("/srv/graphiql")
        );
        // Default: beside the config when a build is there, else the crate's own.
        std::fs::create_dir_all(fixture.root.join("graphiql")).unwrap();
        std::fs::rename(fixture.dist(), fixture.root.join("graphiql/dist")).unwrap();
        assert_eq!(
            resolve_assets_dir(None, &fixture.root, crate_dir),
            fixture.root.join("graphiql/dist")
        );
        assert_eq!(
            resolve_assets_dir(None, Path::new("/tmp/elsewhere"), crate_dir),
            Path::new("/crate/graphiql/dist")
        );
    }
}
