//! The controller's errors. Each carries a stable machine code and the HTTP
//! status it maps to; the gateway turns them into `{"error": {...}}` once.

use std::time::Duration;

use thiserror::Error;

use crate::blob::BlobError;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum ControllerError {
    #[error("{what} {name:?} not found")]
    NotFound { what: &'static str, name: String },
    #[error("{what} {name:?} already exists")]
    Conflict { what: &'static str, name: String },
    /// Bad input; `field` names what is wrong (`name`, `limits.memory_mb`...).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("syntax error in code: {0}")]
    Compile(#[from] quasm_runtime::CompileError),
    /// The resource is in a state that does not allow the operation
    /// (cancelling a finished execution).
    #[error("{0}")]
    WrongState(String),
    #[error("function {0:?} is disabled")]
    Disabled(String),
    /// A quota or rate limit; retry after the given time.
    #[error("{message}")]
    Throttled { message: String, retry_after: Duration },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tokio_postgres::Error> for ControllerError {
    fn from(e: tokio_postgres::Error) -> Self {
        ControllerError::Store(StoreError::Db(e))
    }
}

impl ControllerError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ControllerError::Invalid { field: field.into(), message: message.into() }
    }

    pub fn not_found(what: &'static str, name: impl Into<String>) -> Self {
        ControllerError::NotFound { what, name: name.into() }
    }

    /// Stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ControllerError::NotFound { .. } => "not_found",
            ControllerError::Conflict { .. } => "conflict",
            ControllerError::WrongState(_) => "invalid_state",
            ControllerError::Invalid { .. } => "invalid_request",
            ControllerError::Compile(_) => "syntax_error",
            ControllerError::Disabled(_) => "function_disabled",
            ControllerError::Throttled { .. } => "too_many_requests",
            ControllerError::Store(_) | ControllerError::Blob(_) | ControllerError::Internal(_) => "internal",
        }
    }

    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            ControllerError::NotFound { .. } => 404,
            ControllerError::Conflict { .. } | ControllerError::WrongState(_) => 409,
            ControllerError::Invalid { .. } | ControllerError::Compile(_) => 400,
            ControllerError::Disabled(_) => 403,
            ControllerError::Throttled { .. } => 429,
            ControllerError::Store(_) | ControllerError::Blob(_) | ControllerError::Internal(_) => 500,
        }
    }

    /// Structured details: the field of a validation error, the position
    /// of a syntax error.
    pub fn details(&self) -> serde_json::Value {
        match self {
            ControllerError::Invalid { field, .. } => serde_json::json!({ "field": field }),
            ControllerError::Compile(c) => serde_json::json!({ "line": c.line, "column": c.column }),
            ControllerError::Throttled { retry_after, .. } => {
                serde_json::json!({ "retry_after_seconds": retry_after.as_secs_f64().ceil() as u64 })
            }
            _ => serde_json::Value::Null,
        }
    }
}

pub type Result<T, E = ControllerError> = std::result::Result<T, E>;
