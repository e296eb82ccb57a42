//! The documentation side: the variables the README's "Configuration" table and `.env.example`
//! document, and the check that each has a case in [`settings`](super::settings) with the
//! services the README says read it. A variable may have several rows (a shared one and a
//! service's own, e.g. notification's `AUTH_JWKS_URL`): its readers are those of all its rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{ALL, CONSUMERS, POSTGRES, PRODUCERS, Setting, Svc, settings};

/// `.env.example` settings that no service reads: `./dev`'s own (ports, cache, waits, tools)
/// and docker-compose's. The README rows of `./dev` and tests are recognised by their "used by"
/// column.
const NOT_SERVICE_VARIABLES: &[&str] = &[
    "TENOR_PG_PORT",
    "TENOR_REDIS_PORT",
    "TENOR_KAFKA_PORT",
    "TENOR_KAFKA_CONTROLLER_PORT",
    "TENOR_MONGO_PORT",
    "TENOR_CACHE_DIR",
    "TENOR_KAFKA_WAIT_SECONDS",
    "TENOR_SERVICE_WAIT_SECONDS",
    "TENOR_PG_BIN",
    "CARGO_TARGET_DIR",
    // Tests' superuser URL (per-test databases), not a service setting.
    "TENOR_PG_ADMIN_URL",
    // docker-compose's own settings: the image to run, the published router port, the auth
    // signing key file mounted as a compose secret and its key id.
    "TENOR_IMAGE",
    "TENOR_ROUTER_PORT",
    "TENOR_AUTH_SIGNING_KEY_FILE",
    "TENOR_AUTH_SIGNING_KEY_ID",
    // docker-compose.yml
    "TENOR_PG_USER",
    "TENOR_PG_PASSWORD",
    "TENOR_KAFKA_CLUSTER_ID",
    "TENOR_KAFKA_HEAP_OPTS",
    // ./dev's Mailpit (the local mail catcher notification sends to) and the tests' URL of its
    // API.
    "TENOR_MAILPIT_SMTP_PORT",
    "TENOR_MAILPIT_HTTP_PORT",
    "TENOR_MAILPIT_MAX_MESSAGES",
    "MAILPIT_API_URL",
];

/// Documented for services that do not exist in this repository yet: checked once they do.
/// None today (notification, the last one, landed).
const FUTURE_SERVICES: &[&str] = &[];

pub(super) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// One row of the README's configuration table: its variables and "used by" column.
#[derive(Debug)]
struct Row {
    vars: Vec<String>,
    used_by: String,
}

fn readme_rows() -> Vec<Row> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("\n## Configuration")
        .nth(1)
        .expect("README has a Configuration section");
    let section = section.split("\n## ").next().unwrap();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        assert!(
            cells.len() >= 3,
            "configuration row with too few cells: {line}"
        );
        let mut vars: Vec<String> = Vec::new();
        for piece in cells[0].trim_start_matches('|').split(" / ") {
            let piece = piece.trim().trim_matches('`');
            // `X_A_B` / `_C_D`: a suffix replacing X's tail from where `_C` occurs (else the same
            // number of segments).
            let name = if let Some(tail) = piece
                .strip_prefix('…')
                .or(piece.starts_with('_').then_some(piece))
            {
                let first = vars.first().expect("a suffix after a full name").clone();
                let head = tail.split('_').find(|p| !p.is_empty()).unwrap();
                match first.find(&format!("_{head}")) {
                    Some(at) => format!("{}{tail}", &first[..at]),
                    None => {
                        let keep = first.split('_').count()
                            - tail.split('_').filter(|p| !p.is_empty()).count();
                        let prefix: Vec<&str> = first.split('_').take(keep).collect();
                        format!("{}{tail}", prefix.join("_"))
                    }
                }
            } else {
                piece.to_owned()
            };
            vars.push(name);
        }
        let used_by = cells[2].trim().to_owned();
        // `<SERVICE>_DATABASE_URL`: one per service named in "used by".
        if vars.len() == 1 && vars[0].starts_with("<SERVICE>") {
            let suffix = vars[0].trim_start_matches("<SERVICE>").to_owned();
            vars = used_by
                .split(',')
                .map(|s| format!("{}{suffix}", s.trim().trim_matches('`').to_uppercase()))
                .collect();
        }
        rows.push(Row { vars, used_by });
    }
    assert!(
        rows.len() > 20,
        "too few configuration rows found: {rows:?}"
    );
    rows
}

