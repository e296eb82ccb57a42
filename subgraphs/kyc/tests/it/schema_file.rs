//! The committed SDL (what composition reads) must be what this code serves.

#[test]
fn committed_sdl_matches_the_code() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/subgraphs/kyc.graphql"
    );
    let committed = std::fs::read_to_string(path).expect("schema/subgraphs/kyc.graphql exists");
    assert!(
        committed == tenor_kyc::sdl(),
        "schema/subgraphs/kyc.graphql is stale: run `cargo run -p tenor-kyc -- print-schema > schema/subgraphs/kyc.graphql`"
    );
}
