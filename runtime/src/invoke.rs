//! Drives one invocation inside one sandbox: starts the handler, runs the
//! host side of its event loop (fetch, KV, events, timers) until the
//! handler's promise settles, enforces the deadline, and builds the result.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use crate::error::RuntimeError;
use crate::guest_abi::{split_framed, GuestError, GuestStatus, HandlerKind};
use crate::host::bindings::{Access, Bindings};
use crate::host::fetch::{FetchLimits, FetchResponse, Fetcher};
use crate::host::net_policy::HostRules;
use crate::host::services::Services;
use crate::host::{AsyncOp, Invocation, InvocationContext, InvocationObserver};
use crate::instance::Instance;
use crate::limits::Limits;
use crate::result::{ErrorInfo, HttpResponse, InvocationResult, Status};
use crate::watchdog;

/// An HTTP request for a `fetch` handler.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// A request as the guest reads it (`request_parts` in shim.c):
/// `method_len u32 | method | url_len u32 | url | headers JSON`, the headers
/// as `[name, value]` pairs with names already lowercase, so the prelude
/// adopts the list as is, and parses it only if the handler reads it.
fn wire_request(r: &HttpRequest) -> Vec<u8> {
    let headers: Vec<(std::borrow::Cow<'_, str>, &str)> = r
        .headers
        .iter()
        .map(|(k, v)| {
            let name = if k.bytes().any(|b| b.is_ascii_uppercase()) {
                std::borrow::Cow::Owned(k.to_ascii_lowercase())
            } else {
                std::borrow::Cow::Borrowed(k.as_str())
            };
            (name, v.as_str())
        })
        .collect();
    let mut out = Vec::with_capacity(16 + r.method.len() + r.url.len() + 32 * headers.len());
    for part in [&r.method, &r.url] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    serde_json::to_writer(&mut out, &headers).expect("serialisable");
    out
}

/// Everything one invocation needs besides the function itself.
#[derive(Clone, Default)]
pub struct InvokeRequest {
    pub kind: Option<HandlerKind>,
    /// Input of `run`; the event object of `scheduled` and `event`.
    pub input: serde_json::Value,
    /// The request of a `fetch` handler.
    pub request: Option<HttpRequest>,
    pub env: BTreeMap<String, String>,
    pub ctx: InvocationContext,
    pub services: Services,
    pub observer: Option<Arc<dyn InvocationObserver>>,
    pub cancel: Option<Arc<AtomicBool>>,
    /// Service bindings granted to the function (`"bindings": [...]`).
    pub bindings: Vec<String>,
    /// The function's compatibility date (`YYYY-MM-DD`): which gated
    /// behaviour changes it sees (see `compat.rs`); `None`: all of them.
    pub compatibility_date: Option<String>,
}

impl InvokeRequest {
    pub fn kind(&self) -> HandlerKind {
        self.kind.unwrap_or(if self.request.is_some() { HandlerKind::Fetch } else { HandlerKind::Run })
    }
}

/// Encodes env and ctx for the shim, which builds both objects natively:
/// entries of `tag u8 | key_len u32 | key | value_len u32 | value | NUL`,
/// tag `E` env string, `B` env service binding (JSON descriptor the prelude
/// turns into the binding object), `s` ctx string, `n` ctx number, `j` ctx
/// JSON.
pub(crate) fn bindings(env: &BTreeMap<String, String>, ctx: &InvocationContext, services: &[Access]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut entry = |tag: u8, k: &str, v: &[u8]| {
        out.push(tag);
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v);
        out.push(0);
    };
    for (k, v) in env {
        entry(b'E', k, v.as_bytes());
    }
    for a in services {
        entry(b'B', &a.name, a.descriptor().to_string().as_bytes());
    }
    entry(b's', "invocationId", ctx.invocation_id.as_bytes());
    entry(b's', "tenant", ctx.tenant.as_bytes());
    entry(b's', "functionName", ctx.function.as_bytes());
    entry(b'n', "version", ctx.version.to_string().as_bytes());
    entry(b's', "trigger", ctx.trigger.as_bytes());
    match &ctx.user {
        Some(u) => entry(b'j', "user", serde_json::to_string(u).expect("serialisable").as_bytes()),
        None => entry(b'j', "user", b"null"),
    }
    for (k, v) in &ctx.extra {
        let k = camel_case(k);
        match v {
            serde_json::Value::String(s) => entry(b's', &k, s.as_bytes()),
            serde_json::Value::Number(n) => entry(b'n', &k, n.to_string().as_bytes()),
            other => entry(b'j', &k, other.to_string().as_bytes()),
        }
    }
    out
}

