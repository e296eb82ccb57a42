//! The committed SDL (what composition reads) must be what this code serves.

#[test]
fn committed_sdl_matches_the_code() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/subgraphs/auth.graphql"
    );
    let committed = std::fs::read_to_string(path).expect("schema/subgraphs/auth.graphql exists");
    assert!(
        committed == tenor_auth::sdl(),
        "schema/subgraphs/auth.graphql is stale: run `cargo run -p tenor-auth -- print-schema > schema/subgraphs/auth.graphql`"
    );
}
