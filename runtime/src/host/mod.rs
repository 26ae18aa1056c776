//! Everything the guest can reach: the `quasm` imports (console, sync host
//! ops, async op starts, the interrupt poll) and the handful of WASI preview1
//! functions wasi-libc needs. There is no filesystem or socket import, so the
//! sandbox has neither by construction.

pub mod bindings;
pub mod crypto;
pub mod fetch;
pub mod kv;
pub mod net_policy;
pub mod response_stream;
pub mod services;
pub mod url;
mod wasi;

pub(crate) use wasi::monotonic_ms;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::Deserialize;
use wasmer::{imports, Function, FunctionEnv, FunctionEnvMut, Imports, Memory, Store};

use crate::limits::Limits;
use crate::result::{LogEntry, LogLevel};
use services::Services;

/// Who is being invoked, as the function sees it in `ctx`. Serialised with
/// the JS names (`invocationId`, `functionName`...) so the guest can adopt the
/// parsed object as `ctx` without converting keys on every call.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationContext {
    pub invocation_id: String,
    pub tenant: String,
    #[serde(rename = "functionName")]
    pub function: String,
    pub version: u64,
    /// http, cron, event, manual, embedded, cli...
    pub trigger: String,
    /// Who started it (`ctx.user`): `null` for cron slots and events.
    pub user: Option<InvocationUser>,
    /// Extra fields passed through to `ctx` (e.g. an event's attempt number);
    /// use camelCase keys.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The user behind an invocation (`ctx.user`), when a user or an API key
/// started it. Roles and permissions pass through untouched: the host
/// service decides what they allow.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InvocationUser {
    pub id: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// Receives logs and progress while an invocation runs (live streaming).
pub trait InvocationObserver: Send + Sync {
    fn log(&self, _entry: &LogEntry) {}
    fn progress(&self, _percent: f64, _message: Option<&str>) {}
    /// A fetch handler returned a Response with a stream body: `true` if
    /// this observer sends it to the client as it comes, through
    /// [`InvocationObserver::response_chunk`]; `false` (the default) has the
    /// guest read the body to the end and return it whole.
    fn response_head(&self, _head: response_stream::ResponseHead) -> bool {
        false
    }
    /// The next chunk of a streamed response body.
    fn response_chunk(&self, _chunk: &[u8]) -> Result<(), response_stream::ClientGone> {
        Err(response_stream::ClientGone)
    }
}

/// An async operation the guest started; the invoke loop runs it.
#[derive(Debug)]
pub enum AsyncOp {
    Fetch(fetch::FetchRequest),
    Kv(kv::KvOp),
    Binding(bindings::BindingCall),
    Publish { event_type: String, payload: serde_json::Value },
}

/// Per-invocation state the imports update.
pub struct Invocation {
    pub ctx: Arc<InvocationContext>,
    pub limits: Limits,
    pub services: Services,
    pub host_rules: Arc<net_policy::HostRules>,
    pub observer: Option<Arc<dyn InvocationObserver>>,
    pub logs: Vec<LogEntry>,
    pub log_bytes: usize,
    pub logs_truncated: bool,
    pub started: Vec<(i32, AsyncOp)>,
    pub next_op: i32,
    pub subrequests: u32,
    /// Body bytes streamed so far, once the response streams.
    pub streamed_bytes: Option<usize>,
    /// The service bindings `env` shows, and whether each may be used.
    pub bindings: Vec<bindings::Access>,
}

impl Invocation {
    pub fn new(ctx: Arc<InvocationContext>, limits: Limits, services: Services) -> Self {
        Self {
            ctx,
            limits,
            services,
            host_rules: Arc::new(net_policy::HostRules::default()),
            observer: None,
            logs: Vec::new(),
            log_bytes: 0,
            logs_truncated: false,
            started: Vec::new(),
            next_op: 1,
            subrequests: 0,
            streamed_bytes: None,
            bindings: Vec::new(),
        }
    }

    /// Counts one outbound request (`fetch` or a binding) against the cap.
    fn count_subrequest(&mut self) -> Result<(), String> {
        if self.subrequests >= self.limits.max_subrequests {
            return Err(format!(
                "subrequest limit exceeded: at most {} fetch calls per invocation",
                self.limits.max_subrequests
            ));
        }
        self.subrequests += 1;
        Ok(())
    }

    pub(crate) fn push_log(&mut self, level: LogLevel, message: String) {
        if self.logs_truncated {
            return;
        }
        if self.log_bytes + message.len() > self.limits.max_log_bytes {
            self.logs_truncated = true;
            let entry = LogEntry {
                level: LogLevel::Warn,
                time_ms: now_ms(),
                message: format!(
                    "[quasm] log limit of {} bytes reached; further logs dropped",
                    self.limits.max_log_bytes
                ),
            };
            if let Some(o) = &self.observer {
                o.log(&entry);
            }
            self.logs.push(entry);
            return;
        }
        self.log_bytes += message.len();
        let entry = LogEntry { level, time_ms: now_ms(), message };
        if let Some(o) = &self.observer {
            o.log(&entry);
        }
        self.logs.push(entry);
    }
}

