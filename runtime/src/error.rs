//! Errors of the runtime crate.

use thiserror::Error;

/// A syntax error in user code, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Error, serde::Serialize)]
#[error("{message} (at line {line}, column {column})")]
pub struct CompileError {
    pub message: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("compiling the guest module failed: {0}")]
    GuestCompile(String),
    #[error("creating a sandbox failed: {0}")]
    Instantiate(String),
    #[error("the sandbox trapped: {0}")]
    Trap(String),
    #[error("the sandbox ran out of memory")]
    OutOfMemory,
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("loading the function failed: {name}: {message}")]
    Load { name: String, message: String, stack: String },
    #[error("internal runtime error: {0}")]
    Internal(String),
}
