//! The plugin's requests and replies without a router: a build-like directory on disk, loaded
//! into a [`Site`] and asked for paths the way the plugin asks it.

use std::path::{Path, PathBuf};

use hive_router::ntex::http::{Method, StatusCode};

use super::load::{CACHE_HASHED, ENDPOINT_META, NONCE_PLACEHOLDER};
use super::*;

/// A build-like directory, with a secret beside it that must never be served.
struct Fixture {
    root: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!("tenor-graphiql-{}", uuid::Uuid::new_v4()));
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
