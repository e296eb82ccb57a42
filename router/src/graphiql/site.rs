//! The page and its assets in memory, and what each request under `/graphiql` gets back: the
//! file it names exactly, or an error, always with the security headers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use hive_router::ntex::http::{Method, Response, ResponseBuilder, StatusCode};
use hive_router::ntex::util::Bytes;

use super::MOUNT;
use super::load::{Asset, NONCE_PLACEHOLDER, read_build};

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

/// The page and its assets, in memory.
pub struct Site {
    pub(super) files: HashMap<String, Asset>,
    /// Why there are no files (asset directory missing or unusable).
    missing: Option<String>,
}

impl Site {
    /// Reads every regular file under `dir` (symlinks are skipped, so nothing outside can be
    /// reached through one) and points the page at the router's GraphQL path.
    pub fn load(dir: &Path, graphql_path: &str) -> Result<Self, String> {
        Ok(Self {
            files: read_build(dir, graphql_path)?,
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
