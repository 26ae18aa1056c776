//! What every invocation returns, whatever started it.

use serde::{Deserialize, Serialize};

/// Final state of an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Error,
    Timeout,
    OutOfMemory,
    LimitExceeded,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Timeout => "timeout",
            Status::OutOfMemory => "out_of_memory",
            Status::LimitExceeded => "limit_exceeded",
            Status::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn from_guest(level: i32) -> Self {
        match level {
            0 => LogLevel::Debug,
            2 => LogLevel::Warn,
            3 => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }
}

/// One console line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub level: LogLevel,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    pub message: String,
}

/// A JS error as the user sees it: stack frames carry the user's own file
/// name and line numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub name: String,
    pub message: String,
    #[serde(default)]
    pub stack: String,
}

impl ErrorInfo {
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        Self { name: name.into(), message: message.into(), stack: String::new() }
    }
}

/// The HTTP response a `fetch` handler returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    #[serde(default)]
    pub status_text: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Set when the body was streamed to the client as the function wrote
    /// it (then `body` is empty): how many bytes went out.
    #[serde(skip)]
    pub streamed_bytes: Option<usize>,
}

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvocationResult {
    pub status: Status,
    /// JSON output of `run`/`scheduled`/`event` handlers.
    pub output: Option<serde_json::Value>,
    /// The Response of a `fetch` handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpResponse>,
    pub logs: Vec<LogEntry>,
    pub logs_truncated: bool,
    pub error: Option<ErrorInfo>,
    pub duration_us: u64,
    /// Time spent executing inside the sandbox (excludes awaited I/O and timers).
    pub cpu_time_us: u64,
    /// High-water mark of the sandbox's linear memory in use.
    pub peak_memory_bytes: u64,
    pub subrequests: u32,
}
