//! `docker-compose.yml` and the `Dockerfile` cannot be run here (no Docker engine), so their
//! correctness is checked by reading them: official images, KRaft Kafka, healthchecks,
//! persistent volumes, the databases and topics the services expect, every `${VAR}` documented
//! in `.env.example`; and for the Tenor services, that each runs its binary from the image the
//! Dockerfile builds (as a non-root user), waits for its healthy stores, is routed to by the router
//! at its name and `services.toml` port, and that only the router publishes a port.

use std::collections::BTreeSet;
use std::path::PathBuf;
use tenor_platform::manifest::{self, Kind, Store};

use serde_yaml::Value;

fn repo_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}

/// The compose file as docker compose sees it: anchors expanded and `<<` merge keys applied.
fn compose() -> Value {
    let text = std::fs::read_to_string(repo_file("docker-compose.yml")).expect("compose file");
    let mut value: Value = serde_yaml::from_str(&text).expect("compose file is valid YAML");
    value.apply_merge().expect("merge keys apply");
    value
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    compose["services"]
        .get(name)
        .unwrap_or_else(|| panic!("service {name} is missing"))
}

fn image(service: &Value) -> &str {
    service["image"].as_str().expect("image is set")
}

fn env_value<'a>(service: &'a Value, key: &str) -> Option<&'a str> {
    match &service["environment"] {
        Value::Mapping(map) => map.get(key).and_then(Value::as_str),
        Value::Sequence(items) => items.iter().filter_map(Value::as_str).find_map(|item| {
            item.split_once('=')
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v)
        }),
        _ => None,
    }
}

#[test]
fn infrastructure_uses_official_images_with_healthchecks() {
    let compose = compose();
    let expected = [
        ("postgres", "postgres:"),
        ("redis", "redis:"),
        ("mongo", "mongo:"),
        ("kafka", "apache/kafka:"),
        ("mailpit", "axllent/mailpit:"),
        ("jaeger", "jaegertracing/jaeger:"),
    ];
    for (name, prefix) in expected {
        let svc = service(&compose, name);
        assert!(
            image(svc).starts_with(prefix),
            "{name} uses {} (expected the official {prefix} image)",
            image(svc)
        );
        assert!(
            !image(svc).ends_with(":latest") && image(svc).contains(':'),
            "{name}: pin a version"
        );
        assert!(
            svc["healthcheck"]["test"].is_sequence() || svc["healthcheck"]["test"].is_string(),
            "{name} has no healthcheck"
        );
    }
}

#[test]
fn kafka_runs_in_kraft_mode_without_zookeeper() {
    let compose = compose();
    let kafka = service(&compose, "kafka");
    assert_eq!(
        env_value(kafka, "KAFKA_PROCESS_ROLES"),
        Some("broker,controller")
    );
    assert!(env_value(kafka, "KAFKA_CONTROLLER_QUORUM_VOTERS").is_some());
    assert_eq!(
        env_value(kafka, "KAFKA_AUTO_CREATE_TOPICS_ENABLE"),
        Some("false")
    );
    let services = compose["services"].as_mapping().unwrap();
    assert!(
        !services
            .keys()
            .any(|k| k.as_str().unwrap().contains("zookeeper")),
        "KRaft needs no ZooKeeper"
    );
}

#[test]
fn state_lives_in_named_volumes() {
    let compose = compose();
    let declared: BTreeSet<String> = compose["volumes"]
        .as_mapping()
        .expect("top-level volumes")
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    for name in ["postgres", "redis", "mongo", "kafka"] {
        let mounts = service(&compose, name)["volumes"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name} has no volumes"));
        let named = mounts.iter().filter_map(Value::as_str).any(|m| {
            m.split_once(':')
                .is_some_and(|(src, _)| declared.contains(src))
        });
        assert!(named, "{name} keeps its data in a named volume");
    }
}