/// `attempt_count` -> `attemptCount`: ctx keys follow JS naming.
fn camel_case(k: &str) -> std::borrow::Cow<'_, str> {
    if !k.contains('_') {
        return k.into();
    }
    let mut out = String::with_capacity(k.len());
    let mut chars = k.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&n) if c == '_' && (n.is_ascii_lowercase() || n.is_ascii_digit()) => {
                out.push(n.to_ascii_uppercase());
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out.into()
}

type OpOutcome = (i32, Result<(Vec<u8>, Option<Vec<u8>>), String>);

/// Turns a started async op into a future that owns what it needs.
struct OpEnv<'a> {
    ctx: &'a InvocationContext,
    services: &'a Services,
    fetcher: &'a Arc<Fetcher>,
    rules: &'a Arc<HostRules>,
    bindings: &'a Bindings,
    limits: FetchLimits,
}

/// A fetch response as the guest's `fetch()` and bindings read it.
fn response_reply(resp: FetchResponse) -> (Vec<u8>, Option<Vec<u8>>) {
    let meta = serde_json::json!({
        "status": resp.status, "statusText": resp.status_text, "headers": resp.headers,
        "url": resp.url, "redirected": resp.redirected,
    });
    (serde_json::to_vec(&meta).expect("serialisable"), Some(resp.body))
}

