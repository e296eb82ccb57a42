//! `tenor-bench`: measurements printed side by side from one run, so the ratios compare like
//! with like on the same machine at the same moment. Needs the local stack (`./dev up`).
//!
//! Run with `cargo run --release -p tenor-bench -- <name>` (see README "Benchmarks").

mod auth;
mod stats;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "tenor-bench")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Login throughput and latency vs the raw argon2id cost; a cheap query's latency while
    /// logins saturate the CPU.
    Auth(auth::Options),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tenor_platform::telemetry::install_tls_provider();
    match Cli::parse().bench {
        Bench::Auth(options) => auth::run(options).await,
    }
}
