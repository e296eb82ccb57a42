//! The manifest itself, and the copies and neighbours that cannot read it (supergraph.yaml,
//! the docker-compose init scripts, the subgraph folders), checked against it.

use std::path::PathBuf;

use super::*;

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_committed_manifest_parses_and_passes_its_checks() {
    let m = manifest();
    assert_eq!(service("auth").port, 4001);
    assert_eq!(service("user").port, 4002);
    assert_eq!(service("kyc").port, 4003);
    assert_eq!(service("loan").port, 4004);
    assert_eq!(router().port, 4000);
    assert_eq!(router().name, "router");
    assert_eq!(m.services.last(), Some(router()), "the router starts last");
    assert!(
        manifest().services.iter().all(|s| !s.planned),
        "every service exists (notification was the last planned one)"
    );
    assert_eq!(service("notification").port, 4007);
    assert_eq!(service("kyc").database.as_deref(), Some("tenor_kyc"));
    assert_eq!(subgraphs().count(), m.services.len() - 1);
    for t in topics() {
        let want = if t.name.ends_with(".dlq") { 1 } else { 3 };
        assert_eq!(t.partitions, want, "{}", t.name);
        assert!(m.find(t.context()).is_some(), "{}", t.name);
    }
    assert_eq!(topics().len(), 2 * subgraphs().count());
}

#[test]
fn names_ports_and_topics_are_unique() {
    let names: BTreeSet<_> = services().iter().map(|s| &s.name).collect();
    let ports: BTreeSet<_> = services().iter().map(|s| s.port).collect();
    let topic_names: BTreeSet<_> = topics().iter().map(|t| &t.name).collect();
    assert_eq!(names.len(), services().len());
    assert_eq!(ports.len(), services().len());
    assert_eq!(topic_names.len(), topics().len());
}

#[test]
fn contracts_topic_names_are_manifest_topics() {
    // crates/contracts names the topics in code (it cannot depend on this crate's tests).
    let contracts = read("crates/contracts/src/lib.rs");
    let names = topics()
        .iter()
        .map(|t| t.name.as_str())
        .collect::<BTreeSet<_>>();
    for line in contracts
        .lines()
        .filter(|l| l.contains("&str = \"") && l.contains(".events"))
    {
        let name = line.split('"').nth(1).unwrap();
        assert!(
            names.contains(name),
            "crates/contracts names {name}, services.toml does not"
        );
    }
}

#[test]
fn mistakes_are_refused_all_at_once() {
    let bad = r#"
        [[service]]
        name = "auth"
        kind = "subgraph"
        port = 4001
        store = "postgres"
        database = "tenor_auth"
        [[service]]
        name = "auth"
        kind = "subgraph"
        port = 4001
        store = "postgres"
        database = "tenor_auth"
        [kafka]
        topics = [{ name = "ledger.events", partitions = 0 }]
    "#;
    let err = Manifest::parse(bad).unwrap_err();
    for want in [
        "database tenor_auth is used twice",
        "service auth is listed twice",
        "port 4001 is taken",
        "0 routers",
        "ledger is not a subgraph",
        "0 partitions",
        "topic auth.events is missing",
    ] {
        assert!(err.contains(want), "{want:?} not in: {err}");
    }
    assert!(Manifest::parse("[[service]]\nname = \"x\"\nport = 1\n").is_err());
    let unknown = SOURCE.replace("store = \"none\"", "store = \"none\"\nimage = \"x\"");
    assert!(Manifest::parse(&unknown).unwrap_err().contains("image"));
}

#[test]
fn every_built_service_has_its_folder_and_every_folder_its_entry() {
    for s in services() {
        let exists = repo_file(&s.dir()).join("Cargo.toml").is_file();
        match (s.planned, exists) {
            (false, false) => panic!(
                "services.toml lists {} but {}/ does not exist (planned = true?)",
                s.name,
                s.dir()
            ),
            (true, true) => panic!(
                "{}/ exists: remove `planned = true` from {} in services.toml",
                s.dir(),
                s.name
            ),
            _ => {}
        }
    }
    for entry in std::fs::read_dir(repo_file("subgraphs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            manifest()
                .find(&name)
                .is_some_and(|s| s.kind == Kind::Subgraph),
            "subgraphs/{name} has no [[service]] entry in services.toml"
        );
    }
}

