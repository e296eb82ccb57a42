//! The shared harness (tests/harness): real subgraphs in-process, this crate's `tenor-router`
//! binary as a child process in front of them.

pub use tenor_harness::*;
