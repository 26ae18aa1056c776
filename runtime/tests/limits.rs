//! Every limit: time, memory, stack, logs, output, subrequests. Each ends
//! with a clear status and error, and the runtime keeps serving.

mod common;

use common::*;
use quasm_runtime::{Limits, Status};
use serde_json::json;

#[test]
fn infinite_loop_times_out_near_the_deadline() {
    let limits = Limits { timeout_ms: 200, ..Default::default() };
    let r = run_limited("export default { run() { while (true) {} } }", json!(null), limits);
    assert_eq!(r.status, Status::Timeout, "{r:?}");
    assert!(r.error.as_ref().unwrap().message.contains("200 ms"), "{:?}", r.error);
    // The target is 50 ms past the deadline (measured by `quasm bench`);
    // the bound here leaves room for a loaded CI machine.
    let over_ms = r.duration_us as i64 / 1000 - 200;
    assert!((0..250).contains(&over_ms), "stopped {over_ms} ms after the deadline");
    assert_healthy();
}

/// A loop after an `await` runs in a promise job; stopping it at the
/// deadline is a timeout too, not "a promise that never settled".
#[test]
fn infinite_loop_after_an_await_times_out() {
    let limits = Limits { timeout_ms: 300, ..Default::default() };
    let r = run_limited("export default { async run() { await null; for (;;) {} } }", json!(null), limits);
    assert_eq!(r.status, Status::Timeout, "{r:?}");
    assert!(r.error.as_ref().unwrap().message.contains("300 ms"), "{:?}", r.error);
    let r = run_limited(
        "export default { async run() { await new Promise(r => setTimeout(r, 10)); while (true) {} } }",
        json!(null),
        Limits { timeout_ms: 200, ..Default::default() },
    );
    assert_eq!(r.status, Status::Timeout, "{r:?}");
    assert_healthy();
}

#[test]
fn async_wait_times_out() {
    let limits = Limits { timeout_ms: 150, ..Default::default() };
    let src = "export default { async run() { await new Promise(r => setTimeout(r, 60000)); return 1 } }";
    let r = run_limited(src, json!(null), limits);
    assert_eq!(r.status, Status::Timeout, "{r:?}");
    assert!(r.duration_us < 1_000_000);
}

#[test]
fn loop_in_warm_sandbox_leaves_it_usable() {
    // The same version again after a timeout: the sandbox was reset.
    let rt = runtime();
    let mut s = spec(rt, "let n = 0; export default { run(i) { n++; if (i) while (true) {} return n } }");
    s.limits.timeout_ms = 100;
    s.isolation = quasm_runtime::Isolation::Warm;
    assert_eq!(invoke(rt, &s, request(json!(true))).status, Status::Timeout);
    let r = invoke(rt, &s, request(json!(false)));
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert_eq!(r.output, Some(json!(1)), "state after a timeout restarts from the snapshot");
}

#[test]
fn memory_bomb_is_a_clean_out_of_memory() {
    let limits = Limits { memory_mb: 32, ..Default::default() };
    let src = "export default { run() { const a = []; for (;;) a.push('x'.repeat(4096) + a.length) } }";
    let r = run_limited(src, json!(null), limits);
    assert_eq!(r.status, Status::OutOfMemory, "{r:?}");
    let e = r.error.unwrap();
    assert!(e.message.contains("32 MiB"), "{e:?}");
    assert!(e.stack.contains("fn.js:1"), "stack points at the user's line: {e:?}");
    assert_healthy();
}

#[test]
fn typed_array_bomb_is_out_of_memory() {
    let limits = Limits { memory_mb: 16, ..Default::default() };
    let r = run_limited("export default { run() { return new Uint8Array(64 << 20).length } }", json!(null), limits);
    assert_eq!(r.status, Status::OutOfMemory, "{r:?}");
}

