//! The router configuration a test runs: the committed `router/router.config.yaml` with only
//! what must differ per test changed (port, subgraph URLs, JWKS URL, Redis key prefix), and the
//! YAML helpers tests and benchmarks use to adjust it further.

use serde_json::{Value, json};
pub use serde_yaml::Value as Yaml;
use tenor_platform::testing::redis_url;

use crate::{Subgraphs, repo_root};

/// The committed router configuration, parsed.
pub fn committed_config() -> Yaml {
    let text = std::fs::read_to_string(repo_root().join("router/router.config.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Sets `value` at a dotted `path` in a YAML mapping, creating mappings on the way.
pub fn set(config: &mut Yaml, path: &str, value: Yaml) {
    let mut node = config;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let map = node.as_mapping_mut().expect("a mapping on the path");
        let key = Yaml::String(key.to_owned());
        if keys.peek().is_none() {
            map.insert(key, value);
            return;
        }
        node = map
            .entry(key)
            .or_insert_with(|| Yaml::Mapping(Default::default()));
    }
}

pub fn yaml(value: Value) -> Yaml {
    serde_yaml::to_value(value).unwrap()
}

/// A port for a child process (router, subgraph) to listen on, free when asked.
///
/// Taken below Linux's ephemeral range (32768–60999): a port the kernel hands out (`bind(0)`,
/// or the local end of any outgoing connection) can be taken by another socket between our
/// check and the child's bind — CI once saw the router fail with "Address already in use" that
/// way. Below that range only a deliberate bind can take it, and each test process walks its
/// own sequence from a random start, so two calls in one process never return the same port.
/// The local stack's ports (`./dev`, 21025–29093) are below this block.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 30_000;
    const COUNT: u32 = 2_700;
    static NEXT: std::sync::LazyLock<AtomicU32> = std::sync::LazyLock::new(|| {
        AtomicU32::new((uuid::Uuid::new_v4().as_u128() % u128::from(COUNT)) as u32)
    });
    for _ in 0..COUNT {
        let port = (FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % COUNT) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + COUNT);
}

/// Where a subgraph this stack does not run is routed: a port nothing listens on, so a query
/// that needs it fails at once instead of reaching a service of another stack (or of ./dev).
fn nowhere() -> String {
    format!("http://127.0.0.1:{}/graphql", free_port())
}

impl Subgraphs {
    /// The router config for these subgraphs: the committed one with per-test values.
    pub fn router_config(&self, port: u16) -> Yaml {
        let mut config = committed_config();
        set(&mut config, "http.port", yaml(json!(port)));
        set(
            &mut config,
            "override_subgraph_urls.subgraphs",
            yaml(json!({
                "auth": { "url": format!("{}/graphql", self.auth_url) },
                "user": { "url": format!("{}/graphql", self.user_url) },
                "kyc": { "url": format!("{}/graphql", self.kyc_url) },
                "loan": { "url": format!("{}/graphql", self.loan_url) },
                "credit": { "url": self.deciders.as_ref().map_or_else(nowhere, |d| d.credit.graphql_url()) },
                "risk": { "url": self.deciders.as_ref().map_or_else(nowhere, |d| d.risk.graphql_url()) },
                "notification": { "url": self.notification.as_ref().map_or_else(nowhere, |n| n.process.graphql_url()) },
            })),
        );
        let jwks = config["jwt"]["jwks_providers"][0].clone();
        let mut jwks = jwks;
        set(
            &mut jwks,
            "url",
            yaml(json!(format!("{}/.well-known/jwks.json", self.auth_url))),
        );
        // auth is up before the router here; in ./dev they start together.
        set(&mut jwks, "prefetch", yaml(json!(true)));
        set(
            &mut config,
            "jwt.jwks_providers",
            Yaml::Sequence(vec![jwks]),
        );
        if config["plugins"]["tenor"]["config"]["kyc_links"].is_mapping() {
            set(
                &mut config,
                "plugins.tenor.config.kyc_links.config.upstream",
                yaml(json!(self.kyc_url)),
            );
        }
        if config["plugins"]["tenor"]["config"]["rate_limit"].is_mapping() {
            set(
                &mut config,
                "plugins.tenor.config.rate_limit.config.redis_url",
                yaml(json!(redis_url())),
            );
            set(
                &mut config,
                "plugins.tenor.config.rate_limit.config.key_prefix",
                yaml(json!(self.redis_prefix)),
            );
        }
        config
    }
}
