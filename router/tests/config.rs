//! The startup guard `tenor-router serve` runs on its configuration (no router is started).

use std::path::PathBuf;

use tenor_router::serve::guard;

fn config_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("router.config.yaml")
}

#[test]
fn committed_config_passes_the_guard() {
    guard(config_path().to_str().unwrap()).unwrap_or_else(|e| panic!("{e:#}"));
}

#[test]
fn jwt_disabled_fails_the_guard() {
    let committed = std::fs::read_to_string(config_path()).unwrap();
    assert!(
        committed.contains("jwt:\n  enabled: true\n"),
        "config layout changed; update this test"
    );
    let unsafe_config = committed.replace("jwt:\n  enabled: true\n", "jwt:\n  enabled: false\n");
    // Beside the committed file, so its relative paths resolve the same way.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        ".test-router-guard-{}.config.yaml",
        std::process::id()
    ));
    std::fs::write(&path, unsafe_config).unwrap();
    let err = guard(path.to_str().unwrap()).unwrap_err().to_string();
    std::fs::remove_file(&path).ok();
    assert!(err.contains("jwt.enabled is false"), "{err}");
}
