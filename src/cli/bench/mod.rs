//! `quasm bench runtime|bindings [--json]`: the runtime's figures, and the
//! latency a service binding adds over a plain `fetch()`, measured through
//! the same public API the platform uses. Build with `--release`.

mod bindings;
mod runtime;

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure: `runtime` or `bindings`.
    target: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Calls per latency series.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let figures = match args.target.as_str() {
        "runtime" => runtime::measure(args.calls)?,
        // Each call is a real HTTP round trip: fewer by default.
        "bindings" => bindings::measure(args.calls.min(5_000))?,
        other => anyhow::bail!("unknown benchmark {other:?}; available: runtime, bindings"),
    };
    if args.json {
        println!("{}", serde_json::to_string(&figures)?);
    } else {
        for (k, v) in figures.as_object().expect("object") {
            println!("{k:>28}  {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Percentile of sorted samples.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}
