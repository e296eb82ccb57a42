//! The two runs over every case: each setting at its valid value on each service that reads
//! it, and each invalid value refused at start.

use std::time::Duration;

use futures::StreamExt;

use super::probes::probe;
use super::running::Running;
use super::world::{Extra, World, free_port};
use super::{MARK, Probe, Setting, Svc, settings};

/// One start with `setting` at its valid value on `svc`.
async fn good_case(world: &World, setting: &Setting, svc: Svc) -> Result<(), String> {
    let port = free_port();
    let mut env = world.base_env(svc, port);
    let mut extra = Extra::default();
    let value = world.fill(setting.good, svc, port, &mut extra).await;
    env.insert(setting.var.to_owned(), value.clone());
    for (var, template) in setting.with {
        let filled = world.fill(template, svc, port, &mut Extra::default()).await;
        env.insert((*var).to_owned(), filled);
    }
    extra.mongo_database = ["RISK_MONGODB_DATABASE", "NOTIFICATION_MONGODB_DATABASE"]
        .into_iter()
        .find_map(|var| env.get(var).cloned());
    let host = if setting.var == "HOST" {
        value.as_str()
    } else {
        "127.0.0.1"
    };
    let running = Running::start(svc, env, host).await?;
    let result = probe(setting.probe, &running, world, &extra).await;
    let result = result.map_err(|e| format!("{e}\n{}", running.output()));
    running.stop().await;
    result
}

/// One start with `setting` at an invalid value on `svc`: exit 2 at once, naming it.
async fn bad_case(world: &World, setting: &Setting, svc: Svc, bad: &str) -> Result<(), String> {
    assert!(
        bad.contains(MARK),
        "{}: bad value without the marker",
        setting.var
    );
    let mut env = world.base_env(svc, free_port());
    let with = if setting.bad_alone {
        &[][..]
    } else {
        setting.with
    };
    for (var, template) in with {
        let filled = world.fill(template, svc, 0, &mut Extra::default()).await;
        env.insert((*var).to_owned(), filled);
    }
    // Filled too: a broken rule file is a directory made for the case.
    let bad = world.fill(bad, svc, 0, &mut Extra::default()).await;
    env.insert(setting.var.to_owned(), bad);
    let (mut child, stdout, stderr) = Running::spawn(svc, &env).await;
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await;
    let out = std::fs::read_to_string(&stdout).unwrap_or_default()
        + &std::fs::read_to_string(&stderr).unwrap_or_default();
    let _ = std::fs::remove_file(&stdout);
    let _ = std::fs::remove_file(&stderr);
    let Ok(status) = status else {
        let _ = child.kill().await;
        return Err(format!("still running 15 s after start:\n{out}"));
    };
    let status = status.map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    if status.code() != Some(2) {
        problems.push(format!("exit {status}, expected status 2"));
    }
    if !out.contains(&format!("{}:", setting.var)) {
        problems.push("the message does not name the variable".to_owned());
    }
    if out.to_lowercase().contains(MARK) {
        problems.push("the value is echoed".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{out}", problems.join("; ")))
    }
}

/// How many services start at once (a 2-core machine shared with builds).
const CONCURRENCY: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_setting_starts_each_service_that_reads_it_and_takes_effect() {
    tenor_platform::crypto::install_providers();
    let world = World::new().await;
    let cases: Vec<(&Setting, Svc)> = settings()
        .flat_map(|setting| setting.services.iter().map(move |svc| (setting, *svc)))
        .collect();
    let started = std::time::Instant::now();
    let failures: Vec<String> = futures::stream::iter(cases)
        .map(|(setting, svc)| {
            let world = &world;
            async move {
                good_case(world, setting, svc)
                    .await
                    .err()
                    .map(|e| format!("{}={} on {}: {e}", setting.var, setting.good, svc.name()))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    eprintln!("valid values: {:?}", started.elapsed());
    for setting in settings() {
        if let Probe::StartOnly(why) = setting.probe {
            eprintln!("start-up only: {} ({why})", setting.var);
        }
    }
    world.clean_up().await;
    assert!(
        failures.is_empty(),
        "{} setting(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_typed_setting_refuses_a_bad_value_naming_the_variable() {
    // No shared auth or customer needed: configuration is read before anything connects.
    let world = World::bare().await;
    let cases: Vec<(&Setting, Svc, &str)> = settings()
        .flat_map(|setting| {
            setting
                .services
                .iter()
                .flat_map(move |svc| setting.bad.iter().map(move |bad| (setting, *svc, *bad)))
        })
        .collect();
    assert!(cases.len() > 50, "{} bad-value cases", cases.len());
    let dir = world.dir.clone();
    let failures: Vec<String> = futures::stream::iter(cases)
        .map(|(setting, svc, bad)| {
            let world = &world;
            async move {
                bad_case(world, setting, svc, bad)
                    .await
                    .err()
                    .map(|e| format!("{}={bad} on {}: {e}", setting.var, svc.name()))
            }
        })
        .buffer_unordered(4)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    let _ = std::fs::remove_dir_all(dir);
    assert!(
        failures.is_empty(),
        "{} bad value(s) not refused properly:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
