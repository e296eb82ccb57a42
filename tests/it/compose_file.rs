//! `docker-compose.yml` cannot be run here (no Docker engine), so its correctness is checked
//! by reading it: official images, KRaft Kafka, healthchecks, persistent volumes, the databases
//! and topics the services expect, and every `${VAR}` documented in `.env.example`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use tenor_platform::manifest::{self, Store};

use serde_yaml::Value;

fn repo_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}

fn compose() -> Value {
    let text = std::fs::read_to_string(repo_file("docker-compose.yml")).expect("compose file");
    serde_yaml::from_str(&text).expect("compose file is valid YAML")
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
