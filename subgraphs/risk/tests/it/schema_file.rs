//! The committed SDL (what composition reads) must be what this code serves.

#[test]
fn committed_sdl_matches_the_code() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/subgraphs/risk.graphql"
    );
    let committed = std::fs::read_to_string(path).expect("schema/subgraphs/risk.graphql exists");
    assert!(
        committed == tenor_risk::sdl(),
        "schema/subgraphs/risk.graphql is stale: run `cargo run -p tenor-risk -- print-schema > schema/subgraphs/risk.graphql`"
    );
}
