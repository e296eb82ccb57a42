//! `tenor-bench`: measurements printed side by side from one run, so the ratios compare like
//! with like on the same machine at the same moment. Needs the local stack (`./dev up`).
//!
//! Run with `cargo run --release -p tenor-bench -- <name>` (see README "Benchmarks").

mod auth;
mod decision;
mod hops;
mod live;
mod loan;
mod notification;
mod open_loop;
mod process;
mod recovery;
mod router;
mod script_calls;
mod stats;
mod subscriptions;
mod token_verify;

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
    /// A cross-subgraph query through tenor-router vs the stock hive-router vs the subgraphs
    /// called directly (build the routers first: cargo build --release -p tenor-router --bins).
    Router(router::Options),
    /// Credit decision → WebSocket `next` latency through the router, and applyLoan latency at
    /// a fixed rate (build the routers first: cargo build --release -p tenor-router --bins).
    Loan(loan::Options),
    /// applyLoan response → decision pushed on the subscription, with credit and risk deciding,
    /// at a fixed rate of applications; each hop's latency beside it.
    Decision(decision::Options),
    /// A `loan.approved.v1` event acknowledged by Kafka → the email accepted by SMTP and the
    /// inbox item pushed on `notificationReceived`, at a fixed rate, with intake beside them.
    Notification(notification::Options),
    /// Credit decision → WebSocket `next`, split per hop (consumer, outbox relay, live hub, router).
    Hops(hops::Options),
    /// Restarts the Kafka broker (`./dev kafka-restart`): how long until each consumer group and
    /// a borrower's subscription resume.
    Recovery(recovery::Options),
    /// Live `loanStatusChanged` subscriptions at scale through the router: how many stay open,
    /// resident memory per subscription in the router and a loan replica, and status changes
    /// (one at a time, then a burst) reaching them (build first: cargo build --release -p
    /// tenor-router -p tenor-loan --bins).
    Subscriptions(subscriptions::Options),
}

/// As the services: the subgraphs run in this process, so it allocates as they do.
#[global_allocator]
static ALLOCATOR: tenor_platform::Allocator = tenor_platform::Allocator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tenor_platform::crypto::install_providers();
    match Cli::parse().bench {
        Bench::Auth(options) => auth::run(options).await,
        Bench::Router(options) => router::run(options).await,
        Bench::Loan(options) => loan::run(options).await,
        Bench::Decision(options) => decision::run(options).await,
        Bench::Notification(options) => notification::run(options).await,
        Bench::Hops(options) => hops::run(options).await,
        Bench::Recovery(options) => recovery::run(options).await,
        Bench::Subscriptions(options) => subscriptions::run(options).await,
    }
}
