//! The NUL character (`\u0000`), which Postgres text and jsonb cannot hold.
//! What functions are given and produce is stored faithfully; one record
//! holding a NUL never costs another tenant's records; every other field
//! refuses it with a 400 naming the field, never a 500.

mod common;

use std::time::{Duration, Instant};

use common::{eventually, Server};
use serde_json::{json, Value};

const ECHO: &str = r#"export default {
  async fetch(req) { console.log(await req.text()); return new Response("ok") },
  run(input) { console.log(JSON.stringify(input)); return { got: input, made: "x\u0000y" } },
  async event(e) { return { payload: e.payload, made: "\u0000" } },
  scheduled(e) { return e.input },
};"#;

async fn executions(s: &Server, token: &str, function: &str) -> Vec<Value> {
    let r = s.ok("GET", &format!("/executions?function={function}"), token, None, 200).await;
    r["executions"].as_array().unwrap().clone()
}

/// The probe's reproduction: an anonymous request whose body holds a NUL,
/// logged by the function. Its record keeps the NUL, and records of other
/// tenants written in the same moments are all there, promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_in_one_record_loses_no_record() {
    let s = Server::new(&[]).await;
    let acme = s.token("acme", &["admin"]);
    let other = s.token("other", &["admin"]);
    s.create_function(&acme, "echo", ECHO).await;
    s.ok("POST", "/routes", &acme, Some(json!({"path": "/echo", "function": "echo", "auth": "public"})), 201).await;
    s.create_function(&other, "plain", "export default { run(i) { console.log('plain'); return i } }").await;

    // Interleave: bad bytes on acme's public route, ordinary invokes of `other`.
    let mut ids = Vec::new();
    for i in 0..20 {
        let resp = s.http.post(s.url("/fn/acme/echo")).body(&b"a\0b"[..]).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let started = Instant::now();
        let r = s.ok("POST", "/functions/plain/invoke", &other, Some(json!({"input": i})), 200).await;
        assert!(started.elapsed() < Duration::from_secs(2), "invoke took {:?}", started.elapsed());
        ids.push(r["execution_id"].as_str().unwrap().to_owned());
    }
    // Every id an invoke returned answers at once.
    for id in &ids {
        let e = s.ok("GET", &format!("/executions/{id}"), &other, None, 200).await;
        assert_eq!(e["status"], "ok", "{e}");
    }
    // acme's route records hold the body as logged, NUL included.
    let recs = eventually(Duration::from_secs(10), "20 route records", || async {
        let e = executions(&s, &acme, "echo").await;
        (e.len() == 20).then_some(e)
    })
    .await;
    let id = recs[0]["id"].as_str().unwrap();
    let e = s.ok("GET", &format!("/executions/{id}"), &acme, None, 200).await;
    assert_eq!(e["logs"][0]["message"], "a\u{0}b", "{e}");
}

