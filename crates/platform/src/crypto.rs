//! The process-wide crypto providers, installed once before any TLS connection or token.
//!
//! Two libraries ask the process to choose:
//! - rustls: `ring`, which the MongoDB driver already links.
//! - jsonwebtoken: `aws-lc-rs`. ES256 verification is on every request's path (the router and
//!   each subgraph check the access token); RustCrypto's pure-Rust P-256, the backend hive-router
//!   asks for, verified in about 5× the time of aws-lc's assembly one on the 2-core development
//!   machine (docs/benchmarks.md § auth). hive-router links the RustCrypto backend too, so with both
//!   compiled in jsonwebtoken refuses to guess and panics on its first token unless a provider
//!   was installed first: every binary and test process calls [`install_providers`] at start.

/// Installs both providers; later calls (several services in one test process) change nothing.
pub fn install_providers() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
