//! Compatibility dates: a gated change reaches only functions dated on or
//! after it, and a deprecated API logs one warning per invocation naming
//! its replacement.

mod common;

use common::{invoke, request, runtime, spec};
use quasm_runtime::{LogLevel, Status};
use serde_json::json;

const READS_CALLER: &str = r#"export default { run(input, env, ctx) {
    return { first: ctx.caller ?? null, second: ctx.caller ?? null, user: ctx.user };
} }"#;

fn run_dated(date: Option<&str>) -> quasm_runtime::InvocationResult {
    let rt = runtime();
    let s = spec(rt, READS_CALLER);
    let mut req = request(json!(null));
    req.ctx.extra.insert("caller".into(), json!("ann"));
    req.compatibility_date = date.map(str::to_owned);
    invoke(rt, &s, req)
}

#[test]
fn ctx_caller_differs_between_two_compatibility_dates() {
    let old = run_dated(Some("2026-06-01"));
    assert_eq!(old.status, Status::Ok, "{old:?}");
    assert_eq!(old.output, Some(json!({"first": "ann", "second": "ann", "user": null})));
    let warnings: Vec<_> = old.logs.iter().filter(|l| l.level == LogLevel::Warn).collect();
    assert_eq!(warnings.len(), 1, "one warning per invocation, however often it is read: {:?}", old.logs);
    assert!(warnings[0].message.contains("ctx.caller is deprecated: use ctx.user.id"), "{:?}", warnings[0]);

    // The warning comes again in the next invocation of the same sandbox.
    assert_eq!(run_dated(Some("2026-06-01")).logs.len(), 1);

    for new in [Some("2026-12-04"), None] {
        let r = run_dated(new);
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(r.output, Some(json!({"first": null, "second": null, "user": null})), "{new:?}");
        assert!(r.logs.is_empty(), "{:?}", r.logs);
    }
}