/// The state behind one instance's imports.
#[derive(Default)]
pub struct HostState {
    pub memory: Option<Memory>,
    /// Result of the last sync op, copied out by the guest's `take`.
    take: Vec<u8>,
    pub invocation: Option<Invocation>,
    /// Logs written outside an invocation (module top-level code at load).
    pub load_logs: Vec<LogEntry>,
    pub deadline: Option<Instant>,
    pub cancel: Option<Arc<AtomicBool>>,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Builds the import object of one instance.
pub(crate) fn imports(store: &mut Store, env: &FunctionEnv<HostState>, memory: &Memory) -> Imports {
    imports! {
        "env" => { "memory" => memory.clone() },
        "quasm" => {
            "log" => Function::new_typed_with_env(store, env, log),
            "call" => Function::new_typed_with_env(store, env, call),
            "start" => Function::new_typed_with_env(store, env, start),
            "take" => Function::new_typed_with_env(store, env, take),
            "interrupted" => Function::new_typed_with_env(store, env, interrupted),
        },
        "wasi_snapshot_preview1" => {
            "clock_time_get" => Function::new_typed_with_env(store, env, wasi::clock_time_get),
            "fd_close" => Function::new_typed(store, wasi::fd_close),
            "fd_fdstat_get" => Function::new_typed(store, wasi::fd_fdstat_get),
            "fd_seek" => Function::new_typed(store, wasi::fd_seek),
            "fd_write" => Function::new_typed_with_env(store, env, wasi::fd_write),
            "random_get" => Function::new_typed_with_env(store, env, wasi::random_get),
        }
    }
}

/// Copies `len` bytes at `ptr` out of the guest. Out-of-range reads yield an
/// empty vector: the guest only hurts itself.
pub(crate) fn read_bytes(env: &FunctionEnvMut<HostState>, ptr: u32, len: u32) -> Vec<u8> {
    let Some(memory) = env.data().memory.as_ref() else { return Vec::new() };
    let view = memory.view(env);
    let mut buf = vec![0u8; len as usize];
    if view.read(u64::from(ptr), &mut buf).is_err() {
        buf.clear();
    }
    buf
}

pub(crate) fn write_bytes(env: &FunctionEnvMut<HostState>, ptr: u32, data: &[u8]) -> bool {
    let Some(memory) = env.data().memory.as_ref() else { return false };
    memory.view(env).write(u64::from(ptr), data).is_ok()
}

fn log(mut env: FunctionEnvMut<HostState>, level: i32, ptr: u32, len: u32) {
    let msg = String::from_utf8_lossy(&read_bytes(&env, ptr, len)).into_owned();
    let state = env.data_mut();
    let level = LogLevel::from_guest(level);
    match state.invocation.as_mut() {
        Some(inv) => inv.push_log(level, msg),
        None => {
            if state.load_logs.len() < 100 {
                state.load_logs.push(LogEntry { level, time_ms: now_ms(), message: msg });
            }
        }
    }
}

fn interrupted(env: FunctionEnvMut<HostState>) -> i32 {
    let s = env.data();
    let late = s.deadline.is_some_and(|d| Instant::now() >= d);
    let cancelled = s.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
    i32::from(late || cancelled)
}

fn take(mut env: FunctionEnvMut<HostState>, dst: u32) {
    // Move the buffer out first: the memory view borrows the store.
    let data = std::mem::take(&mut env.data_mut().take);
    write_bytes(&env, dst, &data);
}

/// Stores an op's outcome for `take` and encodes it as the import's return.
fn reply(env: &mut FunctionEnvMut<HostState>, r: Result<Vec<u8>, String>) -> i32 {
    let (data, ok) = match r {
        Ok(v) => (v, true),
        Err(e) => (e.into_bytes(), false),
    };
    let n = data.len() as i32;
    env.data_mut().take = data;
    if ok {
        n
    } else {
        -(n + 1)
    }
}

fn parse<T: for<'de> Deserialize<'de>>(arg: &[u8]) -> Result<T, String> {
    serde_json::from_slice(arg).map_err(|e| format!("bad host-call argument: {e}"))
}

/// The three (pointer, length) pairs both `call` and `start` receive:
/// operation name, JSON argument, raw bytes.
type OpArgs = (u32, u32, u32, u32, u32, u32);

fn read_op(env: &FunctionEnvMut<HostState>, a: OpArgs) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (read_bytes(env, a.0, a.1), read_bytes(env, a.2, a.3), read_bytes(env, a.4, a.5))
}

