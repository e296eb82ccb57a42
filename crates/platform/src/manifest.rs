//! The repository's `services.toml`, compiled in: every service with its port, kind and store,
//! and every Kafka topic with its partition count. The one list `./dev`, the binaries' default
//! ports and `tenor_events::kafka::ensure_manifest_topics` share; parsed and checked once, on
//! first use.
//!
//! ```
//! use tenor_platform::manifest;
//! assert_eq!(manifest::service("user").port, 4002);
//! assert_eq!(manifest::router().port, 4000);
//! assert!(manifest::topics().iter().any(|t| t.name == "loan.events"));
//! ```

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Deserialize;

/// The text of `services.toml` at the repository root.
pub const SOURCE: &str = include_str!("../../../services.toml");

static MANIFEST: LazyLock<Manifest> =
    LazyLock::new(|| Manifest::parse(SOURCE).unwrap_or_else(|e| panic!("services.toml: {e}")));

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "service")]
    pub services: Vec<Service>,
    pub kafka: Kafka,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// `auth`, `user`, …, `router`: the folder (`subgraphs/<name>/`), the binary (`tenor-<name>`)
    /// and the Kafka context of its topics.
    pub name: String,
    pub kind: Kind,
    /// The HTTP port it listens on by default (`PORT` overrides).
    pub port: u16,
    pub store: Store,
    /// The database within the store; none when the store is [`Store::None`].
    #[serde(default)]
    pub database: Option<String>,
    /// Reserved, not built yet: tooling skips it until its folder exists.
    #[serde(default)]
    pub planned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Subgraph,
    Router,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Store {
    Postgres,
    Mongodb,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kafka {
    pub topics: Vec<Topic>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub name: String,
    pub partitions: i32,
}

impl Topic {
    /// The publishing service: the name up to the first dot (`loan` for `loan.events.dlq`).
    pub fn context(&self) -> &str {
        self.name.split('.').next().unwrap_or_default()
    }
}

impl Service {
    /// The folder of its crate, relative to the repository root.
    pub fn dir(&self) -> String {
        match self.kind {
            Kind::Router => self.name.clone(),
            Kind::Subgraph => format!("subgraphs/{}", self.name),
        }
    }
}

impl Manifest {
    /// Parses and checks a manifest (the compiled-in one is [`manifest()`]).
    pub fn parse(text: &str) -> Result<Self, String> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
        manifest.check()?;
        Ok(manifest)
    }

    /// What every consumer of the file relies on; every problem at once.
    fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut names = BTreeSet::new();
        let mut ports = BTreeSet::new();
        let mut databases = BTreeSet::new();
        for s in &self.services {
            let valid_name =
                !s.name.is_empty() && s.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if !valid_name {
                problems.push(format!(
                    "service name {:?}: lower-case letters only",
                    s.name
                ));
            }
            if !names.insert(s.name.as_str()) {
                problems.push(format!("service {} is listed twice", s.name));
            }
            if s.port < 1024 || !ports.insert(s.port) {
                problems.push(format!(
                    "{}: port {} is taken or privileged",
                    s.name, s.port
                ));
            }
            match (s.store, &s.database) {
                (Store::None, None) => {}
                (Store::None, Some(_)) => {
                    problems.push(format!("{}: store none has no database", s.name))
                }
                (_, None) => problems.push(format!("{}: its store needs a database", s.name)),
                (store, Some(db)) => {
                    if !databases.insert((store as u8, db.as_str())) {
                        problems.push(format!("{}: database {db} is used twice", s.name));
                    }
                }
            }
        }
        let routers = self
            .services
            .iter()
            .filter(|s| s.kind == Kind::Router)
            .count();
        if routers != 1 {
            problems.push(format!("{routers} routers (exactly one expected)"));
        }
        let mut topics = BTreeSet::new();
        for t in &self.kafka.topics {
            if !topics.insert(t.name.as_str()) {
                problems.push(format!("topic {} is listed twice", t.name));
            }
            if !(1..=64).contains(&t.partitions) {
                problems.push(format!("topic {}: {} partitions", t.name, t.partitions));
            }
            let valid = t
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
            if !valid || t.name.len() > 200 {
                problems.push(format!("topic name {:?} is not a plain Kafka name", t.name));
            }
            match self.services.iter().find(|s| s.name == t.context()) {
                Some(s) if s.kind == Kind::Subgraph => {}
                _ => problems.push(format!(
                    "topic {}: {} is not a subgraph",
                    t.name,
                    t.context()
                )),
            }
        }
        // docs/conventions.md: one topic per context plus its dead-letter topic.
        for s in self.services.iter().filter(|s| s.kind == Kind::Subgraph) {
            for name in [
                format!("{}.events", s.name),
                format!("{}.events.dlq", s.name),
            ] {
                if !topics.contains(name.as_str()) {
                    problems.push(format!("{}: topic {name} is missing", s.name));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    pub fn find(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// The compiled-in manifest.
pub fn manifest() -> &'static Manifest {
    &MANIFEST
}

/// Every service, in start order (subgraphs, then the router), planned ones included.
pub fn services() -> &'static [Service] {
    &MANIFEST.services
}

/// The service called `name`. Panics on a name the manifest does not have: callers name
/// services in code, so that is a typo.
pub fn service(name: &str) -> &'static Service {
    MANIFEST
        .find(name)
        .unwrap_or_else(|| panic!("no service {name:?} in services.toml"))
}

/// Every subgraph, planned ones included (check [`Service::planned`]).
pub fn subgraphs() -> impl Iterator<Item = &'static Service> {
    MANIFEST
        .services
        .iter()
        .filter(|s| s.kind == Kind::Subgraph)
}

/// The router.
pub fn router() -> &'static Service {
    MANIFEST
        .services
        .iter()
        .find(|s| s.kind == Kind::Router)
        .expect("checked: one router")
}

/// Every Kafka topic with its partition count.
pub fn topics() -> &'static [Topic] {
    &MANIFEST.kafka.topics
}

#[cfg(test)]
mod tests;