#[test]
fn every_postgres_backed_service_gets_its_database_and_every_context_its_topics() {
    let compose = compose();
    let postgres = service(&compose, "postgres");
    let init_dir = postgres["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|m| m.contains("docker-entrypoint-initdb.d"))
        .and_then(|m| m.split(':').next())
        .expect("an init script directory is mounted");
    let init_dir = repo_file(init_dir.trim_start_matches("./"));
    let scripts: String = std::fs::read_dir(&init_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", init_dir.display()))
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    // Every PostgreSQL database of services.toml, planned services included: compose
    // initialises the volume once, so a database missing now is missing for ever.
    let databases: Vec<&str> = manifest::services()
        .iter()
        .filter(|s| s.store == Store::Postgres)
        .filter_map(|s| s.database.as_deref())
        .collect();
    assert!(databases.contains(&"tenor_loan"), "{databases:?}");
    for database in databases {
        assert!(
            scripts.contains(&format!("CREATE DATABASE {database};")),
            "no database {database} in {}",
            init_dir.display()
        );
    }

    let topics_job = service(&compose, "kafka-topics");
    let script = topics_job["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find_map(|m| m.split(':').next().filter(|src| src.ends_with(".sh")))
        .expect("topic script mounted");
    let script = std::fs::read_to_string(repo_file(script.trim_start_matches("./"))).unwrap();
    assert!(manifest::topics().len() >= 14, "{:?}", manifest::topics());
    for topic in manifest::topics() {
        let spec = format!("{}:{}", topic.name, topic.partitions);
        assert!(
            script.lines().any(|line| line.trim() == spec),
            "the topic script does not create {spec}"
        );
    }
}

#[test]
fn every_variable_the_compose_file_reads_is_documented() {
    let text = std::fs::read_to_string(repo_file("docker-compose.yml")).unwrap();
    let documented = std::fs::read_to_string(repo_file(".env.example")).unwrap();
    let mut rest = text.as_str();
    let mut missing = Vec::new();
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find(['}', ':', '-']).expect("closed ${...}");
        let var = &after[..end];
        if !documented.contains(var) {
            missing.push(var.to_owned());
        }
        rest = &after[end..];
    }
    assert!(
        missing.is_empty(),
        "undocumented in .env.example: {missing:?}"
    );
}

#[test]
fn file_object_stores_live_in_named_volumes() {
    let compose = compose();
    let declared = compose["volumes"].as_mapping().expect("top-level volumes");
    let mut stores = 0;
    for (spec, svc) in tenor_services(&compose) {
        for (var, value) in environment(svc) {
            let Some(path) = value.strip_prefix("file://") else {
                continue;
            };
            stores += 1;
            let mounted = svc["volumes"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|m| {
                    let mut parts = m.split(':');
                    let (source, target) = (parts.next().unwrap(), parts.next().unwrap_or(""));
                    target == path && declared.contains_key(source)
                });
            assert!(
                mounted,
                "{}: {var} keeps files in {path}, which is no named volume (lost with the container)",
                spec.name
            );
        }
    }
    assert!(stores > 0, "kyc keeps its images in a file:// store");
}

// --- The Tenor services -------------------------------------------------------------------

/// The infrastructure a service may use, by compose service name, and what in one of its
/// environment values shows that it does.
const INFRASTRUCTURE: &[(&str, &str)] = &[
    ("postgres", "@postgres:5432/"),
    ("mongo", "mongodb://mongo:27017/"),
    ("redis", "redis://redis:6379/"),
    ("kafka", "kafka:9092"),
    ("mailpit", "smtp://mailpit:1025"),
];

/// The one-shot job creating the topics (the broker creates none): Kafka users wait for it.
const TOPICS_JOB: &str = "kafka-topics";

/// What hive-router (or `tenor-router serve`) reads from the environment itself, not through
/// a `from_env` placeholder of the config file.
const ROUTER_OWN_VARIABLES: &[&str] = &[
    "HOST",
    "PORT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SUPERGRAPH_FILE_PATH",
    "ROUTER_CONFIG_FILE_PATH",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "TELEMETRY_TRACING_SAMPLING_RATE",
];

/// Variables whose names look like secrets but hold none: they name a key.
const KEY_NAMES: &[&str] = &["AUTH_ACTIVE_SIGNING_KEY"];

#[test]
fn every_tenor_service_runs_its_binary_from_the_one_image_the_dockerfile_builds() {
    let compose = compose();
    let services = tenor_services(&compose);
    assert!(services.len() >= 8, "{} services", services.len());
    let mut images = BTreeSet::new();
    for (spec, svc) in services {
        assert_eq!(
            binary(svc),
            format!("tenor-{}", spec.name),
            "{}: command",
            spec.name
        );
        assert_eq!(
            svc["build"]["context"].as_str(),
            Some("."),
            "{}: build context",
            spec.name
        );
        assert_eq!(
            svc["build"]["dockerfile"].as_str(),
            Some("Dockerfile"),
            "{}: dockerfile",
            spec.name
        );
        assert!(
            matches!(
                svc["restart"].as_str(),
                Some("always" | "unless-stopped" | "on-failure")
            ),
            "{}: no restart policy",
            spec.name
        );
        images.insert(image(svc).to_owned());
    }
    assert_eq!(images.len(), 1, "one image for every service: {images:?}");
}

#[test]
fn every_tenor_service_is_checked_healthy_on_its_own_port_with_a_tool_the_image_has() {
    let compose = compose();
    let runtime = dockerfile().pop().expect("a final stage");
    for (spec, svc) in tenor_services(&compose) {
        let test: Vec<&str> = svc["healthcheck"]["test"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{}: no healthcheck (exec form)", spec.name))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(test.first(), Some(&"CMD"), "{}: {test:?}", spec.name);
        let tool = test[1];
        assert!(
            runtime.installs(tool),
            "{}: the healthcheck runs {tool}, which the runtime image does not install",
            spec.name
        );
        let url = test
            .iter()
            .find(|arg| arg.starts_with("http://"))
            .unwrap_or_else(|| panic!("{}: no URL in {test:?}", spec.name));
        let (host, port, path) = split_url(url);
        assert!(
            matches!(host, "127.0.0.1" | "localhost"),
            "{}: {url}",
            spec.name
        );
        assert_eq!(
            port, spec.port,
            "{}: healthcheck port (services.toml)",
            spec.name
        );
        // hive-router answers /readiness once the supergraph is loaded; our runner, /ready.
        let ready = if spec.kind == Kind::Router {
            "/readiness"
        } else {
            "/ready"
        };
        assert_eq!(path, ready, "{}: {url}", spec.name);
    }
}

#[test]
fn every_tenor_service_waits_for_the_healthy_infrastructure_it_uses() {
    let compose = compose();
    for (spec, svc) in tenor_services(&compose) {
        let env = environment(svc);
        let uses = |marker: &str| env.iter().any(|(_, v)| v.contains(marker));
        match spec.store {
            Store::Postgres => {
                let var = format!("{}_DATABASE_URL", spec.name.to_uppercase());
                let url = env_value(svc, &var).unwrap_or_else(|| panic!("{}: no {var}", spec.name));
                let database = spec.database.as_deref().unwrap();
                assert!(
                    url.starts_with("postgres://")
                        && url.ends_with(&format!("@postgres:5432/{database}")),
                    "{}: {var}={url} is not database {database} on the compose postgres",
                    spec.name
                );
            }
            Store::Mongodb => assert_eq!(
                env_value(svc, "MONGODB_URL"),
                Some("mongodb://mongo:27017/"),
                "{}: MONGODB_URL",
                spec.name
            ),
            Store::None => {}
        }
        if spec.kind == Kind::Subgraph {
            assert_eq!(
                env_value(svc, "KAFKA_BROKERS"),
                Some("kafka:9092"),
                "{}",
                spec.name
            );
        }
        let depends_on = svc["depends_on"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{}: depends_on with conditions", spec.name));
        let condition = |name: &str| {
            depends_on
                .get(name)
                .and_then(|d| d["condition"].as_str())
                .unwrap_or("none")
        };
        for (infra, marker) in INFRASTRUCTURE {
            if uses(marker) {
                assert_eq!(
                    condition(infra),
                    "service_healthy",
                    "{}: uses {infra} but does not wait for it to be healthy",
                    spec.name
                );
            }
        }
        if uses("kafka:9092") {
            assert_eq!(
                condition(TOPICS_JOB),
                "service_completed_successfully",
                "{}: uses Kafka before its topics exist",
                spec.name
            );
        }
        let store_host = match spec.store {
            Store::Postgres => Some("postgres"),
            Store::Mongodb => Some("mongo"),
            Store::None => None,
        };
        if let Some(host) = store_host {
            assert_eq!(
                condition(host),
                "service_healthy",
                "{}: its store",
                spec.name
            );
        }
    }
}

#[test]
fn the_router_reaches_every_subgraph_by_service_name_at_its_port() {
    let compose = compose();
    let router = service(&compose, &manifest::router().name);
    let routed = supergraph_subgraphs();
    assert!(routed.len() >= 6, "{routed:?}");
    for (name, routing_url) in &routed {
        let spec = manifest::service(name);
        let (_, declared_port, declared_path) = split_url(routing_url);
        assert_eq!(
            declared_port, spec.port,
            "supergraph.yaml {name}: port (services.toml)"
        );
        let var = subgraph_url_var(name);
        let url = env_value(router, &var).unwrap_or_else(|| panic!("router: no {var}"));
        let (host, port, path) = split_url(url);
        assert_eq!(
            host, name,
            "router: {var}={url} is not the compose service {name}"
        );
        assert_eq!(
            binary(service(&compose, host)),
            format!("tenor-{name}"),
            "{var}"
        );
        assert_eq!(port, spec.port, "router: {var}={url} (services.toml port)");
        assert_eq!(path, declared_path, "router: {var}={url}");
    }
    for (var, _) in environment(router) {
        if let Some(name) = var
            .strip_prefix("ROUTER_SUBGRAPH_")
            .and_then(|v| v.strip_suffix("_URL"))
        {
            let name = name.to_lowercase();
            assert!(
                manifest::subgraphs().any(|s| s.name == name),
                "router: {var} names no subgraph of services.toml"
            );
        }
    }
    // Tokens are verified against auth's keys, by the router and every subgraph.
    let auth = manifest::service("auth");
    for (spec, svc) in tenor_services(&compose) {
        if let Some(url) = env_value(svc, "AUTH_JWKS_URL") {
            let (host, port, path) = split_url(url);
            assert_eq!(
                (host, port),
                ("auth", auth.port),
                "{}: AUTH_JWKS_URL",
                spec.name
            );
            assert_eq!(
                path, "/.well-known/jwks.json",
                "{}: AUTH_JWKS_URL",
                spec.name
            );
        } else {
            assert!(spec.name == "auth", "{}: no AUTH_JWKS_URL", spec.name);
        }
    }
}

#[test]
fn every_router_setting_compose_gives_is_read_by_the_router() {
    let compose = compose();
    let router = service(&compose, &manifest::router().name);
    let config = std::fs::read_to_string(repo_file("router/router.config.yaml")).unwrap();
    let placeholders = from_env_placeholders(&config);
    let read = |var: &str| ROUTER_OWN_VARIABLES.contains(&var) || placeholders.contains(var);
    for (var, _) in environment(router) {
        assert!(
            read(&var),
            "router: compose sets {var}, which nothing in the router reads"
        );
    }
}

#[test]
fn only_the_router_publishes_a_port() {
    let compose = compose();
    let router = &manifest::router().name;
    let mut published = Vec::new();
    for (name, svc) in compose["services"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        for mapping in svc["ports"].as_sequence().into_iter().flatten() {
            let mapping = mapping.as_str().expect("ports in short syntax");
            let container_port = mapping.rsplit(':').next().unwrap();
            match name {
                n if n == router.as_str() => {
                    assert_eq!(
                        container_port,
                        manifest::router().port.to_string(),
                        "{mapping}"
                    );
                }
                // Mail the services sent, for the developer at this machine only.
                "mailpit" => assert!(
                    mapping.starts_with("127.0.0.1:") && container_port == "8025",
                    "mailpit publishes only its web UI, on loopback: {mapping}"
                ),
                // Traces, for the developer at this machine only.
                "jaeger" => assert!(
                    mapping.starts_with("127.0.0.1:") && container_port == "16686",
                    "jaeger publishes only its web UI, on loopback: {mapping}"
                ),
                _ => {
                    panic!("{name} publishes {mapping}: only the router is reachable from outside")
                }
            }
            published.push(name);
        }
    }
    assert!(
        published.contains(&router.as_str()),
        "the router publishes its port"
    );
}

#[test]
fn secrets_come_from_the_environment_never_from_the_file() {
    let compose = compose();
    let declared = compose["secrets"].as_mapping().expect("top-level secrets");
    for (name, secret) in declared {
        let file = secret["file"].as_str().unwrap_or_default();
        assert!(
            is_reference_without_default(file),
            "secret {name:?}: its file must come from .env, got {file:?}"
        );
    }
    let mut checked = 0;
    for (spec, svc) in tenor_services(&compose) {
        for used in svc["secrets"].as_sequence().into_iter().flatten() {
            let used = used.as_str().expect("secrets in short syntax");
            assert!(
                declared.contains_key(used),
                "{}: secret {used} undeclared",
                spec.name
            );
        }
        for (var, value) in environment(svc) {
            let secret_like = ["_KEY", "_KEYS"].iter().any(|s| var.ends_with(s))
                || ["SECRET", "PASSWORD", "TOKEN"]
                    .iter()
                    .any(|s| var.contains(s));
            if !secret_like || KEY_NAMES.contains(&var.as_str()) {
                continue;
            }
            checked += 1;
            assert!(
                value.contains("/run/secrets/") || is_reference_without_default(&value),
                "{}: {var} must come from .env (`${{{var}:?…}}`) or a compose secret, not the file",
                spec.name
            );
        }
    }
    assert!(
        checked >= 5,
        "the KYC and risk keys are checked ({checked})"
    );
}

#[test]
fn the_dockerfile_builds_every_binary_compose_runs_and_runs_it_as_non_root() {
    let compose = compose();
    let stages = dockerfile();
    let binaries = listed_binaries(&stages);
    for (spec, svc) in tenor_services(&compose) {
        let binary = binary(svc);
        assert!(
            binaries.contains(&binary),
            "the Dockerfile does not build {binary}"
        );
        let cargo_toml = std::fs::read_to_string(repo_file(&format!("{}/Cargo.toml", spec.dir())))
            .unwrap_or_else(|e| panic!("{}: {e}", spec.dir()));
        assert!(
            cargo_toml.contains(&format!("[[bin]]\nname = \"{binary}\"")),
            "{}/Cargo.toml has no binary {binary}",
            spec.dir()
        );
    }

    let builder = stages
        .iter()
        .find(|s| s.runs("cargo build --release") && s.runs("$TENOR_BINARIES"))
        .expect("a stage builds $TENOR_BINARIES in release mode");
    let rust_version = std::fs::read_to_string(repo_file("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("rust-version = \"")?
                .strip_suffix('"')
                .map(str::to_owned)
        })
        .expect("workspace rust-version");
    assert_eq!(
        builder.base,
        format!("rust:{rust_version}-bookworm"),
        "builder image"
    );
    assert!(
        stages
            .iter()
            .any(|s| s.runs("cargo chef cook --release") && s.runs("$TENOR_BINARIES")),
        "dependencies are built in their own cached layer, for the same binaries"
    );

    let runtime = stages.last().unwrap();
    assert_eq!(runtime.base, "debian:bookworm-slim", "runtime image");
    let builder_name = builder.name.as_deref().expect("the builder stage is named");
    assert!(
        runtime
            .all("COPY")
            .any(|args| args.starts_with(&format!("--from={builder_name} "))),
        "the runtime stage takes the binaries from {builder_name}"
    );
    let user = runtime
        .all("USER")
        .last()
        .expect("the runtime stage sets USER");
    let user = user.split(':').next().unwrap();
    assert!(!matches!(user, "root" | "0"), "runs as {user}");
}

#[test]
fn the_image_holds_every_file_the_router_reads_at_run_time() {
    let runtime = dockerfile().pop().unwrap();
    let config_text = std::fs::read_to_string(repo_file("router/router.config.yaml")).unwrap();
    let config: Value = serde_yaml::from_str(&config_text).unwrap();
    // The config file at the router's default path (relative to the working directory), and
    // what it names, relative to its own folder.
    let mut needed = vec!["router/router.config.yaml".to_owned()];
    for path in [
        &config["supergraph"]["path"],
        &config["persisted_documents"]["storage"]["path"],
        &config["plugins"]["tenor"]["config"]["graphiql"]["config"]["assets_dir"],
    ] {
        let path = path.as_str().expect("a path in router.config.yaml");
        needed.push(normalize(&format!("router/{path}")));
    }
    // Where each COPY lands, and the working directory the router starts in.
    let mut workdir = "/".to_owned();
    let mut copied = Vec::new();
    for (instruction, args) in &runtime.instructions {
        let target = args.split_whitespace().last().unwrap_or_default();
        let absolute = |path: &str| normalize(&format!("{workdir}/{path}"));
        match instruction.as_str() {
            "WORKDIR" if target.starts_with('/') => workdir = normalize(target),
            "WORKDIR" => workdir = absolute(target),
            "COPY" if target.starts_with('/') => copied.push(normalize(target)),
            "COPY" => copied.push(absolute(target)),
            _ => {}
        }
    }
    for path in needed {
        let path = normalize(&format!("{workdir}/{path}"));
        assert!(
            copied.contains(&path),
            "the runtime image lacks /{path}; it copies {copied:?}"
        );
    }
}

// --- Reading the files ----------------------------------------------------------------------

/// Every service of services.toml with its compose service, planned ones included: compose
/// carries a service from the moment its binary exists.
fn tenor_services(compose: &Value) -> Vec<(&'static manifest::Service, &Value)> {
    manifest::services()
        .iter()
        .map(|spec| (spec, service(compose, &spec.name)))
        .collect()
}

/// The binary a Tenor service runs: the first word of its `command`.
fn binary(service: &Value) -> &str {
    match &service["command"] {
        Value::Sequence(words) => words.first().and_then(Value::as_str),
        Value::String(line) => line.split_whitespace().next(),
        _ => None,
    }
    .expect("a command naming the binary")
}

/// A service's environment as name/value pairs (mapping or `NAME=value` list form).
fn environment(service: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
    };
    match &service["environment"] {
        Value::Mapping(map) => map
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_owned(), text(v)))
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|item| {
                let (k, v) = item.split_once('=').unwrap_or((item, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `supergraph.yaml`'s subgraphs and their routing URLs.
fn supergraph_subgraphs() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_file("supergraph.yaml")).unwrap();
    let config: Value = serde_yaml::from_str(&text).unwrap();
    config["subgraphs"]
        .as_mapping()
        .expect("subgraphs")
        .iter()
        .map(|(name, sub)| {
            let url = sub["routing_url"].as_str().expect("routing_url");
            (name.as_str().unwrap().to_owned(), url.to_owned())
        })
        .collect()
}

/// The router variable with a subgraph's URL: `ROUTER_SUBGRAPH_AUTH_URL`.
fn subgraph_url_var(name: &str) -> String {
    format!("ROUTER_SUBGRAPH_{}_URL", name.to_uppercase())
}

/// `http://host:port/path` → (host, port, path).
fn split_url(url: &str) -> (&str, u16, &str) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{url}: not http://"));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = authority
        .split_once(':')
        .unwrap_or_else(|| panic!("{url}: no port"));
    let port = port.parse().unwrap_or_else(|_| panic!("{url}: bad port"));
    (host, port, path)
}

/// `${VAR}`, `${VAR:?message}` or `${VAR:-}`: a value only the environment can give.
fn is_reference_without_default(value: &str) -> bool {
    let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
        return false;
    };
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, operator) = inner.split_at(name_end);
    !name.is_empty()
        && !inner.contains("${")
        && match operator {
            "" | ":-" | "-" => true,
            op => op.starts_with(":?") || op.starts_with('?'),
        }
}

