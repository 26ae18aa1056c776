//! Command-line interface: one module per subcommand.

mod bench;
mod check;
mod keys;
mod migrate;
mod run;
mod serve;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "quasm", version, about = "Self-hostable serverless JavaScript platform")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a function file once and print the result as JSON.
    Run(run::RunArgs),
    /// Check a function file for syntax errors.
    Check(check::CheckArgs),
    /// Run a benchmark and print its figures.
    Bench(bench::BenchArgs),
    /// Apply pending database migrations (idempotent).
    Migrate(migrate::MigrateArgs),
    /// Run the platform: gateway, controller and runtime in one process.
    Serve(serve::ServeArgs),
    /// Create credentials.
    Token(token::TokenArgs),
    /// Manage the keys that sign service-binding tokens.
    Keys(keys::KeysArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(a),
        Command::Bench(a) => bench::bench(a),
        Command::Migrate(a) => migrate::migrate(a),
        Command::Serve(a) => serve::serve(a),
        Command::Token(a) => token::token(a),
        Command::Keys(a) => keys::keys(a),
    }
}

/// The runtime every local command uses: default engine settings, with the
/// compiled guest cached under the user's cache directory.
fn local_runtime(net: quasm_runtime::NetPolicy) -> anyhow::Result<quasm_runtime::Runtime> {
    let config = quasm_runtime::RuntimeConfig { net, ..Default::default() };
    Ok(quasm_runtime::Runtime::new(config)?)
}

/// `/var/lib/quasm` for root (the embedded Postgres runs as the `postgres`
/// user, which cannot reach root's home); otherwise `$XDG_DATA_HOME/quasm`,
/// else `~/.local/share/quasm`, else `./quasm-data`.
pub(crate) fn default_data_dir() -> std::path::PathBuf {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return "/var/lib/quasm".into();
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return std::path::PathBuf::from(d).join("quasm");
    }
    match std::env::var_os("HOME") {
        Some(h) => std::path::PathBuf::from(h).join(".local/share/quasm"),
        None => "quasm-data".into(),
    }
}
