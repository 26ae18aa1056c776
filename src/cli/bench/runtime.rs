//! Runtime figures: warm and fresh call latency, cold start, compute versus
//! native QuickJS, per-instance memory and timeout accuracy.

use std::ffi::CString;
use std::time::Instant;

use quasm_runtime::{
    FunctionSpec, HandlerKind, InvocationContext, InvokeRequest, Isolation, Limits, PoolConfig, Runtime, RuntimeConfig,
    Status,
};
use serde_json::{json, Value};

use super::percentile;

extern "C" {
    fn quasm_native_eval_ms(src: *const libc::c_char) -> f64;
}

const TRIVIAL: &str = "export default { run(input) { return input } }";
const FIB: &str = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }";

fn request() -> InvokeRequest {
    InvokeRequest {
        kind: Some(HandlerKind::Run),
        input: Value::Null,
        ctx: InvocationContext { tenant: "bench".into(), trigger: "bench".into(), ..Default::default() },
        ..Default::default()
    }
}

/// (resident, private) KiB of this process. Resident counts a page of a
/// snapshot shared by many sandboxes once per sandbox; private (RssAnon)
/// counts what each sandbox really owns.
fn rss_kib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

/// Times `calls` sequential invocations of `spec`, in microseconds, sorted.
/// Also returns the median time spent inside the guest per call.
async fn latency(rt: &Runtime, spec: &FunctionSpec, calls: usize) -> anyhow::Result<(Vec<f64>, f64)> {
    latency_of(rt, spec, calls, request).await
}

/// An HTTP request as a gateway hands it to a `fetch` handler.
fn http_request() -> InvokeRequest {
    let headers = [
        ("host", "127.0.0.1:8080"),
        ("user-agent", "wrk"),
        ("accept", "*/*"),
        ("x-request-id", "0c9a3c1e-4d5f-4b8e-9a77-1f2e3d4c5b6a"),
    ];
    InvokeRequest {
        kind: Some(HandlerKind::Fetch),
        request: Some(quasm_runtime::HttpRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:8080/fn/bench/hello?x=1".into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: Vec::new(),
        }),
        ..request()
    }
}

async fn latency_of(
    rt: &Runtime,
    spec: &FunctionSpec,
    calls: usize,
    request: fn() -> InvokeRequest,
) -> anyhow::Result<(Vec<f64>, f64)> {
    for _ in 0..calls / 10 {
        rt.invoke(spec, request()).await;
    }
    let mut samples = Vec::with_capacity(calls);
    let mut guest = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let r = rt.invoke(spec, request()).await;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
        guest.push(r.cpu_time_us as f64);
        anyhow::ensure!(r.status == Status::Ok, "benchmark call failed: {:?}", r.error);
    }
    samples.sort_by(f64::total_cmp);
    guest.sort_by(f64::total_cmp);
    Ok((samples, percentile(&guest, 0.5)))
}

/// Pages each reset since `before` (a [`quasm_runtime::reset_totals`])
/// copied back on average: what a fresh call dirtied.
fn pages_per_reset_since(before: (u64, u64)) -> f64 {
    let after = quasm_runtime::reset_totals();
    (after.1 - before.1) as f64 / (after.0 - before.0).max(1) as f64
}

