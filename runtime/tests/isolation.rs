//! Fresh-per-invocation isolation (default) versus warm state, and the
//! separation of versions and tenants.

mod common;

use common::*;
use quasm_runtime::{Isolation, Status};
use serde_json::json;

const COUNTER: &str = "let n = 0; globalThis.g = (globalThis.g || 0);
export default { run() { n++; globalThis.g++; return [n, globalThis.g] } }";

#[test]
fn fresh_mode_never_leaks_state() {
    let rt = runtime();
    let s = spec(rt, COUNTER);
    for _ in 0..5 {
        let r = invoke(rt, &s, request(json!(null)));
        assert_eq!(r.output, Some(json!([1, 1])), "{r:?}");
    }
}

#[test]
fn warm_mode_keeps_module_state() {
    let rt = runtime();
    let mut s = spec(rt, COUNTER);
    s.isolation = Isolation::Warm;
    let outs: Vec<_> = (0..3).map(|_| invoke(rt, &s, request(json!(null))).output.unwrap()).collect();
    assert_eq!(outs, vec![json!([1, 1]), json!([2, 2]), json!([3, 3])]);
}

#[test]
fn versions_do_not_share_sandboxes() {
    let rt = runtime();
    let mut a = spec(rt, "export default { run() { return 'a' } }");
    let mut b = spec(rt, "export default { run() { return 'b' } }");
    a.isolation = Isolation::Warm;
    b.isolation = Isolation::Warm;
    for _ in 0..3 {
        assert_eq!(invoke(rt, &a, request(json!(null))).output, Some(json!("a")));
        assert_eq!(invoke(rt, &b, request(json!(null))).output, Some(json!("b")));
    }
}

#[test]
fn random_differs_between_fresh_invocations() {
    let rt = runtime();
    let s = spec(rt, "export default { run() { return [Math.random(), crypto.randomUUID()] } }");
    let a = invoke(rt, &s, request(json!(null))).output;
    let b = invoke(rt, &s, request(json!(null))).output;
    assert_ne!(a, b, "a restored snapshot must not replay Math.random");
}

#[test]
fn memory_grown_in_one_call_is_clean_in_the_next() {
    let rt = runtime();
    let s = spec(
        rt,
        "export default { run(fill) { if (fill) { globalThis.big = new Uint8Array(20 << 20).fill(7); return 0 }
           const probe = new Uint8Array(20 << 20); return probe.reduce((a, b) => a + b, 0) } }",
    );
    assert_eq!(invoke(rt, &s, request(json!(true))).status, Status::Ok);
    let r = invoke(rt, &s, request(json!(false)));
    assert_eq!(r.output, Some(json!(0)), "{r:?}");
}

#[test]
fn pool_reuses_and_evicts() {
    let rt = runtime();
    let s = spec(rt, "export default { run() { return 1 } }");
    for _ in 0..3 {
        invoke(rt, &s, request(json!(null)));
    }
    assert!(rt.pool().stats().idle_instances >= 1);
    rt.pool().remove(&s.key);
}

fn runtime_with(pool: quasm_runtime::PoolConfig) -> quasm_runtime::Runtime {
    quasm_runtime::Runtime::new(quasm_runtime::RuntimeConfig { pool, ..Default::default() }).unwrap()
}

#[test]
fn idle_sandboxes_expire_after_the_ttl() {
    let rt = runtime_with(quasm_runtime::PoolConfig { idle_ttl: std::time::Duration::ZERO, ..Default::default() });
    let s = spec(&rt, "export default { run() { return 1 } }");
    // The second call waits for the version's image, so both sandboxes can
    // return to the pool.
    for _ in 0..2 {
        assert_eq!(invoke(&rt, &s, request(json!(null))).status, Status::Ok);
    }
    assert!(rt.pool().stats().idle_instances >= 1);
    assert!(rt.pool().evict_idle() >= 1);
    assert_eq!(rt.pool().stats().idle_instances, 0);
    assert_eq!(rt.pool().stats().versions, 0);
    // The version loads again on demand.
    assert_eq!(invoke(&rt, &s, request(json!(null))).output, Some(json!(1)));
}

#[test]
fn idle_sandboxes_are_bounded_overall_least_recently_used_first() {
    let rt = runtime_with(quasm_runtime::PoolConfig { max_idle_total: 2, ..Default::default() });
    let specs: Vec<_> = (0..4).map(|i| spec(&rt, &format!("export default {{ run() {{ return {i} }} }}"))).collect();
    for s in &specs {
        for _ in 0..2 {
            invoke(&rt, s, request(json!(null)));
        }
    }
    assert!(rt.pool().stats().idle_instances <= 2, "{:?}", rt.pool().stats());
    for (i, s) in specs.iter().enumerate() {
        assert_eq!(invoke(&rt, s, request(json!(null))).output, Some(json!(i)));
    }
}

#[test]
fn versions_beyond_the_bound_load_again_and_run_correctly() {
    let rt = runtime_with(quasm_runtime::PoolConfig { max_versions: 2, ..Default::default() });
    let specs: Vec<_> = (0..5)
        .map(|i| spec(&rt, &format!("let n = 0; export default {{ run() {{ n++; return [{i}, n] }} }}")))
        .collect();
    for _ in 0..3 {
        for (i, s) in specs.iter().enumerate() {
            assert_eq!(invoke(&rt, s, request(json!(null))).output, Some(json!([i, 1])));
        }
        assert!(rt.pool().stats().versions <= 2, "{:?}", rt.pool().stats());
    }
}

