//! Reading the GraphiQL build from disk at start-up: every regular file under the directory
//! (never through a symlink), each with its content type and caching, and `index.html` pointed
//! at the router's GraphQL path.

use std::collections::HashMap;
use std::path::Path;

use hive_router::ntex::util::Bytes;

/// `index.html` names the current asset files, so it is never cached; the assets carry a content
/// hash in their names, so they never change and can be cached for good.
const CACHE_INDEX: &str = "no-store";
pub(super) const CACHE_HASHED: &str = "public, max-age=31536000, immutable";

/// Guards against pointing `assets_dir` at something that is not a GraphiQL build.
const MAX_FILES: usize = 500;
const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// The meta tag the page reads the GraphQL path from (router/graphiql/src/index.html).
pub(super) const ENDPOINT_META: &str =
    r#"<meta name="tenor-graphql-endpoint" content="/graphql" />"#;
/// Replaced in each page response by that response's style nonce.
pub(super) const NONCE_PLACEHOLDER: &str = "__CSP_NONCE__";

/// One file of the build, as it is served.
pub(super) struct Asset {
    pub(super) body: Bytes,
    pub(super) content_type: &'static str,
    pub(super) cache_control: &'static str,
}

/// Every file of the build at `dir`, `index.html` pointed at `graphql_path`.
pub(super) fn read_build(dir: &Path, graphql_path: &str) -> Result<HashMap<String, Asset>, String> {
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
    Ok(files)
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
