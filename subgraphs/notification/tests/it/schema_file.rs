//! The committed SDL (what composition reads) must be what this code serves.

#[test]
fn committed_sdl_matches_the_code() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/subgraphs/notification.graphql"
    );
    let committed =
        std::fs::read_to_string(path).expect("schema/subgraphs/notification.graphql exists");
    assert!(
        committed == tenor_notification::sdl(),
        "schema/subgraphs/notification.graphql is stale: run `cargo run -p tenor-notification -- print-schema > schema/subgraphs/notification.graphql`"
    );
}
