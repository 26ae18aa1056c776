//! `POST /api/v1/check`: compiles code with the same compiler a deploy uses
//! and reports its syntax errors as diagnostics, storing nothing. Editors
//! (the web console, the Terraform provider) call it as the user types.

use serde::Serialize;

use crate::error::{ControllerError, Result};
use crate::validate;
use crate::versions::Versions;

/// One problem found in the code; lines and columns count from 1.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Diagnostic {
    pub severity: &'static str,
    pub message: String,
    pub line: u32,
    pub column: u32,
}

/// The answer: `ok` when the code compiles.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
}

impl Versions {
    /// Compiles `code` as a function module would be; a syntax error is a
    /// diagnostic, not an error of the call.
    pub async fn check(&self, code: &str) -> Result<CheckResult> {
        validate::code(code)?;
        let runtime = self.core.runtime.clone();
        let source = code.to_owned();
        let compiled = tokio::task::spawn_blocking(move || runtime.compile(&source, "check.js"))
            .await
            .map_err(|e| ControllerError::Internal(format!("compiler task: {e}")))?;
        match compiled {
            Ok(_) => Ok(CheckResult { ok: true, diagnostics: Vec::new() }),
            Err(quasm_runtime::RuntimeError::Compile(c)) => Ok(CheckResult {
                ok: false,
                diagnostics: vec![Diagnostic {
                    severity: "error",
                    message: c.message,
                    line: c.line.max(1),
                    column: c.column.max(1),
                }],
            }),
            Err(other) => Err(ControllerError::Internal(other.to_string())),
        }
    }
}
