//! A service whose configuration is missing or malformed must exit non-zero at once, naming
//! the variable. The test runs itself again as a child process with a bad environment.

use std::process::Command;

use tenor_platform::config::{HumanDuration, load_or_exit};

const CHILD: &str = "TENOR_CONFIG_EXIT_CHILD";

#[derive(Debug)]
#[allow(dead_code)]
struct SampleConfig {
    database_url: String,
    port: u16,
    timeout: HumanDuration,
}

/// Runs only inside the child: loads the config like a service's `main` does.
#[test]
fn child_loads_config() {
    if std::env::var(CHILD).is_err() {
        return;
    }
    let config = load_or_exit("sample-service", |env| SampleConfig {
        database_url: env.required("SAMPLE_DATABASE_URL"),
        port: env.optional("SAMPLE_PORT", 4001),
        timeout: env.optional("SAMPLE_TIMEOUT", HumanDuration::default()),
    });
    println!("loaded {config:?}");
}

fn run_child(vars: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "config_exit::child_loads_config",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("SAMPLE_DATABASE_URL")
        .env_remove("SAMPLE_PORT")
        .env_remove("SAMPLE_TIMEOUT");
    for (k, v) in vars {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn missing_required_variable_exits_naming_it() {
    let output = run_child(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("SAMPLE_DATABASE_URL: is required"),
        "{stderr}"
    );
}

#[test]
fn malformed_variables_exit_naming_each_without_echoing_values() {
    let output = run_child(&[
        ("SAMPLE_DATABASE_URL", "postgres://u:p@h/db"),
        ("SAMPLE_PORT", "not-a-port-s3cr3t"),
        ("SAMPLE_TIMEOUT", "eventually"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("SAMPLE_PORT: is malformed"), "{stderr}");
    assert!(stderr.contains("SAMPLE_TIMEOUT: is malformed"), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "value echoed: {stderr}");
}

#[test]
fn valid_configuration_starts() {
    let output = run_child(&[
        ("SAMPLE_DATABASE_URL", "postgres://u:p@h/db"),
        ("SAMPLE_PORT", "4100"),
        ("SAMPLE_TIMEOUT", "250ms"),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("port: 4100"), "{stdout}");
}
