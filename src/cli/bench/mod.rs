//! `quasm bench runtime [--json]`: the runtime's figures, measured through
//! the same public API the platform uses. Build with `--release`.

mod runtime;

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure: `runtime`.
    target: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Calls per latency series.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.target.as_str() {
        "runtime" => {
            let figures = runtime::measure(args.calls)?;
            if args.json {
                println!("{}", serde_json::to_string(&figures)?);
            } else {
                for (k, v) in figures.as_object().expect("object") {
                    println!("{k:>28}  {v}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        other => anyhow::bail!("unknown benchmark {other:?}; available: runtime"),
    }
}

/// Percentile of sorted samples.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}