#[test]
fn deep_recursion_is_a_range_error() {
    let r = run("function f(n) { return f(n + 1) + 1 } export default { run() { return f(0) } }", json!(null));
    assert_eq!(r.status, Status::Error);
    let e = r.error.unwrap();
    assert_eq!(e.name, "RangeError");
    assert!(e.message.contains("stack"), "{e:?}");
    assert_healthy();
}

#[test]
fn recursion_error_is_catchable() {
    let src = "function f(n) { return f(n + 1) + 1 }
      export default { run() { try { f(0) } catch (e) { return e instanceof RangeError } } }";
    assert_eq!(run(src, json!(null)).output, Some(json!(true)));
}

#[test]
fn log_flood_is_capped_and_flagged() {
    let limits = Limits { max_log_bytes: 10_000, ..Default::default() };
    let src = "export default { run() { for (let i = 0; i < 100000; i++) console.log('line', i); return 'done' } }";
    let r = run_limited(src, json!(null), limits);
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(r.logs_truncated);
    let bytes: usize = r.logs.iter().map(|l| l.message.len()).sum();
    assert!(bytes <= 10_000 + 200, "{bytes} log bytes kept");
    assert!(r.logs.last().unwrap().message.contains("log limit"));
    assert_eq!(r.output, Some(json!("done")));
}

#[test]
fn oversized_output_is_limit_exceeded() {
    let limits = Limits { max_output_bytes: 1000, ..Default::default() };
    let r = run_limited("export default { run() { return 'x'.repeat(5000) } }", json!(null), limits);
    assert_eq!(r.status, Status::LimitExceeded, "{r:?}");
    assert!(r.error.unwrap().message.contains("output limit"));
}

#[test]
fn subrequest_cap_is_limit_exceeded() {
    let limits = Limits { max_subrequests: 3, ..Default::default() };
    // Refused fetches still count: they were attempted.
    let src = "export default { async run() {
        for (let i = 0; i < 10; i++) { try { await fetch('http://10.0.0.1/') } catch (e) { if (e.message.includes('subrequest')) throw e } }
    } }";
    let r = run_limited(src, json!(null), limits);
    assert_eq!(r.status, Status::LimitExceeded, "{r:?}");
    assert_eq!(r.subrequests, 3);
}

#[test]
fn cpu_time_and_memory_are_reported() {
    let r = run("export default { run() { let s = 0; for (let i = 0; i < 1e6; i++) s += i; return s } }", json!(null));
    assert_eq!(r.status, Status::Ok);
    assert!(r.cpu_time_us > 100, "cpu {}", r.cpu_time_us);
    assert!(r.cpu_time_us <= r.duration_us + 1000);
    assert!(r.peak_memory_bytes > 1 << 20);
}

#[test]
fn operator_maxima_clamp_function_limits() {
    let max = quasm_runtime::OperatorMaxima::default();
    let err = max.validate(&Limits { memory_mb: 1024, ..Default::default() }).unwrap_err();
    assert!(err.contains("memory_mb"), "{err}");
}

#[test]
fn code_stuck_in_a_native_builtin_is_stopped_by_the_watchdog() {
    // Array.prototype.join on a large array never reaches QuickJS's interrupt
    // poll; the watchdog's signal stops it and the sandbox is dropped.
    let rt = runtime();
    let mut s = spec(
        rt,
        "export default { run(n) { for (let i = 0; i < n; i++) new Array(3e6).fill('ab').join(','); return n } }",
    );
    s.limits.timeout_ms = 100;
    s.limits.memory_mb = 256;
    let r = invoke(rt, &s, request(json!(1000)));
    assert_eq!(r.status, Status::Timeout, "{r:?}");
    assert!(r.error.unwrap().message.contains("100 ms"));
    let over_ms = r.duration_us as i64 / 1000 - 100;
    assert!((0..250).contains(&over_ms), "stopped {over_ms} ms after the deadline");
    // The same version still serves (from a new sandbox).
    assert_eq!(invoke(rt, &s, request(json!(0))).output, Some(json!(0)));
    assert_healthy();
}