fn env_example_vars() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_root().join(".env.example")).unwrap();
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start_matches('#').trim();
            let (name, _) = line.split_once('=')?;
            (!name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
            .then(|| name.to_owned())
        })
        .collect()
}

/// The present services a "used by" cell names; `None` for rows that are not about the
/// subgraphs (router only, `./dev`, tests).
fn row_services(used_by: &str) -> Option<BTreeSet<Svc>> {
    let mut services = BTreeSet::new();
    let mut about_services = false;
    for part in used_by.split(',').map(|p| p.trim().trim_matches('`')) {
        let group: &[Svc] = match part {
            "all services" | "all subgraphs" => ALL,
            "PostgreSQL services" => POSTGRES,
            "event producers" => PRODUCERS,
            "event consumers" => CONSUMERS,
            "router" | "./dev" | "tests" => &[],
            name if FUTURE_SERVICES.contains(&name) => {
                about_services = true;
                &[]
            }
            name => &[Svc::from_name(name)
                .unwrap_or_else(|| panic!("unknown \"used by\" entry {name:?} in the README"))],
        };
        about_services |= !group.is_empty();
        services.extend(group);
    }
    about_services.then_some(services)
}

#[test]
fn every_documented_service_variable_has_a_case() {
    let rows = readme_rows();
    // Every service any row of a variable names.
    let mut readers: BTreeMap<&str, BTreeSet<Svc>> = BTreeMap::new();
    for row in &rows {
        if let Some(services) = row_services(&row.used_by) {
            for var in &row.vars {
                readers
                    .entry(var)
                    .or_default()
                    .extend(services.iter().copied());
            }
        }
    }
    let mut documented = BTreeSet::new();
    let mut problems = Vec::new();
    for row in &rows {
        let Some(row_services) = row_services(&row.used_by) else {
            // Router variables: router/tests. ./dev and tests: not read by services.
            documented.extend(row.vars.iter().cloned());
            continue;
        };
        let mut covered = BTreeSet::new();
        for var in &row.vars {
            documented.insert(var.clone());
            let cases: Vec<&Setting> = settings().filter(|s| s.var == var).collect();
            let var_services: BTreeSet<Svc> = cases
                .iter()
                .flat_map(|s| s.services.iter().copied())
                .collect();
            if cases.is_empty() && !row_services.is_empty() {
                // A service variable of a future service only (NOTIFICATION_…) is fine.
                let future_only = var
                    .split('_')
                    .next()
                    .is_some_and(|head| FUTURE_SERVICES.contains(&head.to_lowercase().as_str()));
                if !future_only {
                    problems.push(format!("{var}: documented but has no case in SETTINGS"));
                }
            }
            for svc in &var_services {
                if !readers[var.as_str()].contains(svc) {
                    problems.push(format!(
                        "{var}: read by {} but no README row's \"used by\" names it ({:?})",
                        svc.name(),
                        row.used_by
                    ));
                }
            }
            covered.extend(var_services);
        }
        for svc in row_services.difference(&covered) {
            problems.push(format!(
                "{:?}: the README says {} uses it, but no case has {} read it",
                row.vars,
                svc.name(),
                svc.name()
            ));
        }
    }
    for setting in settings() {
        if !documented.contains(setting.var) {
            problems.push(format!(
                "{}: has a case but is not in the README",
                setting.var
            ));
        }
    }
    for var in env_example_vars() {
        if !documented.contains(&var) && !NOT_SERVICE_VARIABLES.contains(&var.as_str()) {
            problems.push(format!(
                "{var}: in .env.example but neither in the README's table nor a ./dev or docker-compose setting"
            ));
        }
    }
    for var in NOT_SERVICE_VARIABLES {
        if settings().any(|s| s.var == *var) {
            problems.push(format!(
                "{var}: listed as not read by services but has a case"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
