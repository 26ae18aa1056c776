//! `quasm token create`: prints a JWT alone on stdout, signed with the key
//! `quasm serve` verifies (the configured HS256 secret, else the key kept in
//! the data directory, created on first use).

use std::process::ExitCode;

use quasm_gateway::auth::{JwtSigner, Role};

use crate::config::Settings;

#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(clap::Subcommand)]
enum TokenCommand {
    /// Create a signed token for a tenant and role(s).
    Create(CreateArgs),
}

#[derive(clap::Args)]
struct CreateArgs {
    /// Tenant the token is scoped to.
    #[arg(long)]
    tenant: String,
    /// Role(s): viewer, developer, operator, admin (repeatable).
    #[arg(long = "role", required = true)]
    roles: Vec<Role>,
    /// Lifetime, e.g. 30m, 12h, 30d.
    #[arg(long, default_value = "24h", value_parser = crate::config::parse_duration)]
    ttl: std::time::Duration,
    /// The token's subject (`sub`).
    #[arg(long, default_value = "cli")]
    subject: String,
    #[command(flatten)]
    settings: Settings,
}

pub fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TokenCommand::Create(a) => {
            let s = a.settings.load()?;
            let (secret, _) = s.hs256_secret()?;
            let signer = JwtSigner::hs256(&secret)?;
            let token = signer.sign(
                &a.tenant,
                &a.subject,
                &a.roles,
                a.ttl,
                s.jwt_issuer.as_deref(),
                s.jwt_audience.as_deref(),
            )?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
