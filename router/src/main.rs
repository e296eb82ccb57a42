//! `tenor-router [serve]` serves the supergraph; `tenor-router compose` recomposes it.

// ntex's service types nest deeply; release builds need more than the default 128 (hive-router's
// own main sets the same).
#![recursion_limit = "256"]

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};
#[cfg(not(feature = "heap-profile"))]
use hive_router::RouterGlobalAllocator;
use tenor_router::compose::{ComposeOptions, base_dir, compose};
use tenor_router::operations;
use tenor_router::serve::{self, CONFIG_ENV, DEFAULT_CONFIG};

// The engine's allocator (mimalloc); `--features heap-profile` keeps the system one so heaptrack
// sees every allocation.
#[cfg(not(feature = "heap-profile"))]
hive_router::configure_global_allocator!();

#[derive(Parser)]
#[command(
    name = "tenor-router",
    about = "Tenor's federated GraphQL router (Hive Router)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the supergraph (the default).
    Serve {
        /// hive-router configuration file.
        #[arg(long, env = CONFIG_ENV, default_value = DEFAULT_CONFIG)]
        config: String,
    },
    /// Compose supergraph.yaml's subgraph SDLs, check the result and write the supergraph, the
    /// client schema (client.graphql beside it) and the operations manifest.
    Compose {
        /// rover-format supergraph config; SDL paths in it are relative to its folder.
        #[arg(long, default_value = "supergraph.yaml")]
        config: PathBuf,
        /// Where to write the supergraph [default: schema/supergraph.graphql beside the config].
        #[arg(long)]
        out: Option<PathBuf>,
        /// The Node project with compose.mjs [default: router/compose beside the config].
        #[arg(long)]
        composer_dir: Option<PathBuf>,
        /// Write nothing; fail when the file at --out differs from a fresh composition.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or_else(|| Cmd::Serve {
        config: std::env::var(CONFIG_ENV).unwrap_or_else(|_| DEFAULT_CONFIG.to_owned()),
    });
    let result = match command {
        Cmd::Serve { config } => run_serve(config),
        Cmd::Compose {
            config,
            out,
            composer_dir,
            check,
        } => run_compose(config, out, composer_dir, check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tenor-router: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_serve(config: String) -> anyhow::Result<()> {
    // hive-router takes some settings only from the environment: re-execute with them set (same
    // pid, same arguments) — setting them in-process would need `unsafe` (edition 2024).
    let wanted = serve::engine_environment(&config, &|name| std::env::var(name).ok());
    let missing: Vec<&(String, String)> = wanted
        .iter()
        .filter(|(name, value)| std::env::var(name).ok().as_deref() != Some(value.as_str()))
        .collect();
    if !missing.is_empty() {
        let exe = std::env::current_exe()?;
        let err = Command::new(exe)
            .args(std::env::args_os().skip(1))
            .envs(missing.iter().map(|(name, value)| (name, value)))
            .exec();
        anyhow::bail!("cannot re-execute with the engine's environment set: {err}");
    }
    serve::guard(&config)?;
    serve::run().map_err(|e| anyhow::anyhow!("router: {e}"))
}

fn run_compose(
    config: PathBuf,
    out: Option<PathBuf>,
    composer_dir: Option<PathBuf>,
    check: bool,
) -> anyhow::Result<()> {
    let out = out.unwrap_or_else(|| base_dir(&config).join("schema").join("supergraph.graphql"));
    let mut opts = ComposeOptions::for_config(config);
    if let Some(dir) = composer_dir {
        opts.composer_dir = dir;
    }
    let composed = compose(&opts)?;
    let supergraph = composed.supergraph;
    // The mobile app's operations must still validate against what is about to be served.
    let operations_dir = out
        .parent()
        .map(|schema| schema.join("operations"))
        .unwrap_or_else(|| PathBuf::from("schema/operations"));
    let app_operations = operations::load(&operations_dir)?;
    operations::check(&supergraph, &app_operations).map_err(|problems| {
        anyhow::anyhow!(
            "this change breaks operations in {}:\n{problems}",
            operations_dir.display()
        )
    })?;
    let manifest_path = operations_dir.join("manifest.json");
    let client_path = out.with_file_name("client.graphql");
    let outputs = [
        (out.as_path(), supergraph),
        (client_path.as_path(), composed.client),
        (
            manifest_path.as_path(),
            operations::manifest(&app_operations),
        ),
    ];
    for (path, fresh) in outputs {
        if check {
            let committed = std::fs::read_to_string(path).unwrap_or_default();
            if committed != fresh {
                anyhow::bail!(
                    "{} is stale: run `tenor-router compose` and commit the result",
                    path.display()
                );
            }
            eprintln!("{} is up to date", path.display());
        } else {
            std::fs::write(path, &fresh)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
