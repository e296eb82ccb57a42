//! The committed SDL (what composition reads) must be what this code serves.

#[test]
fn committed_sdl_matches_the_code() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/subgraphs/loan.graphql"
    );
    let committed = std::fs::read_to_string(path).expect("schema/subgraphs/loan.graphql exists");
    assert!(
        committed == tenor_loan::sdl(),
        "schema/subgraphs/loan.graphql is stale: run `cargo run -p tenor-loan -- print-schema > schema/subgraphs/loan.graphql`"
    );
}
