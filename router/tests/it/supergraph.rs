//! Drift: the committed supergraph and client schema are exactly what composing the committed
//! subgraph SDLs gives.
//! Shells out to Node (≥ 18), as `tenor-router compose` does; runs `npm ci` in router/compose
//! the first time.

use tenor_router::compose::{ComposeOptions, compose};

use crate::common::repo_root;

#[test]
fn committed_supergraph_and_client_schema_are_fresh() {
    let root = repo_root();
    let fresh = compose(&ComposeOptions::for_config(root.join("supergraph.yaml")))
        .unwrap_or_else(|e| panic!("composition failed: {e:#}"));
    for (file, fresh) in [
        ("schema/supergraph.graphql", &fresh.supergraph),
        ("schema/client.graphql", &fresh.client),
    ] {
        let path = root.join(file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            &committed == fresh,
            "{} is stale: run `cargo run -p tenor-router -- compose` and commit it",
            path.display()
        );
    }
}

/// The client schema is the API without federation: no join/link types or directives, no
/// `_entities`/`_service`, no auth directives (clients cannot act on them) — yet every root
/// field the app's operations use is there.
#[test]
fn client_schema_has_no_federation_internals() {
    let client = std::fs::read_to_string(repo_root().join("schema/client.graphql")).unwrap();
    for internal in [
        "join__",
        "link__",
        "@link",
        "_entities",
        "_service",
        "_Any",
        "@key",
        "@requiresScopes",
        "@authenticated",
        "@inaccessible",
    ] {
        assert!(
            !client.contains(internal),
            "client schema exposes {internal}"
        );
    }
    for root_field in ["me:", "quoteLoan(", "applyLoan(", "loanStatusChanged("] {
        assert!(
            client.contains(root_field),
            "client schema lacks {root_field}"
        );
    }
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

/// The mobile app's operations validate against the committed supergraph, and the persisted
/// documents manifest the router serves is exactly what they produce.
#[test]
fn app_operations_validate_and_the_manifest_is_fresh() {
    let root = repo_root();
    let dir = root.join("schema/operations");
    let operations = tenor_router::operations::load(&dir).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(operations.len() >= 10, "the app's operations are missing");
    let sdl = std::fs::read_to_string(root.join("schema/supergraph.graphql")).unwrap();
    tenor_router::operations::check(&sdl, &operations).unwrap_or_else(|e| panic!("{e}"));
    let committed = std::fs::read_to_string(dir.join("manifest.json")).unwrap_or_default();
    assert!(
        committed == tenor_router::operations::manifest(&operations),
        "schema/operations/manifest.json is stale: run `cargo run -p tenor-router -- compose`"
    );
}

/// A schema change that removes or retypes what an app operation uses fails the check, naming
/// the operation (composition runs the same check, so such a change cannot be composed).
#[test]
fn a_change_that_breaks_an_app_operation_is_caught() {
    let root = repo_root();
    let operations = tenor_router::operations::load(&root.join("schema/operations")).unwrap();
    let sdl = std::fs::read_to_string(root.join("schema/supergraph.graphql")).unwrap();
    for (change, from, to, broken) in [
        (
            "remove User.phoneNumber",
            "  phoneNumber: String @join__field(graph: USER)\n",
            "",
            "Me",
        ),
        (
            "rename an argument",
            "refreshToken(refreshToken: String!)",
            "refreshToken(token: String!)",
            "RefreshToken",
        ),
    ] {
        assert!(
            sdl.contains(from),
            "{change}: the supergraph changed; update this test"
        );
        let changed = sdl.replacen(from, to, 1);
        let err = tenor_router::operations::check(&changed, &operations)
            .expect_err(change)
            .to_string();
        assert!(
            err.contains(&format!("{broken} would break")),
            "{change}: {err}"
        );
    }
}
