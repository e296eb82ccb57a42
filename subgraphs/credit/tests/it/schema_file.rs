//! The committed SDL (what composition reads) must be what this code serves.

#[test]
fn committed_sdl_matches_the_code() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/subgraphs/credit.graphql"
    );
    let committed = std::fs::read_to_string(path).expect("schema/subgraphs/credit.graphql exists");
    assert!(
        committed == tenor_credit::sdl(),
        "schema/subgraphs/credit.graphql is stale: run `cargo run -p tenor-credit -- print-schema > schema/subgraphs/credit.graphql`"
    );
}
