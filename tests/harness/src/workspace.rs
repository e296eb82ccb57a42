//! Where things are: the repository's root and the binaries this workspace's build produced.

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned()
}

/// A binary of this workspace's build (same profile as the running executable): next to it for a
/// binary (`target/release/tenor-bench`), one level up for a test (`target/debug/deps/…`).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the running executable");
    let dir = exe.parent().unwrap();
    [dir.join(name), dir.parent().unwrap().join(name)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no {name} binary next to {}: build it (cargo build [--release] -p tenor-router --bins)",
                exe.display()
            )
        })
}
