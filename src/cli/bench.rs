//! `quasm bench runtime [--json]`.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    target: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("benchmark {:?} is not implemented yet", args.target)
}