pub fn measure(calls: usize) -> anyhow::Result<Value> {
    let pool = PoolConfig { max_idle_per_version: 1000, max_idle_total: 5000, ..Default::default() };
    let rt = Runtime::new(RuntimeConfig { pool, ..Default::default() })?;
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let bytecode = rt.compile(TRIVIAL, "trivial.js")?;

    let mut warm = FunctionSpec::new("bench/warm/1", bytecode.clone());
    warm.isolation = Isolation::Warm;
    let (warm_lat, warm_guest) = tokio.block_on(latency(&rt, &warm, calls))?;

    let fresh = FunctionSpec::new("bench/fresh/1", bytecode.clone());
    let before = quasm_runtime::reset_totals();
    let (fresh_lat, fresh_guest) = tokio.block_on(latency(&rt, &fresh, calls))?;
    let fresh_pages = pages_per_reset_since(before);
    // A trivial `fetch` handler (Request in, Response out), fresh state.
    let hello = rt.compile("export default { fetch(req) { return new Response('ok') } }", "hello.js")?;
    let before = quasm_runtime::reset_totals();
    let (fetch_lat, fetch_guest) =
        tokio.block_on(latency_of(&rt, &FunctionSpec::new("bench/fetch/1", hello.clone()), calls, http_request))?;
    let fetch_pages = pages_per_reset_since(before);
    // The same handler with its state kept: the guest's and the host's share
    // of a request without any reset (the floor of a warm route).
    let mut fetch_warm = FunctionSpec::new("bench/fetch-warm/1", hello);
    fetch_warm.isolation = Isolation::Warm;
    let (fetch_warm_lat, fetch_warm_guest) = tokio.block_on(latency_of(&rt, &fetch_warm, calls, http_request))?;

    // Cold start: a version never seen before, from bytecode to first result
    // (the compiled guest is already cached by the engine).
    let mut cold = Vec::new();
    for i in 0..300 {
        let spec = FunctionSpec::new(&format!("bench/cold{i}/1"), bytecode.clone());
        let t = Instant::now();
        let r = tokio.block_on(rt.invoke(&spec, request()));
        cold.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(r.status == Status::Ok, "cold call failed: {:?}", r.error);
        // Untimed: a second call waits for the version's image, which is
        // built in the background, so the next cold start is measured alone.
        tokio.block_on(rt.invoke(&spec, request()));
        rt.pool().remove(&spec.key);
    }
    cold.sort_by(f64::total_cmp);
    // Its parts: loading a version (prepare) and a sandbox from a template.
    let memory = Limits::default().memory_bytes();
    let mut prepare = Vec::new();
    let mut instantiate = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let (template, first) = rt.engine().prepare(&bytecode, memory)?;
        prepare.push(t.elapsed().as_secs_f64() * 1e6);
        drop(first);
        template.snapshot()?; // untimed: the background image build
        let t = Instant::now();
        let inst = rt.engine().instantiate(&template)?;
        instantiate.push(t.elapsed().as_secs_f64() * 1e6);
        drop(inst);
    }
    prepare.sort_by(f64::total_cmp);
    instantiate.sort_by(f64::total_cmp);

    // Compute: fib(25) in the sandbox (time inside the guest) and natively.
    let fib_src = format!("{FIB}\nexport default {{ run() {{ return fib(25) }} }}");
    let fib_spec = FunctionSpec::new("bench/fib/1", rt.compile(&fib_src, "fib.js")?);
    // Interleaved and many times, min of each: this machine's neighbours are
    // noisy, and the minimum is the figure least disturbed by them.
    let native_src = CString::new(format!("{FIB}\nfib(25)"))?;
    let (mut wasm_ms, mut native_ms) = (f64::MAX, f64::MAX);
    for _ in 0..15 {
        let r = tokio.block_on(rt.invoke(&fib_spec, request()));
        anyhow::ensure!(r.output == Some(json!(75025)), "fib failed: {:?}", r.error);
        wasm_ms = wasm_ms.min(r.cpu_time_us as f64 / 1000.0);
        // SAFETY: a valid NUL-terminated string; the function owns its runtime.
        native_ms = native_ms.min(unsafe { quasm_native_eval_ms(native_src.as_ptr()) });
    }

    // Memory: 1000 sandboxes of one version, each used once and back idle.
    let sleepy = rt
        .compile("export default { async run() { await new Promise(r => setTimeout(r, 50)); return 1 } }", "idle.js")?;
    let idle_spec = FunctionSpec::new("bench/idle/1", sleepy);
    tokio.block_on(rt.invoke(&idle_spec, request()));
    let before = rss_kib();
    tokio.block_on(async {
        let calls: Vec<_> = (0..1000).map(|_| rt.invoke(&idle_spec, request())).collect();
        for r in futures::future::join_all(calls).await {
            anyhow::ensure!(r.status == Status::Ok, "idle call failed: {:?}", r.error);
        }
        Ok(())
    })?;
    let idle = rt.pool().stats().idle_instances;
    let after = rss_kib();
    let per_instance_kib = (after.0 - before.0) / idle.max(1) as f64;
    let private_kib = (after.1 - before.1) / idle.max(1) as f64;

    // Timeout accuracy: how far past the deadline an infinite loop stops.
    let looper = rt.compile("export default { run() { while (true) {} } }", "loop.js")?;
    let mut spec = FunctionSpec::new("bench/loop/1", looper);
    spec.limits = Limits { timeout_ms: 100, ..Default::default() };
    let mut over = Vec::new();
    for _ in 0..5 {
        let r = tokio.block_on(rt.invoke(&spec, request()));
        anyhow::ensure!(r.status == Status::Timeout, "loop did not time out: {:?}", r.status);
        over.push(r.duration_us as f64 / 1000.0 - 100.0);
    }
    over.sort_by(f64::total_cmp);

    let round = |x: f64| (x * 100.0).round() / 100.0;
    Ok(json!({
        "warm_call_p50_us": round(percentile(&warm_lat, 0.5)),
        "warm_call_p99_us": round(percentile(&warm_lat, 0.99)),
        "warm_call_guest_p50_us": warm_guest,
        "fresh_call_p50_us": round(percentile(&fresh_lat, 0.5)),
        "fresh_call_guest_p50_us": fresh_guest,
        "fresh_call_p99_us": round(percentile(&fresh_lat, 0.99)),
        "fresh_call_pages_copied": round(fresh_pages),
        "fetch_call_p50_us": round(percentile(&fetch_lat, 0.5)),
        "fetch_call_guest_p50_us": fetch_guest,
        "fetch_call_pages_copied": round(fetch_pages),
        "fetch_warm_call_p50_us": round(percentile(&fetch_warm_lat, 0.5)),
        "fetch_warm_call_guest_p50_us": fetch_warm_guest,
        "cold_start_p50_us": round(percentile(&cold, 0.5)),
        "cold_start_p99_us": round(percentile(&cold, 0.99)),
        "prepare_version_p50_us": round(percentile(&prepare, 0.5)),
        "instantiate_p50_us": round(percentile(&instantiate, 0.5)),
        "fib25_wasm_ms": round(wasm_ms),
        "fib25_native_ms": round(native_ms),
        "fib25_ratio": round(wasm_ms / native_ms),
        "idle_instance_rss_kib": round(per_instance_kib),
        "idle_instance_private_kib": round(private_kib),
        "instances_1000_rss_mib": round(per_instance_kib * 1000.0 / 1024.0),
        "idle_instances_measured": idle,
        "timeout_overshoot_p50_ms": round(percentile(&over, 0.5)),
        "timeout_overshoot_max_ms": round(over.last().copied().unwrap_or(f64::NAN)),
        "compiler": quasm_runtime::engine::compiler_name(),
        "guest_module_from_cache": rt.engine().module_from_cache,
        "base_snapshot_kib": rt.engine().base_snapshot_bytes() / 1024,
        "calls_per_series": calls,
    }))
}