fn run_op(id: i32, op: AsyncOp, env: &OpEnv<'_>) -> BoxFuture<'static, OpOutcome> {
    let json = |v: serde_json::Value| serde_json::to_vec(&v).expect("serialisable");
    let (tenant, services) = (env.ctx.tenant.as_str(), env.services);
    match op {
        AsyncOp::Fetch(req) => {
            let (fetcher, rules, limits) = (env.fetcher.clone(), env.rules.clone(), env.limits.clone());
            Box::pin(async move {
                let r = fetcher.fetch(req, &rules, &limits).await;
                (id, r.map(response_reply).map_err(|e| e.to_string()))
            })
        }
        AsyncOp::Binding(call) => {
            let f = call.run(env.ctx, env.bindings, env.limits.max_response_bytes);
            Box::pin(async move { (id, f.await.map(response_reply).map_err(|e| e.to_string())) })
        }
        AsyncOp::Kv(op) => {
            let f = op.run(tenant, &services.kv);
            Box::pin(async move { (id, f.await.map_err(|e| e.to_string())) })
        }
        AsyncOp::Publish { event_type, payload } => {
            let f = services.events.publish(tenant, &event_type, payload);
            Box::pin(async move { (id, f.await.map(|eid| (json(serde_json::json!({"id": eid})), None))) })
        }
    }
}

/// How an invocation ended before the result is assembled.
enum End {
    Done(Vec<u8>),
    Failed(Status, ErrorInfo),
}

fn failed(status: Status, name: &str, message: impl Into<String>) -> End {
    End::Failed(status, ErrorInfo::new(name, message))
}

/// Runs `req` to completion in `inst`. The caller decides what happens to
/// the sandbox afterwards (reset, keep, or drop when poisoned).
pub(crate) async fn drive(
    inst: &mut Instance,
    fetcher: &Arc<Fetcher>,
    rules: &Arc<HostRules>,
    host_bindings: &Bindings,
    limits: &Limits,
    req: InvokeRequest,
) -> InvocationResult {
    let started = Instant::now();
    let deadline = started + limits.timeout();
    let kind = req.kind();
    let cancel = req.cancel.clone();
    // The handler's argument as JSON (NUL-terminated for the guest's parser).
    let mut input = match (&req.request, kind) {
        (Some(r), HandlerKind::Fetch) => wire_request(r),
        _ => serde_json::to_vec(&req.input).expect("serialisable"),
    };
    input.push(0);
    let mut req = req;
    if crate::compat::has(req.compatibility_date.as_deref(), crate::compat::NO_CTX_CALLER) {
        req.ctx.extra.remove("caller");
    }
    let access = host_bindings.access(&req.ctx, &req.bindings);
    let bindings = bindings(&req.env, &req.ctx, &access);
    let body = req.request.as_ref().map(|r| r.body.as_slice());

    inst.guest_time = Duration::ZERO;
    {
        let host = inst.host();
        let mut inv = Invocation::new(Arc::new(req.ctx.clone()), limits.clone(), req.services.clone());
        inv.host_rules = rules.clone();
        inv.observer = req.observer.clone();
        inv.bindings = access;
        host.invocation = Some(inv);
        host.deadline = Some(deadline);
        host.cancel = cancel.clone();
    }
    let _armed = watchdog::arm(inst.store.id(), deadline);
    let fetch_limits = FetchLimits {
        max_response_bytes: limits.max_fetch_response_bytes,
        timeout: limits.timeout(),
        max_redirects: 20,
    };
    // Leave headroom under the sandbox's linear-memory cap for the guest's
    // stack, data and allocator metadata, so QuickJS fails cleanly first.
    let js_limit = limits.memory_bytes().saturating_sub(4 * 1024 * 1024).clamp(1 << 20, u64::from(u32::MAX)) as u32;
    let is_cancelled = || cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));

    let mut pending: FuturesUnordered<BoxFuture<'static, OpOutcome>> = FuturesUnordered::new();
    let mut status = inst.call(kind, &input, body, &bindings, rand_seed(), js_limit);
    let end = loop {
        let st = match status {
            Err(e) => break trap_end(e, deadline, is_cancelled(), limits),
            Ok(st) => st,
        };
        match st {
            GuestStatus::Done(out) => {
                warn_dropped_ops(inst, pending.len());
                break End::Done(out);
            }
            GuestStatus::Error(e) => break error_end(e, deadline, is_cancelled(), limits),
            GuestStatus::Pending { timer_ms } => {
                let started_ops = inst.host().invocation.as_mut().map(|i| std::mem::take(&mut i.started));
                for (id, op) in started_ops.into_iter().flatten() {
                    let env = OpEnv {
                        ctx: &req.ctx,
                        services: &req.services,
                        fetcher,
                        rules,
                        bindings: host_bindings,
                        limits: fetch_limits.clone(),
                    };
                    pending.push(run_op(id, op, &env));
                }
                if pending.is_empty() && timer_ms < 0.0 {
                    // The interrupt handler stops a job that ran past the
                    // deadline (or was cancelled) with an uncatchable error
                    // the job queue swallows, leaving the promise pending:
                    // that is a timeout (or a cancel), not a hung handler.
                    if is_cancelled() {
                        break failed(Status::Cancelled, "Cancelled", "the invocation was cancelled");
                    }
                    if Instant::now() >= deadline {
                        break timeout_end(limits);
                    }
                    break failed(
                        Status::Error,
                        "Error",
                        "the handler's promise never settled: nothing is pending (no timers, no I/O)",
                    );
                }
                let timer = (timer_ms >= 0.0).then(|| Duration::from_secs_f64(timer_ms / 1000.0));
                tokio::select! {
                    Some((id, r)) = pending.next(), if !pending.is_empty() => {
                        status = match r {
                            Ok((meta, body)) => inst.resume(id, true, &meta, body.as_deref()),
                            Err(msg) => inst.resume(id, false, msg.as_bytes(), None),
                        };
                    }
                    _ = tokio::time::sleep(timer.unwrap_or(Duration::MAX)), if timer.is_some() => {
                        status = inst.tick();
                    }
                    _ = tokio::time::sleep_until(deadline.into()) => {
                        break timeout_end(limits);
                    }
                    _ = wait_cancel(cancel.clone()) => {
                        break failed(Status::Cancelled, "Cancelled", "the invocation was cancelled");
                    }
                }
            }
        }
    };
    drop(_armed);

    let host = inst.host();
    host.deadline = None;
    host.cancel = None;
    let inv = host.invocation.take();
    let peak = if inst.poisoned { 0 } else { inst.heap_peak() };
    let mut result = InvocationResult {
        status: Status::Ok,
        output: None,
        response: None,
        logs: Vec::new(),
        logs_truncated: false,
        error: None,
        duration_us: 0,
        cpu_time_us: inst.guest_time.as_micros() as u64,
        peak_memory_bytes: peak,
        subrequests: 0,
    };
    let mut streamed = None;
    if let Some(inv) = inv {
        result.logs = inv.logs;
        result.logs_truncated = inv.logs_truncated;
        result.subrequests = inv.subrequests;
        streamed = inv.streamed_bytes;
    }
    match end {
        End::Done(out) => match finish(kind, &out, limits) {
            Ok((output, mut response)) => {
                result.output = output;
                if let (Some(r), Some(n)) = (response.as_mut(), streamed) {
                    r.streamed_bytes = Some(n);
                }
                result.response = response;
            }
            Err((status, err)) => {
                result.status = status;
                result.error = Some(err);
            }
        },
        End::Failed(status, err) => {
            result.status = status;
            result.error = Some(err);
        }
    }
    result.duration_us = started.elapsed().as_micros() as u64;
    result
}