/// `supergraph.yaml` (rover's format, read by `tenor-router compose`) routes to every built
/// subgraph on its manifest port.
#[test]
fn supergraph_yaml_routes_to_the_manifest_ports() {
    let text = read("supergraph.yaml");
    let mut routed = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with(':') {
            current = Some(trimmed.trim_end_matches(':').to_owned());
        } else if let Some(url) = trimmed.strip_prefix("routing_url:") {
            let name = current.clone().expect("routing_url under a subgraph");
            let port = url
                .trim()
                .split(':')
                .nth(2)
                .and_then(|p| p.split('/').next());
            routed.push((name, port.and_then(|p| p.parse::<u16>().ok())));
        }
    }
    let built: BTreeSet<_> = subgraphs()
        .filter(|s| !s.planned)
        .map(|s| s.name.clone())
        .collect();
    let listed: BTreeSet<_> = routed.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        listed, built,
        "supergraph.yaml's subgraphs vs the built subgraphs of services.toml"
    );
    for (name, port) in routed {
        assert_eq!(
            port,
            Some(service(&name).port),
            "supergraph.yaml routes {name} to another port"
        );
    }
}

/// The router's committed configuration listens on the router's port and fetches auth's JWKS
/// from auth's port (`./dev` sets `PORT`; the file's values are what `tenor-router` uses alone).
#[test]
fn router_config_uses_the_manifest_ports() {
    let config = read("router/router.config.yaml");
    let port = format!("port: {} ", router().port);
    assert!(
        config.lines().any(|l| l.trim_start().starts_with(&port)),
        "router/router.config.yaml: http.port should be {}",
        router().port
    );
    let jwks = format!("127.0.0.1:{}/.well-known/jwks.json", service("auth").port);
    assert!(
        config.contains(&jwks),
        "router/router.config.yaml: the JWKS URL should be {jwks}"
    );
}

/// The docker-compose topic job runs in the Kafka image, which has no TOML reader: its list
/// is a copy. `TENOR_BLESS=1 cargo test -p tenor-platform manifest` rewrites it.
#[test]
fn compose_topic_script_creates_the_manifest_topics() {
    const BEGIN: &str = "# BEGIN topics from services.toml";
    const END: &str = "# END topics";
    let path = repo_file("stack/compose/kafka-topics.sh");
    let script = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = script
        .split_once(BEGIN)
        .expect("the script marks its topic list");
    let (_, tail) = rest.split_once(END).expect("the topic list ends");
    let mut want = format!(
        "{BEGIN} (a test checks it; TENOR_BLESS=1 cargo test -p tenor-platform manifest)\nTOPICS=(\n"
    );
    for t in topics() {
        want += &format!("    {}:{}\n", t.name, t.partitions);
    }
    want += ")\n";
    let current = &script[head.len()..script.len() - tail.len() - END.len()];
    if current != want {
        if std::env::var_os("TENOR_BLESS").is_some() {
            std::fs::write(&path, format!("{head}{want}{END}{tail}")).unwrap();
        } else {
            panic!(
                "stack/compose/kafka-topics.sh differs from services.toml; its list should be:\n{want}{END}"
            );
        }
    }
}

/// The PostgreSQL container's init script creates every PostgreSQL service's database, and
/// docker-compose's healthcheck waits for the last one.
#[test]
fn compose_postgres_init_creates_the_manifest_databases() {
    let sql = read("stack/compose/postgres-init/10-databases.sql");
    let created: Vec<&str> = sql
        .lines()
        .filter_map(|l| l.strip_prefix("CREATE DATABASE "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let want: Vec<&str> = services()
        .iter()
        .filter(|s| s.store == Store::Postgres)
        .filter_map(|s| s.database.as_deref())
        .collect();
    assert_eq!(
        created, want,
        "stack/compose/postgres-init/10-databases.sql vs services.toml"
    );
    let compose = read("docker-compose.yml");
    let last = want.last().unwrap();
    assert!(
        compose.contains(&format!("-d {last}")),
        "docker-compose's postgres healthcheck should wait for {last}"
    );
}
