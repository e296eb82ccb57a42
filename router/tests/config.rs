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
    let supergraph = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema/supergraph.graphql");
    assert!(
        committed.contains("jwt:\n  enabled: true\n"),
        "config layout changed; update this test"
    );
    let unsafe_config = committed
        .replace("jwt:\n  enabled: true\n", "jwt:\n  enabled: false\n")
        .replace(
            "path: ../schema/supergraph.graphql",
            &format!("path: {}", supergraph.display()),
        );
    let dir = std::env::temp_dir().join(format!("tenor-router-guard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("router.config.yaml");
    std::fs::write(&path, unsafe_config).unwrap();
    let err = guard(path.to_str().unwrap()).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).ok();
    assert!(err.contains("jwt.enabled is false"), "{err}");
}
