//! Command-line interface: one module per subcommand.

mod bench;
mod check;
mod run;

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
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(a),
        Command::Bench(a) => bench::bench(a),
    }
}

/// The runtime every local command uses: default engine settings, with the
/// compiled guest cached under the user's cache directory.
fn local_runtime(net: quasm_runtime::NetPolicy) -> anyhow::Result<quasm_runtime::Runtime> {
    let config = quasm_runtime::RuntimeConfig { net, ..Default::default() };
    Ok(quasm_runtime::Runtime::new(config)?)
}