/// Operations still in flight when the handler's promise settled are
/// cancelled, as in Workers; say so rather than drop them silently.
fn warn_dropped_ops(inst: &mut Instance, in_flight: usize) {
    let Some(inv) = inst.host().invocation.as_mut() else { return };
    let n = in_flight + inv.started.len();
    if n > 0 {
        inv.started.clear();
        inv.push_log(
            crate::result::LogLevel::Warn,
            format!(
                "[quasm] {n} operation(s) (fetch, KV or events) were still pending when the handler finished \
                 and were cancelled; await them or pass them to ctx.waitUntil()"
            ),
        );
    }
}

async fn wait_cancel(cancel: Option<Arc<AtomicBool>>) {
    let Some(c) = cancel else { return futures::future::pending().await };
    while !c.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Seed for the guest's Math.random (not a cryptographic RNG; crypto APIs
/// read the OS's random source). A per-thread splitmix64 seeded once from the
/// OS avoids a syscall per invocation.
fn rand_seed() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut b = [0u8; 8];
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b)
        });
    }
    STATE.with(|s| {
        let mut z = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn timeout_end(limits: &Limits) -> End {
    failed(Status::Timeout, "TimeoutError", format!("execution exceeded the {} ms time limit", limits.timeout_ms))
}

fn error_end(e: GuestError, deadline: Instant, cancelled: bool, limits: &Limits) -> End {
    if e.uncatchable && cancelled {
        return failed(Status::Cancelled, "Cancelled", "the invocation was cancelled");
    }
    if e.uncatchable && Instant::now() >= deadline {
        return timeout_end(limits);
    }
    let info = e.info;
    if info.name == "InternalError" && (e.oom || info.message.contains("out of memory")) {
        let msg = format!("out of memory: the function exceeded its {} MiB memory limit", limits.memory_mb);
        return End::Failed(
            Status::OutOfMemory,
            ErrorInfo { name: "OutOfMemoryError".into(), message: msg, stack: info.stack },
        );
    }
    if info.message.starts_with("subrequest limit exceeded") {
        return End::Failed(Status::LimitExceeded, info);
    }
    End::Failed(Status::Error, info)
}

/// A trap ends the sandbox (it is dropped). The watchdog's signal is one:
/// code stuck in a native builtin past the deadline.
fn trap_end(e: RuntimeError, deadline: Instant, cancelled: bool, limits: &Limits) -> End {
    if cancelled {
        return failed(Status::Cancelled, "Cancelled", "the invocation was cancelled");
    }
    if Instant::now() >= deadline {
        return timeout_end(limits);
    }
    match e {
        RuntimeError::OutOfMemory => failed(Status::OutOfMemory, "OutOfMemoryError", "the sandbox ran out of memory"),
        other => failed(Status::Error, "InternalError", other.to_string()),
    }
}

type Finished = (Option<serde_json::Value>, Option<HttpResponse>);

fn finish(kind: HandlerKind, out: &[u8], limits: &Limits) -> Result<Finished, (Status, ErrorInfo)> {
    let internal = |m: String| (Status::Error, ErrorInfo::new("InternalError", m));
    let (meta, body) = split_framed(out).map_err(|e| internal(e.to_string()))?;
    let size = meta.len() + body.len();
    if size > limits.max_output_bytes {
        return Err((
            Status::LimitExceeded,
            ErrorInfo::new(
                "LimitExceededError",
                format!("the result is {size} bytes, above the {} byte output limit", limits.max_output_bytes),
            ),
        ));
    }
    if kind == HandlerKind::Fetch {
        #[derive(serde::Deserialize)]
        struct Resp {
            status: u16,
            #[serde(rename = "statusText", default)]
            status_text: String,
            headers: Vec<(String, String)>,
        }
        let r: Resp = serde_json::from_slice(meta).map_err(|e| internal(format!("bad response meta: {e}")))?;
        Ok((
            None,
            Some(HttpResponse {
                status: r.status,
                status_text: r.status_text,
                headers: r.headers,
                body: body.to_vec(),
                streamed_bytes: None,
            }),
        ))
    } else {
        let output = serde_json::from_slice(meta).map_err(|e| internal(format!("bad output: {e}")))?;
        Ok((Some(output), None))
    }
}
