//! `tenor-loan`: the loan subgraph. `tenor-loan print-schema` prints its federation SDL.

use std::net::IpAddr;

use tenor_loan::LoanConfig;
use tenor_platform::config::load_or_exit;
use tenor_platform::http::shutdown_signal;
use tenor_platform::telemetry::{self, TelemetryConfig};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("print-schema") {
        print!("{}", tenor_loan::sdl());
        return Ok(());
    }
    let (telemetry_config, config, host, port) = load_or_exit("tenor-loan", |env| {
        (
            TelemetryConfig::from_env(env),
            LoanConfig::from_env(env),
            // Loopback unless told otherwise: the router is the public entry point.
            env.optional::<IpAddr>("HOST", IpAddr::from([127, 0, 0, 1])),
            env.optional::<u16>("PORT", 4004),
        )
    });
    telemetry::init("tenor-loan", &telemetry_config);
    let listener = tokio::net::TcpListener::bind((host, port)).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.cancel();
        }
    });
    tenor_loan::run(config, listener, shutdown).await
}
