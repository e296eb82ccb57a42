//! `tenor-auth`: the auth subgraph, plus the operator commands that must never be reachable
//! through the API (staff accounts, signing keys).

use std::io::Read;
use std::net::IpAddr;

use clap::{Parser, Subcommand};
use tenor_auth::config::AuthConfig;
use tenor_auth::keys::KeyError;
use tenor_contracts::identity::AccountKind;
use tenor_platform::config::{Env, load_or_exit};
use tenor_platform::http::shutdown_signal;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "tenor-auth", about = "Tenor auth subgraph")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the subgraph (the default).
    Serve,
    /// Print this subgraph's SDL.
    PrintSchema,
    /// Write a new P-256 signing key (PKCS#8 PEM) to a file, for AUTH_SIGNING_KEYS.
    GenerateSigningKey {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Create a back-office staff account. The password is read from standard input.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        fullname: String,
        /// Space-separated scopes, e.g. "kyc:review kyc:pii:read".
        #[arg(long)]
        scopes: String,
        #[arg(long)]
        phone: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::PrintSchema => {
            print!("{}", tenor_auth::sdl());
            Ok(())
        }
        Command::GenerateSigningKey { out } => {
            if out.exists() {
                anyhow::bail!("{} exists; refusing to overwrite a key", out.display());
            }
            std::fs::write(&out, tenor_auth::keys::generate_pem())?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600))?;
            }
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        Command::CreateStaff {
            email,
            fullname,
            scopes,
            phone,
        } => create_staff(email, fullname, scopes, phone).await,
        Command::Serve => serve().await,
    }
}

async fn serve() -> anyhow::Result<()> {
    let (config, host, port) = load_or_exit("tenor-auth", |env| {
        let config = AuthConfig::from_env(env);
        check_signing_keys(env, &config);
        (
            config,
            // An address, like the other services (a name failed later, at bind, unnamed).
            env.optional::<IpAddr>("HOST", IpAddr::from([127, 0, 0, 1])),
            env.optional::<u16>("PORT", 4001),
        )
    });
    tenor_platform::telemetry::init("tenor-auth", &config.telemetry);
    let listener = tokio::net::TcpListener::bind((host, port)).await?;
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    tenor_auth::run(config, listener, shutdown).await
}

/// Reads the key files at once, so a missing or unusable one stops the service with exit 2 and
/// the variable's name instead of a bare I/O error after start-up began.
fn check_signing_keys(env: &mut Env, config: &AuthConfig) {
    if config.signing_keys.0.is_empty() || config.active_signing_key.is_empty() {
        return; // already reported as missing
    }
    match tenor_auth::keys::load(&config.signing_keys, &config.active_signing_key) {
        Ok(_) | Err(KeyError::ActiveMissing(_)) => {} // the latter is AUTH_ACTIVE_SIGNING_KEY's
        Err(e) => env.fail("AUTH_SIGNING_KEYS", e.to_string()),
    }
}

async fn create_staff(
    email: String,
    fullname: String,
    scopes: String,
    phone: Option<String>,
) -> anyhow::Result<()> {
    use tenor_auth::domain::{identity, password};
    let config = load_or_exit("tenor-auth", AuthConfig::from_env);
    let email = identity::normalise_email(&email).map_err(|_| anyhow::anyhow!("invalid email"))?;
    let phone = phone
        .map(|p| identity::normalise_phone(&p).map_err(|_| anyhow::anyhow!("invalid phone number")))
        .transpose()?;
    let mut secret = String::new();
    std::io::stdin().read_to_string(&mut secret)?;
    let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
    if let Err(rejection) = password::check_policy(&secret, &[&email, &fullname]) {
        anyhow::bail!("password refused: {}", rejection.code());
    }
    let scopes: Vec<String> = scopes.split_whitespace().map(str::to_owned).collect();
    let (service, _) = tenor_auth::build(&config).await?;
    let hash = password::hash_async(secret).await;
    let user_id = uuid::Uuid::now_v7();
    let mut conn = service.conn().await?;
    service
        .create_account(
            &mut conn,
            user_id,
            &email,
            phone.as_deref(),
            fullname.trim(),
            &hash,
            AccountKind::Staff,
            scopes,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{user_id}");
    Ok(())
}
