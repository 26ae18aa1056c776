//! Quasm's sandbox runtime.
//!
//! User functions are ES modules compiled once to QuickJS bytecode
//! ([`Runtime::compile`]) and run in QuickJS-ng compiled to WebAssembly,
//! hosted by Wasmer. Each function version gets a template (a memory snapshot
//! taken after its module loaded); sandboxes start from it and, by default,
//! are reset to it after every invocation, so no state leaks between calls.
//!
//! ```no_run
//! # async fn demo() -> Result<(), quasm_runtime::RuntimeError> {
//! use quasm_runtime::{FunctionSpec, InvokeRequest, Runtime, RuntimeConfig};
//! let rt = Runtime::new(RuntimeConfig::default())?;
//! let bytecode = rt.compile("export default { run(input) { return input.a + 1 } }", "add.js")?;
//! let spec = FunctionSpec::new("tenant/add/1", bytecode);
//! let result = rt
//!     .invoke(&spec, InvokeRequest { input: serde_json::json!({"a": 1}), ..Default::default() })
//!     .await;
//! assert_eq!(result.output, Some(serde_json::json!(2)));
//! # Ok(()) }
//! ```

pub mod compat;
pub mod engine;
pub mod error;
mod guest_abi;
pub mod host;
mod instance;
pub mod invoke;
pub mod limits;
mod pool;
pub mod result;
mod snapshot;
mod watchdog;

use std::sync::Arc;

pub use engine::{Engine, EngineConfig};
pub use error::{CompileError, RuntimeError};
pub use guest_abi::HandlerKind;
pub use host::bindings::{BindingConfig, BindingError, Bindings};
pub use host::fetch::Fetcher;
pub use host::kv::{KvError, KvPage, KvStore, MemoryKv};
pub use host::net_policy::{HostRules, NetPolicy};
pub use host::response_stream::{ClientGone, ResponseHead};
pub use host::services::{EventPublisher, MemoryEvents, Services};
pub use host::{InvocationContext, InvocationObserver, InvocationUser};
pub use invoke::{HttpRequest, InvokeRequest};
pub use limits::{Limits, OperatorMaxima};
pub use pool::{Pool, PoolConfig, PoolStats, FLATTEN_AFTER_CALLS};
pub use result::{ErrorInfo, HttpResponse, InvocationResult, LogEntry, LogLevel, Status};
pub use snapshot::reset_totals;

/// Whether an invocation starts from the version's snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Every invocation starts from the post-load snapshot (default).
    #[default]
    Fresh,
    /// Module state survives between invocations of one sandbox, like a
    /// warm Lambda or Workers isolate.
    Warm,
}

/// A function version as the runtime needs it.
#[derive(Clone)]
pub struct FunctionSpec {
    /// Identifies the version: must differ across tenants and versions
    /// (e.g. `tenant/function/3`).
    pub key: Arc<str>,
    pub bytecode: Arc<[u8]>,
    pub limits: Limits,
    pub isolation: Isolation,
    pub host_rules: Arc<HostRules>,
}

impl FunctionSpec {
    pub fn new(key: &str, bytecode: Vec<u8>) -> Self {
        Self {
            key: key.into(),
            bytecode: bytecode.into(),
            limits: Limits::default(),
            isolation: Isolation::Fresh,
            host_rules: Arc::default(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    pub engine: EngineConfig,
    pub pool: PoolConfig,
    /// Operator override allowing otherwise forbidden outbound addresses.
    pub net: NetPolicy,
    pub maxima: OperatorMaxima,
    /// The operator's service bindings (none by default).
    pub bindings: Arc<Bindings>,
}

/// The engine, its pool and the outbound HTTP client.
pub struct Runtime {
    engine: Engine,
    pool: Pool,
    fetcher: Arc<Fetcher>,
    maxima: OperatorMaxima,
    bindings: Arc<Bindings>,
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        Ok(Self {
            engine: Engine::new(config.engine)?,
            pool: Pool::new(config.pool),
            fetcher: Arc::new(Fetcher::new(config.net)),
            maxima: config.maxima,
            bindings: config.bindings,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The service bindings functions may be granted, and the keys that
    /// sign their tokens.
    pub fn bindings(&self) -> &Arc<Bindings> {
        &self.bindings
    }

    pub fn maxima(&self) -> &OperatorMaxima {
        &self.maxima
    }

    /// The SSRF-safe outbound HTTP client functions' `fetch()` uses; the
    /// controller sends tenant-supplied webhooks (alerts) through it too.
    pub fn fetcher(&self) -> &Arc<Fetcher> {
        &self.fetcher
    }

    /// Compiles an ES module to bytecode; syntax errors come back as
    /// [`RuntimeError::Compile`] with line and column.
    pub fn compile(&self, source: &str, file_name: &str) -> Result<Vec<u8>, RuntimeError> {
        self.engine.compile(source, file_name)
    }

    /// Runs one invocation of `spec`. Never fails: every problem, including a
    /// module that throws while loading, is reported in the result.
    pub async fn invoke(&self, spec: &FunctionSpec, req: InvokeRequest) -> InvocationResult {
        let limits = self.maxima.clamp(&spec.limits);
        let started = std::time::Instant::now();
        let mut lease = match self.pool.checkout(&self.engine, &spec.key, &spec.bytecode, limits.memory_bytes()) {
            Ok(l) => l,
            Err(e) => return load_failure(e, started),
        };
        let result =
            invoke::drive(&mut lease.instance, &self.fetcher, &spec.host_rules, &self.bindings, &limits, req).await;
        // Warm sandboxes are still reset after an invocation that was cut
        // short: its state may be half-updated.
        let fresh = spec.isolation == Isolation::Fresh
            || matches!(result.status, Status::Timeout | Status::OutOfMemory | Status::Cancelled);
        self.pool.checkin(lease, fresh);
        result
    }
}

fn load_failure(e: RuntimeError, started: std::time::Instant) -> InvocationResult {
    let error = match e {
        RuntimeError::Load { name, message, stack } => ErrorInfo { name, message, stack },
        other => ErrorInfo::new("InternalError", other.to_string()),
    };
    InvocationResult {
        status: Status::Error,
        output: None,
        response: None,
        logs: Vec::new(),
        logs_truncated: false,
        error: Some(error),
        duration_us: started.elapsed().as_micros() as u64,
        cpu_time_us: 0,
        peak_memory_bytes: 0,
        subrequests: 0,
    }
}
