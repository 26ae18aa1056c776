//! The admin API's happy path, with bundles in the real S3 test server:
//! functions, versions, deploy/rollback, sync and async invocation, the
//! execution history and its filters; and secrets.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{eventually, Env, Server};
use serde_json::{json, Value};

fn code(version: u32) -> String {
    format!(
        r#"export default {{
  async run(input, env, ctx) {{
    console.log("v{version} got " + JSON.stringify(input));
    return {{ version: {version}, n: input?.n ?? null, ctxVersion: ctx.version, trigger: ctx.trigger }};
  }},
  async fetch(request, env, ctx) {{
    return new Response("v{version} over http");
  }},
}};
"#
    )
}

const BOOM: &str = r#"export default {
  async run() { throw new TypeError("kaboom"); },
};
"#;

async fn invoke(s: &Server, token: &str, name: &str, input: Value) -> Value {
    s.ok("POST", &format!("/functions/{name}/invoke"), token, Some(json!({ "input": input })), 200).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_versions_invocations_and_history() {
    let s = Server::start(&Env::with_s3().await, &[], &[]).await;
    let admin = s.token("acme", &["admin"]);
    let dev = s.token("acme", &["developer"]);

    // --- Create: version 1 is live.
    let f = s
        .ok(
            "POST",
            "/functions",
            &admin,
            Some(json!({"name": "hello", "code": code(1), "description": "greets", "tags": ["demo"],
                        "env": {"GREETING": "hi"}, "message": "first"})),
            201,
        )
        .await;
    assert_eq!(f["name"], "hello");
    assert_eq!(f["live_version"], 1);
    assert_eq!(f["enabled"], true);
    assert_eq!(f["description"], "greets");
    assert_eq!(f["tags"], json!(["demo"]));
    assert_eq!(f["env"], json!({"GREETING": "hi"}));
    assert_eq!(f["secrets"], json!([]));
    assert_eq!(f["limits"]["timeout_ms"], 30000, "default limits are shown: {f}");
    let got = s.ok("GET", "/functions/hello", &dev, None, 200).await;
    assert_eq!(got["live_version"], 1);
    let list = s.ok("GET", "/functions", &dev, None, 200).await;
    let names: Vec<&str> = list["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hello"]);

    // --- Sync invocation.
    let r = invoke(&s, &dev, "hello", json!({"n": 5})).await;
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["version"], 1);
    assert_eq!(r["output"], json!({"version": 1, "n": 5, "ctxVersion": 1, "trigger": "invoke"}));
    let logs = r["logs"].as_array().expect("logs array");
    assert_eq!(logs.len(), 1, "{r}");
    assert_eq!(logs[0]["message"], r#"v1 got {"n":5}"#);
    assert_eq!(logs[0]["level"], "info");
    assert!(r["duration_ms"].as_f64().is_some_and(|d| d > 0.0 && d < 30_000.0), "{r}");
    assert_eq!(r["error"], Value::Null);
    let first_id = r["execution_id"].as_str().expect("execution_id").to_owned();

    // --- The execution is in the history, with input, output and logs.
    let e = s.ok("GET", &format!("/executions/{first_id}"), &dev, None, 200).await;
    assert_eq!(e["id"], first_id.as_str());
    assert_eq!(e["function"], "hello");
    assert_eq!(e["version"], 1);
    assert_eq!(e["trigger"], "invoke");
    assert_eq!(e["trigger_ref"], "cli", "the token's subject started it");
    assert_eq!(e["status"], "ok");
    assert_eq!(e["input"], json!({"n": 5}));
    assert_eq!(e["output"], r["output"]);
    assert_eq!(e["logs"][0]["message"], r#"v1 got {"n":5}"#);
    assert!(e["duration_ms"].as_f64().is_some_and(|d| d > 0.0), "{e}");
    assert!(e["finished_at"].is_string(), "{e}");

    // --- Version 2 becomes live and runs.
    let v2 = s
        .ok("POST", "/functions/hello/versions", &admin, Some(json!({"code": code(2), "message": "second"})), 201)
        .await;
    assert_eq!(v2["number"], 2);
    assert_eq!(v2["live"], true);
    assert_eq!(v2["message"], "second");
    assert!(v2.get("code").is_none(), "creation does not echo the code: {v2}");
    assert_eq!(s.ok("GET", "/functions/hello", &dev, None, 200).await["live_version"], 2);
    let r = invoke(&s, &dev, "hello", json!({"n": 6})).await;
    assert_eq!((r["version"].clone(), r["output"]["version"].clone()), (json!(2), json!(2)), "{r}");

    // --- Rollback to 1.
    let rb = s.ok("POST", "/functions/hello/rollback", &admin, Some(json!({"version": 1})), 200).await;
    assert_eq!(rb["number"], 1);
    assert_eq!(rb["live"], true);
    assert_eq!(s.ok("GET", "/functions/hello", &dev, None, 200).await["live_version"], 1);
    let r = invoke(&s, &dev, "hello", json!({"n": 7})).await;
    assert_eq!((r["version"].clone(), r["output"]["version"].clone()), (json!(1), json!(1)), "{r}");

    // --- Versions list with live flags; one version with its code (from S3).
    let vs = s.ok("GET", "/functions/hello/versions", &dev, None, 200).await;
    let vs = vs["versions"].as_array().unwrap();
    let flags: Vec<(i64, bool)> =
        vs.iter().map(|v| (v["number"].as_i64().unwrap(), v["live"].as_bool().unwrap())).collect();
    assert_eq!(flags, [(2, false), (1, true)]);
    assert!(vs.iter().all(|v| v.get("code").is_none()), "the list has no code: {vs:?}");
    assert_eq!(vs[1]["message"], "first");
    assert_eq!(vs[1]["author"], "cli");
    assert_ne!(vs[0]["content_hash"], vs[1]["content_hash"]);
    let v1 = s.ok("GET", "/functions/hello/versions/1", &dev, None, 200).await;
    assert_eq!(v1["code"], code(1));
    assert_eq!(v1["live"], true);
    let v2 = s.ok("GET", "/functions/hello/versions/2", &dev, None, 200).await;
    assert_eq!(v2["code"], code(2));
    assert_eq!(v2["live"], false);
    // Deploy (the same as rollback, forward).
    let d = s.ok("POST", "/functions/hello/deploy", &admin, Some(json!({"version": 2})), 200).await;
    assert_eq!((d["number"].clone(), d["live"].clone()), (json!(2), json!(true)));
    assert_eq!(invoke(&s, &dev, "hello", json!({"n": 8})).await["output"]["version"], 2);
    s.ok("POST", "/functions/hello/rollback", &admin, Some(json!({"version": 1})), 200).await;

    // --- Async invocation: 202 at once, then polled to the end.
    let a = s.ok("POST", "/functions/hello/invoke", &dev, Some(json!({"input": {"n": 9}, "async": true})), 202).await;
    let async_id = a["execution_id"].as_str().expect("execution_id").to_owned();
    assert_eq!(a.as_object().unwrap().len(), 1, "only the id: {a}");
    let e = s.wait_execution(&dev, &async_id).await;
    assert_eq!(e["status"], "ok", "{e}");
    assert_eq!(e["output"], json!({"version": 1, "n": 9, "ctxVersion": 1, "trigger": "invoke"}));
    assert_eq!(e["input"], json!({"n": 9}));
    assert_eq!(e["logs"][0]["message"], r#"v1 got {"n":9}"#);
    assert_eq!(e["trigger"], "invoke");

    // --- A failing function: 200 with status error; recorded.
    s.create_function(&admin, "boom", BOOM).await;
    let r = invoke(&s, &dev, "boom", Value::Null).await;
    assert_eq!(r["status"], "error", "{r}");
    assert_eq!(r["error"]["name"], "TypeError");
    assert_eq!(r["error"]["message"], "kaboom");
    assert!(r["error"]["stack"].as_str().is_some_and(|st| st.contains("boom.js:2")), "{r}");
    let boom_id = r["execution_id"].as_str().unwrap().to_owned();

    // --- An HTTP execution (recorded off the request path).
    s.ok("POST", "/routes", &admin, Some(json!({"path": "/hello", "function": "hello", "auth": "public"})), 201).await;
    let resp = s.http.get(s.url("/fn/acme/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "v1 over http");
    let http_list = eventually(Duration::from_secs(10), "the http execution record", || async {
        let l = s.ok("GET", "/executions?trigger=http", &dev, None, 200).await;
        (l["executions"].as_array().unwrap().len() == 1).then_some(l)
    })
    .await;
    let h = &http_list["executions"][0];
    assert_eq!(
        (h["function"].as_str(), h["trigger"].as_str(), h["status"].as_str()),
        (Some("hello"), Some("http"), Some("ok"))
    );

    // --- Filters.
    let ids = |page: &Value| -> Vec<String> {
        page["executions"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    let all = s.ok("GET", "/executions", &dev, None, 200).await;
    assert_eq!(ids(&all).len(), 7, "5 sync/async calls of hello, 1 of boom, 1 http: {all}");
    assert_eq!(all["next_cursor"], Value::Null);
    let errors = s.ok("GET", "/executions?status=error", &dev, None, 200).await;
    assert_eq!(ids(&errors), std::slice::from_ref(&boom_id));
    let boom = s.ok("GET", "/executions?function=boom", &dev, None, 200).await;
    assert_eq!(ids(&boom), std::slice::from_ref(&boom_id));
    let hello_ok = s.ok("GET", "/executions?function=hello&status=ok&trigger=invoke", &dev, None, 200).await;
    let hello_ok_ids = ids(&hello_ok);
    assert_eq!(hello_ok_ids.len(), 5, "{hello_ok}");
    assert!(hello_ok_ids.contains(&first_id) && hello_ok_ids.contains(&async_id));
    for e in hello_ok["executions"].as_array().unwrap() {
        assert_eq!(
            (e["function"].as_str(), e["status"].as_str(), e["trigger"].as_str()),
            (Some("hello"), Some("ok"), Some("invoke"))
        );
        assert!(e.get("logs").is_none() && e.get("output").is_none(), "the list is a summary: {e}");
    }
    let none = s.ok("GET", "/executions?trigger=cron", &dev, None, 200).await;
    assert_eq!(ids(&none), Vec::<String>::new());
    let nobody = s.ok("GET", "/executions?function=nobody", &dev, None, 200).await;
    assert_eq!(ids(&nobody), Vec::<String>::new());
    let since = s.ok("GET", "/executions?since=2000-01-01T00:00:00Z", &dev, None, 200).await;
    assert_eq!(ids(&since), ids(&all));
    let future = s.ok("GET", "/executions?since=2999-01-01T00:00:00Z", &dev, None, 200).await;
    assert_eq!(ids(&future), Vec::<String>::new());
    let past = s.ok("GET", "/executions?until=2000-01-01T00:00:00Z", &dev, None, 200).await;
    assert_eq!(ids(&past), Vec::<String>::new());
    // Newest first (ids are UUIDv7).
    let mut sorted = ids(&all);
    sorted.sort();
    sorted.reverse();
    assert_eq!(ids(&all), sorted);

    // --- Paging: limit + cursor visit everything once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/executions?limit=3&cursor={c}"),
            None => "/executions?limit=3".to_owned(),
        };
        let page = s.ok("GET", &q, &dev, None, 200).await;
        let got = ids(&page);
        assert!(got.len() <= 3, "{page}");
        seen.extend(got);
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(Some(c), seen.last().map(String::as_str), "the cursor is the last id of the page");
                cursor = Some(c.to_owned());
            }
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3, "7 executions in pages of 3");
    assert_eq!(seen, ids(&all), "pages concatenate to the full list");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
    let two = s.ok("GET", "/executions?function=hello&limit=2", &dev, None, 200).await;
    assert_eq!(ids(&two).len(), 2);
    assert_eq!(two["next_cursor"].as_str(), ids(&two).last().map(String::as_str));

    // --- Inputs and outputs over 64 KiB are kept in the blob store (S3)
    // and come back whole.
    let big = "x".repeat(70 * 1024);
    let r = invoke(&s, &dev, "hello", json!({"n": 10, "pad": big})).await;
    assert_eq!(r["status"], "ok", "{r}");
    let id = r["execution_id"].as_str().unwrap();
    let e = s.ok("GET", &format!("/executions/{id}"), &dev, None, 200).await;
    assert_eq!(e["input"]["pad"].as_str().map(str::len), Some(70 * 1024), "the spilled input is read back");
    assert_eq!(e["input"]["n"], 10);
    assert_eq!(e["output"]["n"], 10);

    // --- Delete: the function, its versions and history are gone.
    s.ok("DELETE", "/functions/boom", &admin, None, 204).await;
    let r = s.call("GET", "/functions/boom", Some(&admin), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = s.call("GET", &format!("/executions/{boom_id}"), Some(&admin), None).await;
    assert_eq!(r.status, 404, "the history of a deleted function goes with it: {}", r.text);
    let r = s.call("POST", "/functions/boom/invoke", Some(&admin), Some(&json!({}))).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);

    // --- Disabled functions are refused.
    s.ok("PATCH", "/functions/hello", &admin, Some(json!({"enabled": false})), 200).await;
    let r = s.call("POST", "/functions/hello/invoke", Some(&dev), Some(&json!({}))).await;
    assert_eq!((r.status, r.code()), (403, "function_disabled"), "{}", r.text);
    s.ok("PATCH", "/functions/hello", &admin, Some(json!({"enabled": true})), 200).await;
    assert_eq!(invoke(&s, &dev, "hello", json!({"n": 1})).await["status"], "ok");

    // --- The audit log recorded who did what.
    let audit = s.ok("GET", "/audit", &admin, None, 200).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in [
        "function.create",
        "version.create",
        "version.rollback",
        "version.deploy",
        "route.create",
        "function.delete",
        "function.update",
    ] {
        assert!(actions.contains(&a), "audit has {a}: {actions:?}");
    }
}

/// A sync invoke does not wait for its execution record to be written,
/// yet the id it returns answers at once with the whole outcome, a list
/// shows it, and another tenant still cannot see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoke_execution_id_answers_at_once() {
    let s = Server::new(&[]).await;
    let admin = s.token("acme", &["admin"]);
    s.ok("POST", "/functions", &admin, Some(json!({"name": "echo", "code": code(1)})), 201).await;
    let mut ids = Vec::new();
    for n in 0..20 {
        let r = invoke(&s, &admin, "echo", json!({"n": n})).await;
        let id = r["execution_id"].as_str().expect("execution_id").to_owned();
        let e = s.ok("GET", &format!("/executions/{id}"), &admin, None, 200).await;
        assert_eq!((e["status"].as_str(), &e["input"], &e["output"]), (Some("ok"), &json!({"n": n}), &r["output"]));
        assert_eq!(e["logs"][0]["message"], format!("v1 got {{\"n\":{n}}}"), "{e}");
        assert_eq!((e["trigger"].as_str(), e["started_by"].as_str()), (Some("invoke"), Some("cli")), "{e}");
        ids.push(id);
    }
    let list = s.ok("GET", "/executions?function=echo&limit=100", &admin, None, 200).await;
    let listed: HashSet<&str> =
        list["executions"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(ids.iter().all(|id| listed.contains(id.as_str())), "{list}");
    let other = s.token("globex", &["admin"]);
    let r = s.call("GET", &format!("/executions/{}", ids[0]), Some(&other), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_write_only_and_encrypted_at_rest() {
    let s = Server::new(&[]).await;
    let admin = s.token("acme", &["admin"]);
    let dev = s.token("acme", &["developer"]);
    const VALUE: &str = "sk-live-7f3a9c1e-plaintext-marker";
    const OTHER: &str = "second-secret-value-4411";
    let code = r#"export default {
  async run(input, env) { return { token: env.API_TOKEN ?? null, other: env.OTHER ?? null, plain: env.PLAIN }; },
};"#;
    let r = s
        .call(
            "POST",
            "/functions",
            Some(&admin),
            Some(&json!({"name": "vault", "code": code, "env": {"PLAIN": "p"}, "secrets": {"API_TOKEN": VALUE}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["secrets"], json!(["API_TOKEN"]));
    assert!(!r.text.contains(VALUE), "the value is never shown: {}", r.text);

    for path in ["/functions/vault", "/functions", "/functions/vault/versions", "/functions/vault/versions/1", "/audit"]
    {
        let r = s.call("GET", path, Some(&admin), None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(!r.text.contains(VALUE), "{path} shows the secret: {}", r.text);
    }
    let got = s.ok("GET", "/functions/vault", &dev, None, 200).await;
    assert_eq!(got["secrets"], json!(["API_TOKEN"]));
    assert_eq!(got["env"], json!({"PLAIN": "p"}));

    // The function sees the value.
    let out = s.ok("POST", "/functions/vault/invoke", &dev, Some(json!({})), 200).await;
    assert_eq!(out["output"], json!({"token": VALUE, "other": null, "plain": "p"}), "{out}");

    // At rest: encrypted, neither the value nor the name in clear.
    let db = s.env.db().await;
    let row = db.query_one("SELECT secrets FROM functions WHERE name = 'vault'", &[]).await.unwrap();
    let sealed: Vec<u8> = row.get(0);
    assert!(sealed.len() > VALUE.len(), "something is stored");
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(&sealed, VALUE.as_bytes()), "the secret is stored in clear");
    assert!(!contains(&sealed, b"API_TOKEN"), "the secret's name is stored in clear");
    // Nor anywhere else in the database (audit details, versions...).
    let dump = db
        .query_one(
            "SELECT (SELECT coalesce(string_agg(f::text, ''), '') FROM functions f)
                 || (SELECT coalesce(string_agg(a::text, ''), '') FROM audit_log a)
                 || (SELECT coalesce(string_agg(v::text, ''), '') FROM versions v)",
            &[],
        )
        .await
        .unwrap();
    let dump: String = dump.get(0);
    assert!(!dump.contains(VALUE), "the plaintext is somewhere in the database");

    // PATCH merges: null deletes, a new name is added; the function sees it.
    let r = s
        .call("PATCH", "/functions/vault", Some(&admin), Some(&json!({"secrets": {"API_TOKEN": null, "OTHER": OTHER}})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["secrets"], json!(["OTHER"]));
    assert!(!r.text.contains(OTHER));
    let out = s.ok("POST", "/functions/vault/invoke", &dev, Some(json!({})), 200).await;
    assert_eq!(out["output"], json!({"token": null, "other": OTHER, "plain": "p"}), "{out}");
    let sealed: Vec<u8> = db.query_one("SELECT secrets FROM functions WHERE name = 'vault'", &[]).await.unwrap().get(0);
    assert!(!contains(&sealed, OTHER.as_bytes()));

    // Developers can neither set nor (of course) read them.
    let r = s.call("PATCH", "/functions/vault", Some(&dev), Some(&json!({"secrets": {"X": "y"}}))).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.text);
    assert_eq!(s.ok("GET", "/functions/vault", &dev, None, 200).await["secrets"], json!(["OTHER"]));
    // Removing the last secret leaves none.
    s.ok("PATCH", "/functions/vault", &admin, Some(json!({"secrets": {"OTHER": null}})), 200).await;
    let row = db.query_one("SELECT secrets IS NULL FROM functions WHERE name = 'vault'", &[]).await.unwrap();
    assert!(row.get::<_, bool>(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setting_changes_apply_to_the_next_call() {
    let s = Server::new(&[]).await;
    let admin = s.token("acme", &["admin"]);
    let code = r#"export default {
  async run(input, env) {
    if (input?.wait) await new Promise(r => setTimeout(r, input.wait));
    return { greeting: env.GREETING ?? null };
  },
};"#;
    let r = s
        .call(
            "POST",
            "/functions",
            Some(&admin),
            Some(&json!({"name": "g", "code": code, "env": {"GREETING": "hello"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let run = |input: Value| s.ok("POST", "/functions/g/invoke", &admin, Some(json!({ "input": input })), 200);
    assert_eq!(run(json!({})).await["output"], json!({"greeting": "hello"}));
    // Env.
    let f = s.ok("PATCH", "/functions/g", &admin, Some(json!({"env": {"GREETING": "bonjour"}})), 200).await;
    assert_eq!(f["env"], json!({"GREETING": "bonjour"}));
    assert_eq!(run(json!({})).await["output"], json!({"greeting": "bonjour"}));
    // Limits: a 300 ms timeout stops a 1 s wait; other limits keep their values.
    let before = s.ok("GET", "/functions/g", &admin, None, 200).await["limits"].clone();
    let f = s.ok("PATCH", "/functions/g", &admin, Some(json!({"limits": {"timeout_ms": 300}})), 200).await;
    assert_eq!(f["limits"]["timeout_ms"], 300);
    assert_eq!(f["limits"]["memory_mb"], before["memory_mb"], "a partial limits PATCH keeps the other fields");
    let out = run(json!({"wait": 1000})).await;
    assert_eq!(out["status"], "timeout", "{out}");
    assert_eq!(run(json!({"wait": 10})).await["status"], "ok");
    // Description and tags.
    let f = s.ok("PATCH", "/functions/g", &admin, Some(json!({"description": "d2", "tags": ["a", "b"]})), 200).await;
    assert_eq!((f["description"].clone(), f["tags"].clone()), (json!("d2"), json!(["a", "b"])));
    assert_eq!(f["env"], json!({"GREETING": "bonjour"}), "fields not sent are kept");
    assert_eq!(f["limits"]["timeout_ms"], 300);
    assert!(f["updated_at"].as_str() > f["created_at"].as_str(), "{f}");
}

/// Concurrent writers: version numbers are never reused, a name is created
/// once, a route path is taken once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_serialised() {
    use futures::future::join_all;
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "f", &code(1)).await;

    let bodies: Vec<Value> = (2..=7).map(|n| json!({"code": code(n)})).collect();
    let results = join_all(bodies.iter().map(|b| s.call("POST", "/functions/f/versions", Some(&t), Some(b)))).await;
    let mut numbers: Vec<i64> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.text);
            r.body["number"].as_i64().unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, [2, 3, 4, 5, 6, 7], "each concurrent version got its own number");
    let vs = s.ok("GET", "/functions/f/versions", &t, None, 200).await;
    assert_eq!(vs["versions"].as_array().unwrap().len(), 7);
    assert_eq!(vs["versions"].as_array().unwrap().iter().filter(|v| v["live"] == true).count(), 1);

    let body = json!({"name": "race", "code": code(1)});
    let results = join_all((0..6).map(|_| s.call("POST", "/functions", Some(&t), Some(&body)))).await;
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409], "{results:?}");

    let body = json!({"path": "/same/:x", "function": "f", "auth": "public"});
    let results = join_all((0..6).map(|_| s.call("POST", "/routes", Some(&t), Some(&body)))).await;
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409], "{results:?}");
    assert_eq!(s.ok("GET", "/routes", &t, None, 200).await["routes"].as_array().unwrap().len(), 1);
}

/// What the runtime reports through the API when a function hits a limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_limits_through_the_api() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    let code = r#"export default {
  async run(input) {
    if (input.mode === "logs") { for (let i = 0; i < 200; i++) console.log("line " + i + " " + "x".repeat(100)); return "logged"; }
    if (input.mode === "memory") { const a = []; while (true) a.push(new Array(100000).fill(1.5)); }
    if (input.mode === "output") { return "y".repeat(200000); }
    if (input.mode === "loop") { while (true) {} }
    return "fine";
  },
};"#;
    let body = json!({"name": "lim", "code": code,
                      "limits": {"max_log_bytes": 2048, "memory_mb": 16, "max_output_bytes": 100000, "timeout_ms": 500}});
    let r = s.call("POST", "/functions", Some(&t), Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let run = |mode: &str| s.ok("POST", "/functions/lim/invoke", &t, Some(json!({"input": {"mode": mode}})), 200);

    let out = run("logs").await;
    assert_eq!((out["status"].as_str(), out["output"].as_str()), (Some("ok"), Some("logged")), "{out}");
    assert_eq!(out["logs_truncated"], true);
    let logs = out["logs"].as_array().unwrap();
    let (notice, lines) = logs.split_last().unwrap();
    assert_eq!(notice["level"], "warn");
    assert!(notice["message"].as_str().unwrap().contains("log limit of 2048 bytes reached"), "{notice}");
    let kept: usize = lines.iter().map(|l| l["message"].as_str().unwrap().len()).sum();
    assert!(kept <= 2048 && lines.len() >= 10, "{kept} log bytes kept in {} lines", lines.len());
    assert_eq!(lines[0]["message"].as_str().map(|m| m.starts_with("line 0 ")), Some(true));
    let e = s.ok("GET", &format!("/executions/{}", out["execution_id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!(e["logs_truncated"], true);

    let out = run("memory").await;
    assert_eq!(out["status"], "out_of_memory", "{}", out);
    let out = run("output").await;
    assert_eq!(out["status"], "limit_exceeded", "{}", out);
    let started = std::time::Instant::now();
    let out = run("loop").await;
    assert_eq!(out["status"], "timeout", "{}", out);
    assert!(started.elapsed() < Duration::from_secs(5));
    // After all that, the function still works.
    assert_eq!(run("none").await["output"], "fine");
    let errors = s.ok("GET", "/executions?function=lim", &t, None, 200).await;
    let statuses: Vec<&str> =
        errors["executions"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ok", "timeout", "limit_exceeded", "out_of_memory", "ok"]);
}

/// An async execution shows `running` (with `started_at`) while it runs,
/// not `queued`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_executions_show_running_while_they_run() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(
        &t,
        "slow",
        "export default { async run() { await new Promise(r => setTimeout(r, 1500)); return 1; } };",
    )
    .await;
    let a = s.ok("POST", "/functions/slow/invoke", &t, Some(json!({"async": true})), 202).await;
    let id = a["execution_id"].as_str().unwrap().to_owned();
    // The first state after `queued` must be `running`, not the end.
    let e = eventually(Duration::from_secs(10), "the run to start", || async {
        let e = s.ok("GET", &format!("/executions/{id}"), &t, None, 200).await;
        (e["status"] != "queued").then_some(e)
    })
    .await;
    assert_eq!(e["status"], "running", "{e}");
    assert!(e["started_at"].is_string(), "{e}");
    assert_eq!(s.wait_execution(&t, &id).await["status"], "ok");
}

/// PATCH /tenant changes only the fields it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_patch_keeps_fields_it_does_not_name() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    let r = s.ok("PATCH", "/tenant", &t, Some(json!({"retention_days": 7})), 200).await;
    assert_eq!((r["settings"]["retention_days"].clone(), r["effective_retention_days"].clone()), (json!(7), json!(7)));
    let r = s.ok("PATCH", "/tenant", &t, Some(json!({})), 200).await;
    assert_eq!(r["settings"]["retention_days"], 7, "an empty PATCH changes nothing: {r}");
    assert_eq!(s.ok("GET", "/tenant", &t, None, 200).await["effective_retention_days"], 7);
    // null resets to the operator's default.
    let r = s.ok("PATCH", "/tenant", &t, Some(json!({"retention_days": null})), 200).await;
    assert_eq!(r["effective_retention_days"], 30, "{r}");
}

/// Concurrent changes on a small connection pool all complete: no change
/// holds a connection while it waits for a second one (8 creates at once
/// on a pool of 2 once starved it for good, answering nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_do_not_starve_a_small_pool() {
    use futures::future::join_all;
    let s = Server::new(&["--database-pool-size", "2"]).await;
    let t = s.token("fresh", &["admin"]);
    // (method, the i-th call's path and body)
    type Batch = (&'static str, fn(usize) -> (String, Value));
    let batches: [Batch; 4] = [
        ("POST", |i| {
            ("/functions".into(), json!({"name": format!("f{i}"), "code": "export default { run() { return 1 } };"}))
        }),
        ("PATCH", |i| (format!("/functions/f{i}"), json!({"description": "x"}))),
        ("POST", |i| (format!("/functions/f{i}/versions"), json!({"code": "export default { run() { return 2 } };"}))),
        ("POST", |i| (format!("/functions/f{i}/rollback"), json!({"version": 1}))),
    ];
    for (method, call) in batches {
        let calls = (0..8).map(|i| {
            let (path, body) = call(i);
            let (s, t) = (&s, &t);
            async move { (s.call(method, &path, Some(t), Some(&body)).await.status, path) }
        });
        let answers = tokio::time::timeout(Duration::from_secs(60), join_all(calls))
            .await
            .unwrap_or_else(|_| panic!("{method}: the pool starved (no answer within 60 s)"));
        assert!(answers.iter().all(|(s, _)| (200..300).contains(s)), "{method}: {answers:?}");
    }
}