/// `a/b/../c` → `a/c`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// One build stage of the Dockerfile: its base image (`ARG` defaults substituted), its name
/// and its instructions (continuation lines joined, comments dropped).
struct Stage {
    base: String,
    name: Option<String>,
    instructions: Vec<(String, String)>,
}

impl Stage {
    fn all<'a>(&'a self, instruction: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.instructions
            .iter()
            .filter(move |(i, _)| i == instruction)
            .map(|(_, args)| args.as_str())
    }

    fn runs(&self, text: &str) -> bool {
        self.all("RUN").any(|args| args.contains(text))
    }

    /// Whether an `apt-get install` of this stage installs `package`.
    fn installs(&self, package: &str) -> bool {
        self.all("RUN").any(|args| {
            args.split("&&").any(|command| {
                command.contains("apt-get install")
                    && command.split_whitespace().any(|word| word == package)
            })
        })
    }
}

fn dockerfile() -> Vec<Stage> {
    let text = std::fs::read_to_string(repo_file("Dockerfile")).expect("a Dockerfile");
    let mut args = std::collections::BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        let (instruction, rest) = full.split_once(' ').unwrap_or((&full, ""));
        let (instruction, rest) = (instruction.to_uppercase(), rest.trim().to_owned());
        match instruction.as_str() {
            "ARG" if stages.is_empty() => {
                if let Some((name, value)) = rest.split_once('=') {
                    args.insert(format!("${{{name}}}"), value.to_owned());
                }
            }
            "FROM" => {
                let mut words = rest.split_whitespace();
                let base = words.next().expect("FROM image");
                let base = args.get(base).cloned().unwrap_or_else(|| base.to_owned());
                // `FROM chef`: the image of that earlier stage.
                let base = stages
                    .iter()
                    .find(|s| s.name.as_deref() == Some(base.as_str()))
                    .map_or(base, |s| s.base.clone());
                let name = match (words.next(), words.next()) {
                    (Some(as_), Some(name)) if as_.eq_ignore_ascii_case("as") => {
                        Some(name.to_owned())
                    }
                    _ => None,
                };
                stages.push(Stage {
                    base,
                    name,
                    instructions: Vec::new(),
                });
            }
            _ => {
                if let Some(stage) = stages.last_mut() {
                    stage.instructions.push((instruction, rest));
                }
            }
        }
    }
    assert!(stages.len() >= 2, "a multi-stage build");
    stages
}

/// `ENV TENOR_BINARIES="…"`: the binaries the build produces and the image holds.
fn listed_binaries(stages: &[Stage]) -> Vec<&str> {
    stages
        .iter()
        .flat_map(|s| s.all("ENV"))
        .find_map(|args| args.strip_prefix("TENOR_BINARIES="))
        .expect("ENV TENOR_BINARIES in the Dockerfile")
        .trim_matches('"')
        .split_whitespace()
        .collect()
}

/// The variables `{ from_env: VAR … }` placeholders of a hive-router config read.
fn from_env_placeholders(config: &str) -> BTreeSet<&str> {
    config
        .split("from_env:")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start();
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .collect()
}
