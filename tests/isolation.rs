//! Tenant isolation: an admin of tenant A, naming tenant B's functions,
//! versions, routes, API keys, executions, subscriptions and dead letters
//! on every endpoint, gets 404
//! (or an empty list) and B's data is unchanged; lists never mix tenants;
//! public routes and credentials stay within their tenant.

mod common;

use common::Server;
use serde_json::{json, Value};

const B_CODE: &str = r#"export default {
  async run(input, env, ctx) { return { tenant: ctx.tenant, who: "b", secret: env.B_SECRET ?? null }; },
  async fetch(request, env, ctx) { return Response.json({ tenant: ctx.tenant, who: "b" }); },
};"#;

const A_CODE: &str = r#"export default {
  async run(input, env, ctx) { return { tenant: ctx.tenant, who: "a", secret: env.B_SECRET ?? null }; },
  async fetch(request, env, ctx) { return Response.json({ tenant: ctx.tenant, who: "a" }); },
};"#;

/// Everything tenant B can see about itself.
async fn snapshot(s: &Server, b: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in [
        "/functions",
        "/functions/shared",
        "/functions/shared/versions",
        "/functions/shared/versions/1",
        "/functions/bonly",
        "/functions/shared/schedules",
        "/routes",
        "/alerts",
        "/subscriptions",
        "/dead-letters",
        "/api-keys",
        "/executions?limit=1000",
        "/tenant",
        "/audit?limit=1000",
    ] {
        let r = s.call("GET", path, Some(b), None).await;
        assert_eq!(r.status, 200, "B reads {path}: {}", r.text);
        out.push((path.to_owned(), r.body));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_cannot_see_or_touch_each_other() {
    let s = Server::new(&[]).await;
    let a = s.token("alpha", &["admin"]);
    let b = s.token("beta", &["admin"]);

    // --- Tenant B's world: two functions (one named like A's), a version
    // 2, routes of every auth kind, an API key, executions, settings.
    let created = s
        .call(
            "POST",
            "/functions",
            Some(&b),
            Some(&json!({"name": "shared", "code": B_CODE, "secrets": {"B_SECRET": "beta-only"}})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    s.create_function(&b, "bonly", B_CODE).await;
    s.ok("POST", "/functions/shared/versions", &b, Some(json!({"code": B_CODE, "deploy": false})), 201).await;
    let b_public =
        s.ok("POST", "/routes", &b, Some(json!({"path": "/pub", "function": "shared", "auth": "public"})), 201).await;
    let b_jwt =
        s.ok("POST", "/routes", &b, Some(json!({"path": "/jwt", "function": "shared", "auth": "jwt"})), 201).await;
    s.ok("POST", "/routes", &b, Some(json!({"path": "/key", "function": "shared", "auth": "api_key"})), 201).await;
    let b_key = s.ok("POST", "/api-keys", &b, Some(json!({"name": "b-key", "roles": ["admin"]})), 201).await;
    let b_key_id = b_key["id"].as_str().unwrap().to_owned();
    let b_key_secret = b_key["key"].as_str().unwrap().to_owned();
    let b_exec = s.ok("POST", "/functions/shared/invoke", &b, Some(json!({"input": {"x": 1}})), 200).await;
    assert_eq!(b_exec["output"], json!({"tenant": "beta", "who": "b", "secret": "beta-only"}));
    let b_exec_id = b_exec["execution_id"].as_str().unwrap().to_owned();
    s.ok("PATCH", "/tenant", &b, Some(json!({"retention_days": 9})), 200).await;
    let b_sched =
        s.ok("POST", "/functions/shared/schedules", &b, Some(json!({"cron": "@yearly"})), 201).await["id"].to_string();
    let b_alert = s
        .ok(
            "POST",
            "/alerts",
            &b,
            Some(json!({"name": "b-alert", "function": "bonly", "on_failure": true,
                        "channel": {"type": "webhook", "url": "https://hooks.example.com/beta"}})),
            201,
        )
        .await;
    let b_alert_id = b_alert["id"].to_string();
    // A subscription, and a dead letter (`shared` has no `event` handler).
    let b_sub = s
        .ok(
            "POST",
            "/subscriptions",
            &b,
            Some(json!({"function": "shared", "event_type": "b.*", "max_attempts": 1})),
            201,
        )
        .await;
    s.ok("POST", "/events", &b, Some(json!({"type": "b.thing", "payload": {"secret": "beta"}})), 202).await;
    let b_dead = common::eventually(std::time::Duration::from_secs(30), "B's dead letter", || async {
        let page = s.ok("GET", "/dead-letters", &b, None, 200).await;
        page["dead_letters"].as_array().unwrap().first().map(|d| d["id"].clone())
    })
    .await;

    // --- Tenant A has a function of the same name and its own route.
    s.create_function(&a, "shared", A_CODE).await;
    s.ok("POST", "/routes", &a, Some(json!({"path": "/mine", "function": "shared", "auth": "public"})), 201).await;
    let a_key = s.ok("POST", "/api-keys", &a, Some(json!({"name": "a-key", "roles": ["admin"]})), 201).await;
    let a_key_id = a_key["id"].as_str().unwrap().to_owned();

    let before = snapshot(&s, &b).await;

    // --- A names B's things on every endpoint: 404.
    let not_found: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/functions/bonly".into(), None),
        ("PATCH", "/functions/bonly".into(), Some(json!({"description": "pwned", "enabled": false}))),
        ("PATCH", "/functions/bonly".into(), Some(json!({"secrets": {"B_SECRET": "pwned"}}))),
        ("DELETE", "/functions/bonly".into(), None),
        ("GET", "/functions/bonly/versions".into(), None),
        ("POST", "/functions/bonly/versions".into(), Some(json!({"code": A_CODE}))),
        ("GET", "/functions/bonly/versions/1".into(), None),
        ("GET", "/functions/shared/versions/2".into(), None),
        ("POST", "/functions/bonly/deploy".into(), Some(json!({"version": 1}))),
        ("POST", "/functions/bonly/rollback".into(), Some(json!({"version": 1}))),
        ("POST", "/functions/shared/rollback".into(), Some(json!({"version": 2}))),
        ("POST", "/functions/bonly/invoke".into(), Some(json!({}))),
        ("POST", "/functions/bonly/invoke".into(), Some(json!({"async": true}))),
        ("GET", format!("/executions/{b_exec_id}"), None),
        ("GET", format!("/executions/{b_exec_id}/stream"), None),
        ("POST", format!("/executions/{b_exec_id}/cancel"), None),
        ("POST", "/functions/bonly/runs".into(), Some(json!({}))),
        ("GET", "/functions/bonly/schedules".into(), None),
        ("POST", "/functions/bonly/schedules".into(), Some(json!({"cron": "@daily"}))),
        ("GET", format!("/functions/shared/schedules/{b_sched}"), None),
        ("PATCH", format!("/functions/shared/schedules/{b_sched}"), Some(json!({"enabled": false}))),
        ("DELETE", format!("/functions/shared/schedules/{b_sched}"), None),
        ("GET", format!("/functions/shared/schedules/{b_sched}/runs"), None),
        ("GET", format!("/functions/shared/schedules/{b_sched}/preview"), None),
        ("DELETE", format!("/routes/{}", b_public["id"]), None),
        ("DELETE", format!("/routes/{}", b_jwt["id"]), None),
        ("DELETE", format!("/api-keys/{b_key_id}"), None),
        ("POST", "/routes".into(), Some(json!({"path": "/steal", "function": "bonly", "auth": "public"}))),
        ("GET", format!("/alerts/{b_alert_id}"), None),
        ("PATCH", format!("/alerts/{b_alert_id}"), Some(json!({"enabled": false}))),
        ("DELETE", format!("/alerts/{b_alert_id}"), None),
        ("POST", format!("/alerts/{b_alert_id}/test"), None),
        ("GET", format!("/alerts/{b_alert_id}/notifications"), None),
        (
            "POST",
            "/alerts".into(),
            Some(json!({"name": "steal", "function": "bonly", "on_failure": true,
                        "channel": {"type": "slack", "url": "https://hooks.example.com/a"}})),
        ),
        ("GET", format!("/subscriptions/{}", b_sub["id"]), None),
        ("DELETE", format!("/subscriptions/{}", b_sub["id"]), None),
        ("POST", "/subscriptions".into(), Some(json!({"function": "bonly", "event_type": "steal"}))),
        ("GET", format!("/dead-letters/{b_dead}"), None),
        ("POST", format!("/dead-letters/{b_dead}/replay"), None),
        ("DELETE", format!("/dead-letters/{b_dead}"), None),
    ];
    for (method, path, body) in &not_found {
        let r = s.call(method, path, Some(&a), body.as_ref()).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "A: {method} {path}: {}", r.text);
        assert!(!r.text.contains("beta"), "the answer mentions tenant B: {}", r.text);
    }

    // --- A's lists hold only A's things.
    let fs = s.ok("GET", "/functions", &a, None, 200).await;
    assert_eq!(fs["functions"].as_array().unwrap().len(), 1, "{fs}");
    assert_eq!(fs["functions"][0]["name"], "shared");
    assert_eq!(fs["functions"][0]["secrets"], json!([]), "A's `shared` is not B's");
    let vs = s.ok("GET", "/functions/shared/versions", &a, None, 200).await;
    assert_eq!(vs["versions"].as_array().unwrap().len(), 1, "{vs}");
    assert_eq!(s.ok("GET", "/functions/shared/versions/1", &a, None, 200).await["code"], A_CODE);
    assert_eq!(s.ok("GET", "/alerts", &a, None, 200).await["alerts"], json!([]), "A has no alert rules");
    let rs = s.ok("GET", "/routes", &a, None, 200).await;
    let paths: Vec<&str> = rs["routes"].as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/mine"]);
    let ks = s.ok("GET", "/api-keys", &a, None, 200).await;
    let ids: Vec<&str> = ks["api_keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a_key_id.as_str()]);
    let ex = s.ok("GET", "/executions", &a, None, 200).await;
    assert_eq!(ex["executions"], json!([]), "A has run nothing: {ex}");
    for q in ["/executions?function=bonly", "/executions?function=shared", "/executions?status=ok"] {
        assert_eq!(s.ok("GET", q, &a, None, 200).await["executions"], json!([]), "{q}");
    }
    assert_eq!(s.ok("GET", "/subscriptions", &a, None, 200).await["subscriptions"], json!([]));
    assert_eq!(s.ok("GET", "/dead-letters", &a, None, 200).await["dead_letters"], json!([]));
    // A's events never reach B's subscriptions.
    let p = s.ok("POST", "/events", &a, Some(json!({"type": "b.thing"})), 202).await;
    assert_eq!(p["deliveries"], 0, "{p}");
    let audit = s.ok("GET", "/audit?limit=1000", &a, None, 200).await;
    for e in audit["entries"].as_array().unwrap() {
        assert_ne!(e["target"], "bonly", "B's audit entries in A's log: {e}");
    }
    // The console's home figures count A's things only (B has runs, a
    // schedule and a dead letter).
    let st = s.ok("GET", "/stats", &a, None, 200).await;
    assert_eq!(st["dead_letters_waiting"], 0, "B's dead letters in A's stats: {st}");
    assert!(st["runs_by_status"].as_object().unwrap().values().all(|v| v == 0), "B's runs in A's stats: {st}");
    assert_eq!((&st["failing_functions"], &st["next_scheduled_runs"]), (&json!([]), &json!([])), "{st}");
    let b_st = s.ok("GET", "/stats", &b, None, 200).await;
    assert!(b_st["dead_letters_waiting"].as_i64() >= Some(1), "B's own stats count its dead letter: {b_st}");
    assert_eq!(s.ok("GET", "/whoami", &a, None, 200).await["tenant"], "alpha");
    let t = s.ok("GET", "/tenant", &a, None, 200).await;
    assert_eq!(t["id"], "alpha");
    assert_eq!(t["settings"], json!({}), "B's settings are not A's");

    // --- Same names run each tenant's own code and secrets.
    let out = s.ok("POST", "/functions/shared/invoke", &a, Some(json!({})), 200).await;
    assert_eq!(out["output"], json!({"tenant": "alpha", "who": "a", "secret": null}));
    let a_exec = out["execution_id"].as_str().unwrap().to_owned();
    let out = s.ok("POST", "/functions/shared/invoke", &b, Some(json!({})), 200).await;
    assert_eq!(out["output"], json!({"tenant": "beta", "who": "b", "secret": "beta-only"}));
    let b_exec2 = out["execution_id"].as_str().unwrap().to_owned();
    // Each execution is visible to its own tenant only.
    let r = s.call("GET", &format!("/executions/{b_exec2}"), Some(&a), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "B's new execution, read by A: {}", r.text);
    let r = s.call("GET", &format!("/executions/{a_exec}"), Some(&b), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "A's execution, read by B: {}", r.text);
    assert_eq!(s.ok("GET", &format!("/executions/{a_exec}"), &a, None, 200).await["function"], "shared");
    let ex = s.ok("GET", "/executions", &a, None, 200).await;
    let ids: Vec<&str> = ex["executions"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a_exec.as_str()], "A lists its one execution only");

    // --- Public routes stay in their tenant.
    let r = s.send(s.request("GET", "/fn/beta/pub")).await;
    assert_eq!((r.status, r.body["tenant"].as_str()), (200, Some("beta")), "{}", r.text);
    for path in ["/fn/alpha/pub", "/fn/alpha/jwt", "/fn/alpha/key", "/fn/beta/mine"] {
        let r = s.send(s.request("GET", path)).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}: {}", r.text);
    }
    let r = s.send(s.request("GET", "/fn/alpha/mine")).await;
    assert_eq!((r.status, r.body["who"].as_str()), (200, Some("a")), "{}", r.text);
    // Credentials of A on B's protected routes.
    let r = s.send(s.request("GET", "/fn/beta/jwt").bearer_auth(&a)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.text);
    let r = s.send(s.request("GET", "/fn/beta/key").header("x-api-key", a_key["key"].as_str().unwrap())).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.text);

    // --- B's API key acts as B only: A's things are invisible to it.
    let with_key = |method: &str, path: &str| s.request(method, path).header("x-api-key", b_key_secret.clone());
    let r = s.send(with_key("GET", "/api/v1/functions")).await;
    assert_eq!(r.status, 200);
    let names: Vec<&str> =
        r.body["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["bonly", "shared"]);
    let r = s.send(with_key("GET", "/api/v1/api-keys")).await;
    assert!(!r.text.contains(&a_key_id), "B's key lists A's keys: {}", r.text);
    let r = s.send(with_key("DELETE", &format!("/api/v1/api-keys/{a_key_id}"))).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = s.send(with_key("GET", "/api/v1/routes")).await;
    assert!(!r.text.contains("/mine"), "{}", r.text);
    // A's key still works (B could not revoke it).
    let r = s.send(s.request("GET", "/api/v1/tenant").header("x-api-key", a_key["key"].as_str().unwrap())).await;
    assert_eq!((r.status, r.body["id"].as_str()), (200, Some("alpha")), "{}", r.text);

    // --- B is exactly as before A's attempts, except for what B did itself
    // meanwhile: one invocation and one public call (its record is written
    // off the request path, so it may still be on its way).
    let mut after = snapshot(&s, &b).await;
    let before_ids: Vec<Value> = before
        .iter()
        .find(|(p, _)| p.starts_with("/executions"))
        .map(|(_, v)| v["executions"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect())
        .unwrap();
    for (path, v) in after.iter_mut() {
        if path.starts_with("/executions") {
            let list = v["executions"].as_array_mut().unwrap();
            let new: Vec<Value> = list.iter().filter(|e| !before_ids.contains(&e["id"])).cloned().collect();
            assert!(new.iter().any(|e| e["id"] == b_exec2.as_str()), "B's own new execution is listed: {new:?}");
            for e in &new {
                assert_ne!(e["id"], a_exec.as_str(), "A's execution in B's list");
                assert_eq!(e["function"], "shared");
                assert!(e["id"] == b_exec2.as_str() || e["trigger"] == "http", "an execution B did not start: {e}");
            }
            assert!(new.len() <= 2, "{new:?}");
            list.retain(|e| before_ids.contains(&e["id"]));
        }
    }
    for ((path, b0), (_, b1)) in before.iter().zip(&after) {
        assert_eq!(b0, b1, "B's {path} changed");
    }
    // B's function still runs B's code and B's secret.
    let out = s.ok("POST", "/functions/bonly/invoke", &b, Some(json!({})), 200).await;
    assert_eq!(out["output"]["who"], "b");
}
