//! `quasm check FILE`: reports syntax errors with line and column.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quasm_runtime::RuntimeError;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The function's ES module.
    file: PathBuf,
}

pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let rt = super::local_runtime(Default::default())?;
    let name = args.file.display().to_string();
    match rt.compile(&source, &name) {
        Ok(_) => {
            println!("{name}: ok");
            Ok(ExitCode::SUCCESS)
        }
        Err(RuntimeError::Compile(e)) => {
            println!("{name}:{}:{}: {}", e.line, e.column, e.message);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}
