//! `tenor-auth`: the auth subgraph (served by the shared runner), plus the operator commands
//! that must never be reachable through the API (staff accounts, signing keys).

use std::io::Read;

use clap::{Parser, Subcommand};
use tenor_auth::AuthSubgraph;
use tenor_auth::config::AuthConfig;
use tenor_contracts::identity::AccountKind;
use tenor_platform::config::load_or_exit;
use tenor_platform::refusal::{Failure, Refusal};
use tenor_platform::runner::Subgraph;

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

#[global_allocator]
static ALLOCATOR: tenor_platform::Allocator = tenor_platform::Allocator;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => tenor_platform::runner::main::<AuthSubgraph>(),
        Command::PrintSchema => {
            print!("{}", AuthSubgraph::sdl());
            Ok(())
        }
        Command::GenerateSigningKey { out } => generate_signing_key(&out),
        Command::CreateStaff {
            email,
            fullname,
            scopes,
            phone,
        } => tokio::runtime::Runtime::new()?.block_on(create_staff(email, fullname, scopes, phone)),
    }
}

fn generate_signing_key(out: &std::path::Path) -> anyhow::Result<()> {
    if out.exists() {
        anyhow::bail!("{} exists; refusing to overwrite a key", out.display());
    }
    std::fs::write(out, tenor_auth::keys::generate_pem())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o600))?;
    }
    eprintln!("wrote {}", out.display());
    Ok(())
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
        .map_err(|failure| match failure {
            Failure::Refused(refusals) => {
                let codes: Vec<&str> = refusals.iter().map(Refusal::code).collect();
                anyhow::anyhow!("refused: {}", codes.join(", "))
            }
            Failure::Error(error) => error.into(),
        })?;
    println!("{user_id}");
    Ok(())
}