/// Input, output, logs and errors of every trigger keep their NULs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_data_with_nul_is_stored_faithfully() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "echo", ECHO).await;
    let input = json!({"k\u{0}": ["\u{0}", "\u{FDD0}marker-like", "plain"]});

    // Synchronous invoke: the answer and the record.
    let r = s.ok("POST", "/functions/echo/invoke", &t, Some(json!({"input": input})), 200).await;
    assert_eq!(r["output"], json!({"got": input, "made": "x\u{0}y"}), "{r}");
    let e = s.ok("GET", &format!("/executions/{}", r["execution_id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!((e["input"].clone(), e["output"]["made"].clone()), (input.clone(), json!("x\u{0}y")), "{e}");

    // An async run ends `ok`, not `error` with a database message.
    let r = s.ok("POST", "/functions/echo/invoke", &t, Some(json!({"input": input, "async": true})), 202).await;
    let e = s.wait_execution(&t, r["execution_id"].as_str().unwrap()).await;
    assert_eq!(e["status"], "ok", "{e}");
    assert_eq!(e["output"]["got"], input, "{e}");
    let r = s.ok("POST", "/functions/echo/runs", &t, Some(json!({"input": "\u{0}"})), 202).await;
    let e = s.wait_execution(&t, r["execution_id"].as_str().unwrap()).await;
    assert_eq!((e["status"].clone(), e["input"].clone()), (json!("ok"), json!("\u{0}")), "{e}");

    // A thrown error whose message holds a NUL.
    s.ok(
        "POST",
        "/functions/echo/versions",
        &t,
        Some(json!({"code": "export default { run() { throw new Error('bad\\u0000byte') } }"})),
        201,
    )
    .await;
    let r = s.ok("POST", "/functions/echo/invoke", &t, Some(json!({})), 200).await;
    assert_eq!(r["error"]["message"], "bad\u{0}byte", "{r}");
    let e = s.ok("GET", &format!("/executions/{}", r["execution_id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!(e["error"]["message"], "bad\u{0}byte", "{e}");
    s.ok("POST", "/functions/echo/rollback", &t, Some(json!({"version": 1})), 200).await;

    // An event whose payload holds a NUL reaches the handler as sent, and
    // its delivery leaves a record.
    s.ok("POST", "/subscriptions", &t, Some(json!({"function": "echo", "event_type": "nul.*"})), 201).await;
    s.ok("POST", "/events", &t, Some(json!({"type": "nul.one", "payload": input})), 202).await;
    let rec = eventually(Duration::from_secs(20), "the event's record", || async {
        executions(&s, &t, "echo").await.into_iter().find(|e| e["trigger"] == "event" && e["status"] != "running")
    })
    .await;
    assert_eq!(rec["status"], "ok", "{rec}");
    let e = s.ok("GET", &format!("/executions/{}", rec["id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!(e["output"], json!({"payload": input, "made": "\u{0}"}), "{e}");
    let batch = json!({"events": [{"type": "nul.two", "payload": {"x": "\u{0}"}}]});
    s.ok("POST", "/events/batch", &t, Some(batch), 202).await;

    // A schedule's input.
    let sched =
        s.ok("POST", "/functions/echo/schedules", &t, Some(json!({"cron": "@yearly", "input": input})), 201).await;
    let got = s.ok("GET", &format!("/functions/echo/schedules/{}", sched["id"]), &t, None, 200).await;
    assert_eq!(got["input"], input, "{got}");
    let r = s
        .ok(
            "POST",
            "/functions/echo/invoke",
            &t,
            Some(json!({"handler": "scheduled", "input": {"input": "\u{0}"}})),
            200,
        )
        .await;
    assert_eq!(r["status"], "ok", "{r}");
}

/// Everywhere else a NUL is refused with 400 naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_elsewhere_is_a_400_naming_the_field() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "f", ECHO).await;
    let sub = s.ok("POST", "/subscriptions", &t, Some(json!({"function": "f", "event_type": "x"})), 201).await;
    let _ = sub;
    let n = "a\u{0}b";
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("POST", "/functions", json!({"name": "g", "code": "export default {}", "description": n}), "description"),
        ("POST", "/functions", json!({"name": "g", "code": "export default {}", "tags": ["ok", n]}), "tags[1]"),
        ("POST", "/functions", json!({"name": "g", "code": "export default {}", "env": {"K": n}}), "env.K"),
        ("POST", "/functions", json!({"name": "g", "code": "export default {}", "message": n}), "message"),
        ("PATCH", "/functions/f", json!({"description": n}), "description"),
        ("POST", "/functions/f/versions", json!({"code": "export default {}", "message": n}), "message"),
        ("POST", "/functions", json!({"name": n, "code": "export default {}"}), "name"),
        ("POST", "/routes", json!({"path": format!("/p{n}"), "function": "f", "auth": "public"}), "path"),
        ("POST", "/api-keys", json!({"name": n, "roles": ["viewer"]}), "name"),
        (
            "POST",
            "/alerts",
            json!({"name": "a", "channel": {"type": "webhook", "url": format!("http://example.com/{n}")}}),
            "channel.url",
        ),
        ("POST", "/events", json!({"type": "x", "key": n}), "key"),
        ("POST", "/events", json!({"type": "x", "idempotency_key": n}), "idempotency_key"),
        ("POST", "/events/batch", json!({"events": [{"type": "x", "key": n}]}), "events[0].key"),
        ("POST", "/subscriptions", json!({"function": "f", "event_type": "x", "filter": {"a": n}}), "filter.a"),
        ("POST", "/check", json!({"code": n}), "code"),
    ];
    for (method, path, body, field) in cases {
        let r = s.call(method, path, Some(&t), Some(&body)).await;
        assert_eq!(r.status, 400, "{method} {path} {body}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], field, "{method} {path}: {}", r.text);
        assert!(r.message().contains("NUL"), "{}", r.text);
    }
    for path in ["/executions?function=%00", "/dead-letters?function=%00"] {
        let r = s.call("GET", path, Some(&t), None).await;
        assert_eq!(
            (r.status, r.body["error"]["details"]["field"].as_str()),
            (400, Some("function")),
            "{path}: {}",
            r.text
        );
    }
    // Nothing half-made.
    let fns = s.ok("GET", "/functions", &t, None, 200).await;
    assert_eq!(fns["functions"].as_array().unwrap().len(), 1, "{fns}");

    // env.KV says what is wrong, not "storage unavailable".
    s.ok(
        "POST",
        "/functions/f/versions",
        &t,
        Some(json!({"code": "export default { async run(input, env) { try { await env.KV.put('a\\u0000b', 'v') } catch (e) { return e.message } } }"})),
        201,
    )
    .await;
    let r = s.ok("POST", "/functions/f/invoke", &t, Some(json!({})), 200).await;
    assert!(r["output"].as_str().unwrap_or_default().contains("must not contain the NUL character"), "{r}");
}
