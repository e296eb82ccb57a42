//! The shared harness (crates/harness): real subgraphs in-process, this crate's `tenor-router`
//! binary as a child process in front of them.

#![allow(unused_imports, dead_code)]

pub use tenor_harness::*;
