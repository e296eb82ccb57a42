//! The stock Hive Router: the same statements as hive-router 0.2's own `src/main.rs` (no
//! plugins, no guard, the RustCrypto JWT backend hive-router ships with), built from the same
//! crate and profile as `tenor-router` (the `ntex` import is what hive-router's own `main` macro
//! expects in scope), so `tenor-bench router` measures exactly what our plugins and
//! configuration add. Not deployed.

// ntex's service types nest deeply; release builds need more than the default 128 (hive-router's
// own main sets the same).
#![recursion_limit = "256"]

use hive_router::{
    PluginRegistry, RouterGlobalAllocator, configure_global_allocator, error::RouterInitError,
    init_rustls_crypto_provider, ntex, router_entrypoint,
};

configure_global_allocator!();

#[hive_router::main]
async fn main() -> Result<(), RouterInitError> {
    init_rustls_crypto_provider();
    // hive-router as shipped verifies tokens with the RustCrypto backend it asks for; the
    // workspace also compiles aws-lc's, so jsonwebtoken has no default and needs telling.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    router_entrypoint(PluginRegistry::new()).await
}