fn call(mut env: FunctionEnvMut<HostState>, a0: u32, a1: u32, a2: u32, a3: u32, a4: u32, a5: u32) -> i32 {
    let (op, arg, bytes) = read_op(&env, (a0, a1, a2, a3, a4, a5));
    let r = sync_op(&mut env, &op, &arg, &bytes);
    reply(&mut env, r)
}

fn sync_op(env: &mut FunctionEnvMut<HostState>, op: &[u8], arg: &[u8], bytes: &[u8]) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    struct Digest {
        algorithm: String,
    }
    #[derive(Deserialize)]
    struct HmacArgs {
        hash: String,
        key: String,
    }
    #[derive(Deserialize)]
    struct Progress {
        percent: f64,
        message: Option<String>,
    }
    match op {
        b"url_parse" => url::parse(parse(arg)?),
        b"url_set" => url::set(parse(arg)?),
        b"digest" => crypto::digest(&parse::<Digest>(arg)?.algorithm, bytes),
        b"hmac" => {
            let a: HmacArgs = parse(arg)?;
            let key = base64::engine::general_purpose::STANDARD
                .decode(a.key)
                .map_err(|e| format!("bad HMAC key encoding: {e}"))?;
            crypto::hmac(&a.hash, &key, bytes)
        }
        b"crypto" => crypto::subtle::call(arg, bytes),
        b"response.start" | b"response.chunk" => {
            let inv = env.data_mut().invocation.as_mut().ok_or("no invocation is running")?;
            if op == b"response.start" {
                response_stream::start(inv, arg)
            } else {
                response_stream::chunk(inv, bytes)
            }
        }
        b"progress" => {
            let p: Progress = parse(arg)?;
            if let Some(inv) = env.data().invocation.as_ref() {
                if let Some(o) = &inv.observer {
                    o.progress(p.percent, p.message.as_deref());
                }
            }
            Ok(Vec::new())
        }
        other => Err(format!("unknown host call {:?}", String::from_utf8_lossy(other))),
    }
}

fn start(mut env: FunctionEnvMut<HostState>, a0: u32, a1: u32, a2: u32, a3: u32, a4: u32, a5: u32) -> i32 {
    let (op, arg, bytes) = read_op(&env, (a0, a1, a2, a3, a4, a5));
    match start_op(&mut env, &op, &arg, bytes) {
        Ok(id) => id,
        Err(e) => reply(&mut env, Err(e)),
    }
}

fn start_op(env: &mut FunctionEnvMut<HostState>, op: &[u8], arg: &[u8], bytes: Vec<u8>) -> Result<i32, String> {
    #[derive(Deserialize)]
    struct Publish {
        r#type: String,
        #[serde(default)]
        payload: serde_json::Value,
    }
    let inv = env
        .data_mut()
        .invocation
        .as_mut()
        .ok_or("async host operations are only available while a handler runs, not at module load")?;
    let op = match op {
        b"fetch" => {
            inv.count_subrequest()?;
            AsyncOp::Fetch(fetch_request_from_guest(arg, bytes)?)
        }
        b"binding_fetch" => {
            let call = bindings::BindingCall::parse(arg, bytes, &inv.bindings).map_err(|e| e.to_string())?;
            inv.count_subrequest()?;
            AsyncOp::Binding(call)
        }
        b"events_publish" => {
            let p: Publish = parse(arg)?;
            if p.r#type.is_empty() {
                return Err("event type must be a non-empty string".into());
            }
            AsyncOp::Publish { event_type: p.r#type, payload: p.payload }
        }
        other => match other.strip_prefix(b"kv_").and_then(|name| kv::KvOp::parse(name, arg, bytes)) {
            Some(op) => AsyncOp::Kv(op.map_err(|e| e.to_string())?),
            None => return Err(format!("unknown async host operation {:?}", String::from_utf8_lossy(other))),
        },
    };
    let id = inv.next_op;
    inv.next_op += 1;
    inv.started.push((id, op));
    Ok(id)
}

/// The guest's `fetch` arguments (see prelude.js) as a host request.
fn fetch_request_from_guest(arg: &[u8], body: Vec<u8>) -> Result<fetch::FetchRequest, String> {
    #[derive(Deserialize)]
    struct Guest {
        method: String,
        url: String,
        #[serde(default)]
        headers: Vec<(String, String)>,
        #[serde(default)]
        redirect: Option<String>,
    }
    let g: Guest = parse(arg)?;
    let redirect = match g.redirect.as_deref().unwrap_or("follow") {
        "follow" => fetch::RedirectMode::Follow,
        "manual" => fetch::RedirectMode::Manual,
        "error" => fetch::RedirectMode::Error,
        other => return Err(format!("invalid redirect mode {other:?}: use follow, manual or error")),
    };
    Ok(fetch::FetchRequest { method: g.method, url: g.url, headers: g.headers, body, redirect })
}
