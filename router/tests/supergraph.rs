//! Drift: the committed supergraph is exactly what composing the committed subgraph SDLs gives.
//! Shells out to Node (≥ 18), as `tenor-router compose` does; runs `npm ci` in router/compose
//! the first time.

use std::path::PathBuf;

use tenor_router::compose::{ComposeOptions, compose};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn committed_supergraph_is_fresh() {
    let root = repo_root();
    let fresh = compose(&ComposeOptions::for_config(root.join("supergraph.yaml")))
        .unwrap_or_else(|e| panic!("composition failed: {e:#}"));
    let path = root.join("schema/supergraph.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `cargo run -p tenor-router -- compose` and commit it",
        path.display()
    );
}

/// The guard `serve` runs before starting: the committed supergraph passes it, and the same
/// supergraph without the requiresScopes `@link` (the router would silently stop enforcing
/// `@requiresScopes`) fails it.
#[test]
fn guard_catches_a_missing_requires_scopes_link() {
    let sdl = std::fs::read_to_string(repo_root().join("schema/supergraph.graphql")).unwrap();
    assert_eq!(tenor_router::compose::check_served_supergraph(&sdl), Ok(()));
    let link = r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#;
    assert!(
        sdl.contains(link),
        "the supergraph should link requiresScopes"
    );
    let stripped = sdl.replace(link, "");
    let err = tenor_router::compose::check_served_supergraph(&stripped).unwrap_err();
    assert!(err.to_string().contains("@requiresScopes is used"), "{err}");
}
