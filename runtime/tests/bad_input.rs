//! Bad user code: each case gets a clear error and the runtime stays healthy.

mod common;

use common::*;
use quasm_runtime::{HandlerKind, RuntimeError, Status};
use serde_json::json;

#[test]
fn syntax_error_has_line_and_column() {
    let err = runtime().compile("export default {\n  run() {\n    return 1 +;\n  }\n}\n", "fn.js").unwrap_err();
    let RuntimeError::Compile(e) = err else { panic!("{err:?}") };
    assert_eq!((e.line, e.column), (3, 15), "{e:?}");
    assert!(e.message.starts_with("SyntaxError"), "{e:?}");
}

#[test]
fn handler_that_throws_reports_the_users_stack() {
    let src = "export default {\n  run() {\n    helper()\n  }\n}\nfunction helper() { throw new TypeError('boom') }\n";
    let r = run(src, json!(null));
    assert_eq!(r.status, Status::Error);
    let e = r.error.unwrap();
    assert_eq!((e.name.as_str(), e.message.as_str()), ("TypeError", "boom"));
    assert!(e.stack.contains("fn.js:6") && e.stack.contains("fn.js:3"), "{}", e.stack);
    assert!(!e.stack.contains("prelude"), "{}", e.stack);
    assert_healthy();
}

#[test]
fn throwing_a_non_error_is_reported() {
    let r = run("export default { run() { throw 'plain string' } }", json!(null));
    assert_eq!(r.status, Status::Error);
    assert_eq!(r.error.unwrap().message, "plain string");
}

#[test]
fn rejected_promise_is_an_error() {
    let r = run("export default { async run() { await null; throw new Error('later') } }", json!(null));
    assert_eq!(r.error.unwrap().message, "later");
}

#[test]
fn non_serializable_result_is_a_clear_error() {
    let r = run("export default { run() { const a = {}; a.self = a; return a } }", json!(null));
    assert_eq!(r.status, Status::Error);
    assert!(r.error.unwrap().message.contains("not JSON-serializable"));
    let r = run("export default { run() { return 10n } }", json!(null));
    assert!(r.error.unwrap().message.contains("not JSON-serializable"));
}

#[test]
fn missing_handler_names_it() {
    let rt = runtime();
    let s = spec(rt, "export default { run() { return 1 } }");
    let mut req = request(json!(null));
    req.kind = Some(HandlerKind::Scheduled);
    let r = invoke(rt, &s, req);
    assert_eq!(r.status, Status::Error);
    assert!(r.error.unwrap().message.contains("scheduled"));
}

#[test]
fn module_without_default_export_fails_at_load() {
    let r = run("export const x = 1", json!(null));
    assert_eq!(r.status, Status::Error);
    assert!(r.error.unwrap().message.contains("export default"));
}

#[test]
fn module_that_throws_while_loading() {
    let r = run("throw new Error('top-level'); export default {}", json!(null));
    assert_eq!(r.status, Status::Error);
    assert_eq!(r.error.unwrap().message, "top-level");
    assert_healthy();
}

#[test]
fn promise_that_never_settles_is_detected() {
    let r = run("export default { run() { return new Promise(() => {}) } }", json!(null));
    assert_eq!(r.status, Status::Error);
    assert!(r.error.unwrap().message.contains("never settled"));
}

#[test]
fn default_function_export_handles_run() {
    let r = run("export default async function (input, env, ctx) { return [input, ctx.tenant] }", json!(5));
    assert_eq!(r.output, Some(json!([5, "acme"])), "{r:?}");
}

#[test]
fn no_filesystem_or_node_globals() {
    let r = run(
        "export default { run() { return [typeof require, typeof process, typeof std, typeof os, typeof __host] } }",
        json!(null),
    );
    assert_eq!(r.output, Some(json!(["undefined", "undefined", "undefined", "undefined", "undefined"])));
}

#[test]
fn unawaited_operations_are_cancelled_with_a_warning() {
    let r = run("export default { run(i, env) { env.KV.put('k', 'v'); return 1 } }", json!(null));
    assert_eq!(r.status, Status::Ok);
    assert!(r.logs.iter().any(|l| l.message.contains("ctx.waitUntil")), "{:?}", r.logs);
}