#[test]
fn parked_sandboxes_start_fresh() {
    // No hot sandboxes at all: every idle sandbox is parked (its memory
    // given back) and maps its version's image again when it runs.
    let rt = runtime_with(quasm_runtime::PoolConfig { max_hot_total: 0, ..Default::default() });
    let s = spec(&rt, COUNTER);
    let grow = spec(
        &rt,
        "export default { run(fill) { if (fill) { globalThis.big = new Uint8Array(4 << 20).fill(7); return 0 }
           return new Uint8Array(4 << 20).reduce((a, b) => a + b, 0) } }",
    );
    for _ in 0..4 {
        assert_eq!(invoke(&rt, &s, request(json!(null))).output, Some(json!([1, 1])));
        assert_eq!(invoke(&rt, &grow, request(json!(true))).output, Some(json!(0)));
        assert_eq!(invoke(&rt, &grow, request(json!(false))).output, Some(json!(0)));
    }
    let stats = rt.pool().stats();
    assert_eq!(stats.hot_instances, 0, "{stats:?}");
    assert!(stats.idle_instances >= 1, "{stats:?}");
}

#[test]
fn hot_sandboxes_idle_past_their_ttl_are_parked() {
    let rt = runtime_with(quasm_runtime::PoolConfig { hot_ttl: std::time::Duration::ZERO, ..Default::default() });
    let s = spec(&rt, COUNTER);
    for _ in 0..2 {
        assert_eq!(invoke(&rt, &s, request(json!(null))).output, Some(json!([1, 1])));
    }
    assert!(rt.pool().stats().hot_instances >= 1, "{:?}", rt.pool().stats());
    rt.pool().sweep();
    assert_eq!(rt.pool().stats().hot_instances, 0, "{:?}", rt.pool().stats());
    assert_eq!(invoke(&rt, &s, request(json!(null))).output, Some(json!([1, 1])));
}

#[test]
fn concurrent_first_calls_of_a_new_version() {
    let rt = runtime();
    let s = spec(
        rt,
        "let n = 0; export default { async run(i) { n++; await new Promise(r => setTimeout(r, 5)); return [i, n] } }",
    );
    let results = block(async {
        let calls: Vec<_> = (0..20).map(|i| rt.invoke(&s, request(json!(i)))).collect();
        futures::future::join_all(calls).await
    });
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.output, Some(json!([i, 1])), "{r:?}");
    }
}

#[test]
fn user_code_cannot_reach_the_prelude_entry_points() {
    let r = run(
        "export default { run() { return [typeof globalThis.__quasm, Object.getOwnPropertyNames(globalThis).filter(n => n.startsWith('__'))] } }",
        json!(null),
    );
    assert_eq!(r.output, Some(json!(["undefined", []])), "{r:?}");
}

#[test]
fn busy_versions_run_on_a_flat_image_and_stay_fresh() {
    // One flat image at most: the first version busy enough takes it.
    let rt = runtime_with(quasm_runtime::PoolConfig {
        max_flat_versions: 1,
        hot_ttl: std::time::Duration::ZERO,
        ..Default::default()
    });
    let a = spec(&rt, COUNTER);
    let b = spec(&rt, &format!("{COUNTER}\nglobalThis.other = 1;"));
    let calls = quasm_runtime::FLATTEN_AFTER_CALLS as usize;
    for _ in 0..calls {
        assert_eq!(invoke(&rt, &a, request(json!(null))).output, Some(json!([1, 1])));
    }
    assert_eq!(rt.pool().stats().flat_versions, 1, "{:?}", rt.pool().stats());
    // Sandboxes move onto the flat image at their next reset; every call
    // still starts from the version's post-load state.
    for _ in 0..calls * 2 {
        assert_eq!(invoke(&rt, &a, request(json!(null))).output, Some(json!([1, 1])));
        assert_eq!(invoke(&rt, &b, request(json!(null))).output, Some(json!([1, 1])));
    }
    assert_eq!(rt.pool().stats().flat_versions, 1, "the budget holds one: {:?}", rt.pool().stats());
    // Once its sandboxes are parked (hot TTL zero), the version gives its
    // flat image back (after the background build, if it is still running).
    let mut left = usize::MAX;
    for _ in 0..250 {
        rt.pool().sweep();
        left = rt.pool().stats().flat_versions;
        if left == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(left, 0, "{:?}", rt.pool().stats());
    assert_eq!(invoke(&rt, &a, request(json!(null))).output, Some(json!([1, 1])));
}

#[test]
fn every_call_starts_with_empty_per_call_state() {
    // console.count, a timer set while loading: fresh calls start from an
    // image taken after loading, warm ones reuse the sandbox; neither sees
    // the load's timer or an earlier call's counts.
    for isolation in [Isolation::Fresh, Isolation::Warm] {
        let rt = runtime();
        let mut s = spec(
            rt,
            "setTimeout(() => console.log('load timer fired'), 0);
             export default { async run() { console.count('n'); await new Promise(r => setTimeout(r, 1)); return 1 } }",
        );
        s.isolation = isolation;
        for _ in 0..3 {
            let r = invoke(rt, &s, request(json!(null)));
            let logs: Vec<&str> = r.logs.iter().map(|l| l.message.as_str()).collect();
            assert_eq!(logs, ["n: 1"], "{isolation:?}");
        }
    }
}
