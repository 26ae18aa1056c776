//! Shared helpers: one runtime per test binary, compile-and-invoke shortcuts.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use quasm_runtime::{
    FunctionSpec, HandlerKind, InvocationContext, InvocationResult, InvokeRequest, Limits, NetPolicy, Runtime,
    RuntimeConfig,
};

pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime starts"))
}

/// A runtime whose fetch may reach 127.0.0.1 (the operator override).
pub fn runtime_allowing_loopback() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let net = NetPolicy { allowed_addrs: vec!["127.0.0.1/32".parse().unwrap()] };
        Runtime::new(RuntimeConfig { net, ..Default::default() }).expect("runtime starts")
    })
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Compiles `src` as a new, unique version.
pub fn spec(rt: &Runtime, src: &str) -> FunctionSpec {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let bc = rt.compile(src, "fn.js").unwrap_or_else(|e| panic!("compile failed: {e}"));
    FunctionSpec::new(&format!("test/fn{n}/1"), bc)
}

pub fn ctx() -> InvocationContext {
    InvocationContext {
        invocation_id: "inv-1".into(),
        tenant: "acme".into(),
        function: "fn".into(),
        version: 1,
        trigger: "manual".into(),
        ..Default::default()
    }
}

pub fn request(input: serde_json::Value) -> InvokeRequest {
    InvokeRequest { kind: Some(HandlerKind::Run), input, ctx: ctx(), ..Default::default() }
}

pub fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// Compiles and runs the `run` handler of `src` once with default limits.
pub fn run(src: &str, input: serde_json::Value) -> InvocationResult {
    run_limited(src, input, Limits::default())
}

pub fn run_limited(src: &str, input: serde_json::Value, limits: Limits) -> InvocationResult {
    let rt = runtime();
    let mut s = spec(rt, src);
    s.limits = limits;
    block(rt.invoke(&s, request(input)))
}

pub fn invoke(rt: &Runtime, spec: &FunctionSpec, req: InvokeRequest) -> InvocationResult {
    block(rt.invoke(spec, req))
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}

/// Asserts the runtime still serves a trivial function afterwards.
pub fn assert_healthy() {
    let r = run("export default { run(i) { return i * 2 } }", serde_json::json!(21));
    assert_eq!(r.status, quasm_runtime::Status::Ok, "{r:?}");
    assert_eq!(r.output, Some(serde_json::json!(42)));
}
