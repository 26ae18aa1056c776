//! The full RBAC matrix: every endpoint of the admin API (checked against
//! the route table in gateway/src/api/table.rs, so a new endpoint without
//! a row here, or a row that disagrees with the table's role, fails the
//! test) times every role.
//!
//! viewer: reads (except API keys and the audit log, admin only);
//! developer: + create functions, PATCH them (`enabled` needs operator,
//! `secrets` admin), versions with "deploy": false, invoke;
//! developer: + publish events;
//! operator: + delete functions, deploy/rollback (and versions that deploy), schedules,
//! routes, alert rules (and their test sends), subscriptions, dead-letter replay/delete,
//! webhooks (and their secret rotation and redeliveries);
//! admin: + API keys, tenant settings, audit log, secrets.

mod common;

use std::collections::HashMap;

use common::{Server, ROLES};
use serde_json::{json, Value};

const CODE: &str = "export default { async run(input) { return { ok: true }; } };";
/// Runs until cancelled (the cancel rows need a running execution).
const WAIT: &str = "export default { async run() { await new Promise(r => setTimeout(r, 20000)); } };";
/// Refused at once by the default address policy (loopback): test sends
/// finish quickly, undelivered.
const ALERT_URL: &str = "http://127.0.0.1:9/hook";

/// `(method, path, body, least role allowed, status on success)`.
/// `{role}` is the caller's role; `{route}`, `{key}`, `{exec}`, `{alert}`
/// and `{dalert}` are resources set up for it beforehand.
fn matrix() -> Vec<(&'static str, &'static str, Option<Value>, &'static str, u16)> {
    vec![
        ("GET", "/functions", None, "viewer", 200),
        ("POST", "/functions", Some(json!({"name": "new-{role}", "code": CODE})), "developer", 201),
        ("POST", "/functions", Some(json!({"name": "sec-{role}", "code": CODE, "secrets": {"K": "v"}})), "admin", 201),
        ("GET", "/functions/f", None, "viewer", 200),
        ("PATCH", "/functions/f", Some(json!({"description": "by {role}"})), "developer", 200),
        ("PATCH", "/functions/f", Some(json!({"description": "x", "enabled": true})), "operator", 200),
        ("PATCH", "/functions/f", Some(json!({"secrets": {"K": "v"}})), "admin", 200),
        ("DELETE", "/functions/del-{role}", None, "operator", 204),
        ("GET", "/functions/f/versions", None, "viewer", 200),
        ("POST", "/functions/f/versions", Some(json!({"code": CODE, "deploy": false})), "developer", 201),
        ("POST", "/functions/f/versions", Some(json!({"code": CODE})), "operator", 201),
        ("POST", "/functions/f/versions", Some(json!({"code": CODE, "deploy": true})), "operator", 201),
        ("GET", "/functions/f/versions/1", None, "viewer", 200),
        ("POST", "/functions/f/deploy", Some(json!({"version": 1})), "operator", 200),
        ("POST", "/functions/f/rollback", Some(json!({"version": 1})), "operator", 200),
        ("POST", "/functions/f/invoke", Some(json!({"input": {"by": "{role}"}})), "developer", 200),
        ("POST", "/functions/f/invoke", Some(json!({"async": true})), "developer", 202),
        ("POST", "/functions/f/runs", Some(json!({"input": {"by": "{role}"}})), "developer", 202),
        ("GET", "/functions/f/schedules", None, "viewer", 200),
        ("POST", "/functions/f/schedules", Some(json!({"cron": "@yearly"})), "operator", 201),
        ("GET", "/functions/f/schedules/{sched}", None, "viewer", 200),
        ("PATCH", "/functions/f/schedules/{sched}", Some(json!({"enabled": false})), "operator", 200),
        ("GET", "/functions/f/schedules/{sched}/runs", None, "viewer", 200),
        ("GET", "/functions/f/schedules/{sched}/preview", None, "viewer", 200),
        ("DELETE", "/functions/f/schedules/{sched}", None, "operator", 204),
        ("GET", "/executions", None, "viewer", 200),
        ("GET", "/executions/{exec}", None, "viewer", 200),
        ("GET", "/executions/{exec}/stream", None, "viewer", 200),
        ("POST", "/executions/{run}/cancel", None, "developer", 202),
        ("GET", "/routes", None, "viewer", 200),
        ("POST", "/routes", Some(json!({"path": "/new-{role}", "function": "f", "auth": "public"})), "operator", 201),
        ("DELETE", "/routes/{route}", None, "operator", 204),
        ("GET", "/alerts", None, "viewer", 200),
        (
            "POST",
            "/alerts",
            Some(json!({"name": "new-{role}", "on_failure": true, "channel": {"type": "slack", "url": ALERT_URL}})),
            "operator",
            201,
        ),
        ("GET", "/alerts/{alert}", None, "viewer", 200),
        ("PATCH", "/alerts/{alert}", Some(json!({"min_interval_secs": 60})), "operator", 200),
        ("DELETE", "/alerts/{dalert}", None, "operator", 204),
        ("POST", "/alerts/{alert}/test", None, "operator", 200),
        ("GET", "/alerts/{alert}/notifications", None, "viewer", 200),
        ("POST", "/events", Some(json!({"type": "rbac.{role}", "payload": {"by": "{role}"}})), "developer", 202),
        ("POST", "/events/batch", Some(json!({"events": [{"type": "rbac.batch.{role}"}]})), "developer", 202),
        ("GET", "/subscriptions", None, "viewer", 200),
        ("POST", "/subscriptions", Some(json!({"function": "f", "event_type": "new.{role}"})), "operator", 201),
        ("GET", "/subscriptions/{sub}", None, "viewer", 200),
        ("DELETE", "/subscriptions/{sub}", None, "operator", 204),
        ("GET", "/dead-letters", None, "viewer", 200),
        ("GET", "/dead-letters/{dead}", None, "viewer", 200),
        ("POST", "/dead-letters/{dead}/replay", None, "operator", 202),
        ("DELETE", "/dead-letters/{dead2}", None, "operator", 204),
        ("GET", "/webhooks", None, "viewer", 200),
        ("POST", "/webhooks", Some(json!({"url": ALERT_URL, "event_types": ["rbac.{role}"]})), "operator", 201),
        ("GET", "/webhooks/{hook}", None, "viewer", 200),
        ("PATCH", "/webhooks/{hook}", Some(json!({"description": "by {role}"})), "operator", 200),
        ("DELETE", "/webhooks/{dhook}", None, "operator", 204),
        ("POST", "/webhooks/{hook}/rotate-secret", None, "operator", 200),
        ("GET", "/webhooks/{hook}/deliveries", None, "viewer", 200),
        ("GET", "/webhooks/{hook}/deliveries/{hdel}", None, "viewer", 200),
        ("POST", "/webhooks/{hook}/deliveries/{hdel}/redeliver", None, "operator", 202),
        ("GET", "/api-keys", None, "admin", 200),
        ("POST", "/api-keys", Some(json!({"name": "new-{role}", "roles": ["viewer"]})), "admin", 201),
        ("DELETE", "/api-keys/{key}", None, "admin", 204),
        ("POST", "/check", Some(json!({"code": CODE})), "developer", 200),
        ("GET", "/tenant", None, "viewer", 200),
        ("PATCH", "/tenant", Some(json!({"retention_days": 7})), "admin", 200),
        ("GET", "/audit", None, "admin", 200),
        ("GET", "/stats", None, "viewer", 200),
        ("GET", "/whoami", None, "viewer", 200),
        ("GET", "/types", None, "viewer", 200),
    ]
}

fn rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).unwrap_or_else(|| panic!("unknown role {role}"))
}

/// `(METHOD, ["functions", "*", "versions"], least role)` for every
/// endpoint of the gateway's route table.
fn route_table() -> Vec<(String, Vec<String>, String)> {
    quasm_gateway::endpoints()
        .map(|(method, path, role)| {
            let pattern = path.split('/').map(|s| if s.starts_with('{') { "*".to_owned() } else { s.to_owned() });
            // "any" valid credential: the matrix's least role is viewer.
            let role = if role == "any" { "viewer" } else { role };
            (method.to_owned(), pattern.collect(), role.to_owned())
        })
        .collect()
}

fn matches(pattern: &[String], path: &str) -> bool {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    segs.len() == pattern.len() && pattern.iter().zip(&segs).all(|(p, s)| p == "*" || p == s)
}

/// Every endpoint has rows, and its weakest row needs exactly the role the
/// table declares (stronger rows are bodies that need more, like secrets).
#[test]
fn the_matrix_covers_every_endpoint_with_the_tables_role() {
    let table = route_table();
    assert!(table.len() >= 50, "the route table: {table:?}");
    let rows = matrix();
    let mut wrong = Vec::new();
    for (method, pattern, role) in &table {
        let least =
            rows.iter().filter(|(m, p, ..)| m == method && matches(pattern, p)).map(|r| r.3).min_by_key(|r| rank(r));
        if least != Some(role.as_str()) {
            wrong.push(format!("{method} /{}: table says {role}, matrix {least:?}", pattern.join("/")));
        }
    }
    assert!(wrong.is_empty(), "endpoints whose RBAC rows disagree with the route table: {wrong:?}");
    // And no row names an endpoint that does not exist.
    for (m, p, ..) in &rows {
        assert!(table.iter().any(|(tm, tp, _)| tm == m && matches(tp, p)), "{m} {p} is not in the route table");
    }
}

fn fill(s: &str, vars: &HashMap<&str, String>) -> String {
    let mut s = s.to_owned();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

fn fill_json(v: &Value, vars: &HashMap<&str, String>) -> Value {
    match v {
        Value::String(s) => Value::String(fill(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_json(x, vars)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (fill(k, vars), fill_json(x, vars))).collect()),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_for_every_role() {
    let s = Server::new(&[]).await;
    let admin = s.token("corp", &["admin"]);

    // Resources, so every allowed call can succeed; one set per role for
    // the calls that consume them.
    // A webhook whose deliveries fail at once (loopback is refused), to
    // read and redeliver.
    let hook_body = |types: Value| json!({"url": ALERT_URL, "event_types": types});
    let hook = s.ok("POST", "/webhooks", &admin, Some(hook_body(json!(["quasm.function.created"]))), 201).await;
    s.create_function(&admin, "f", CODE).await;
    let hdel = common::eventually(std::time::Duration::from_secs(30), "a failed webhook delivery", || async {
        let page = s.ok("GET", &format!("/webhooks/{}/deliveries?status=failed", hook["id"]), &admin, None, 200).await;
        page["deliveries"].as_array().unwrap().first().map(|d| d["id"].to_string())
    })
    .await;
    let exec = s.ok("POST", "/functions/f/invoke", &admin, Some(json!({})), 200).await["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.create_function(&admin, "wait", WAIT).await;
    let alert_body =
        |name: String| json!({"name": name, "on_failure": true, "channel": {"type": "slack", "url": ALERT_URL}});
    let alert = s.ok("POST", "/alerts", &admin, Some(alert_body("a".into())), 201).await;
    // Dead letters: `f` has no `event` handler, so one attempt fails for good.
    s.ok(
        "POST",
        "/subscriptions",
        &admin,
        Some(json!({"function": "f", "event_type": "dead", "max_attempts": 1})),
        201,
    )
    .await;
    for _ in 0..2 * ROLES.len() {
        s.ok("POST", "/events", &admin, Some(json!({"type": "dead"})), 202).await;
    }
    let dead = common::eventually(std::time::Duration::from_secs(30), "the dead letters", || async {
        let page = s.ok("GET", "/dead-letters", &admin, None, 200).await;
        let ids: Vec<String> = page["dead_letters"].as_array().unwrap().iter().map(|d| d["id"].to_string()).collect();
        (ids.len() == 2 * ROLES.len()).then_some(ids)
    })
    .await;
    let mut vars_of: HashMap<&str, HashMap<&str, String>> = HashMap::new();
    for (i, role) in ROLES.into_iter().enumerate() {
        let sched = s.ok("POST", "/functions/f/schedules", &admin, Some(json!({"cron": "@yearly"})), 201).await;
        let run = s.ok("POST", "/functions/wait/runs", &admin, Some(json!({})), 202).await;
        let dalert = s.ok("POST", "/alerts", &admin, Some(alert_body(format!("del-{role}"))), 201).await;
        s.create_function(&admin, &format!("del-{role}"), CODE).await;
        let route = s
            .ok(
                "POST",
                "/routes",
                &admin,
                Some(json!({"path": format!("/del-{role}"), "function": "f", "auth": "public"})),
                201,
            )
            .await;
        let key = s
            .ok("POST", "/api-keys", &admin, Some(json!({"name": format!("k-{role}"), "roles": ["viewer"]})), 201)
            .await;
        let sub = s
            .ok(
                "POST",
                "/subscriptions",
                &admin,
                Some(json!({"function": "f", "event_type": format!("del.{role}")})),
                201,
            )
            .await;
        let dhook = s.ok("POST", "/webhooks", &admin, Some(hook_body(json!([format!("del.{role}")]))), 201).await;
        let vars = HashMap::from([
            ("hook", hook["id"].to_string()),
            ("dhook", dhook["id"].to_string()),
            ("hdel", hdel.clone()),
            ("role", role.to_owned()),
            ("sub", sub["id"].to_string()),
            ("dead", dead[2 * i].clone()),
            ("dead2", dead[2 * i + 1].clone()),
            ("route", route["id"].to_string()),
            ("key", key["id"].as_str().unwrap().to_owned()),
            ("exec", exec.clone()),
            ("sched", sched["id"].to_string()),
            ("run", run["execution_id"].as_str().unwrap().to_owned()),
            ("alert", alert["id"].to_string()),
            ("dalert", dalert["id"].to_string()),
        ]);
        vars_of.insert(role, vars);
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    for role in ROLES {
        let token = s.token("corp", &[role]);
        let vars = &vars_of[role];
        for (method, path, body, least, ok_status) in matrix() {
            let path = fill(path, vars);
            let body = body.map(|b| fill_json(&b, vars));
            let r = s.call(method, &path, Some(&token), body.as_ref()).await;
            checked += 1;
            let allowed = rank(role) >= rank(least);
            let what = format!("{role}: {method} {path} {}", body.as_ref().map(Value::to_string).unwrap_or_default());
            if allowed {
                if r.status != ok_status {
                    failures.push(format!("{what} -> {} (want {ok_status}) {}", r.status, r.text));
                }
            } else {
                // The refusal names a role the caller lacks, at most the one
                // the call needs (a viewer creating a function with secrets
                // first hears it needs developer).
                let named = r.body["error"]["details"]["required_role"].as_str().unwrap_or("");
                let named_ok = ROLES.contains(&named) && rank(named) > rank(role) && rank(named) <= rank(least);
                if r.status != 403 || r.code() != "forbidden" || !named_ok {
                    failures
                        .push(format!("{what} -> {} (want 403 forbidden, required_role {least}) {}", r.status, r.text));
                }
            }
        }
    }
    assert_eq!(checked, 4 * matrix().len());
    assert!(failures.is_empty(), "{} RBAC violations:\n{}", failures.len(), failures.join("\n"));

    // Refused calls changed nothing; allowed ones did what they said.
    let names = |v: &Value, list: &str, field: &str| -> Vec<String> {
        let mut n: Vec<String> =
            v[list].as_array().unwrap().iter().map(|x| x[field].as_str().unwrap().to_owned()).collect();
        n.sort();
        n
    };
    let fs = s.ok("GET", "/functions", &admin, None, 200).await;
    assert_eq!(
        names(&fs, "functions", "name"),
        ["del-developer", "del-viewer", "f", "new-admin", "new-developer", "new-operator", "sec-admin", "wait"],
    );
    let f = fs["functions"].as_array().unwrap().iter().find(|f| f["name"] == "f").unwrap();
    assert_eq!(f["secrets"], json!(["K"]), "only the admin's secret PATCH went through");
    assert_eq!(f["description"], "x");
    let vs = s.ok("GET", "/functions/f/versions", &admin, None, 200).await;
    // v1 + deploy:false (developer, operator, admin) + default and true (operator, admin).
    assert_eq!(vs["versions"].as_array().unwrap().len(), 8, "{vs}");
    assert_eq!(s.ok("GET", "/functions/f", &admin, None, 200).await["live_version"], 1, "the last rollback wins");
    let rs = s.ok("GET", "/routes", &admin, None, 200).await;
    assert_eq!(names(&rs, "routes", "path"), ["/del-developer", "/del-viewer", "/new-admin", "/new-operator"]);
    let subs = s.ok("GET", "/subscriptions", &admin, None, 200).await;
    assert_eq!(
        names(&subs, "subscriptions", "event_type"),
        ["dead", "del.developer", "del.viewer", "new.admin", "new.operator"]
    );
    let left =
        s.ok("GET", "/dead-letters?limit=1000", &admin, None, 200).await["dead_letters"].as_array().unwrap().len();
    // Operator and admin each replayed one (it may already be dead again) and deleted one.
    assert!((2 * ROLES.len() - 4..=2 * ROLES.len() - 2).contains(&left), "{left} dead letters left");
    let ks = s.ok("GET", "/api-keys", &admin, None, 200).await;
    assert_eq!(names(&ks, "api_keys", "name"), ["k-developer", "k-operator", "k-viewer", "new-admin"]);
    let t = s.ok("GET", "/tenant", &admin, None, 200).await;
    assert_eq!(t["settings"]["retention_days"], 7);
    let al = s.ok("GET", "/alerts", &admin, None, 200).await;
    assert_eq!(names(&al, "alerts", "name"), ["a", "del-developer", "del-viewer", "new-admin", "new-operator"]);
    let sent = s.ok("GET", &format!("/alerts/{}/notifications", alert["id"]), &admin, None, 200).await;
    // (Rule `a` watches the whole tenant: the dead-letter setup's failures notify too.)
    let tests = sent["notifications"].as_array().unwrap().iter().filter(|n| n["kind"] == "test").count();
    assert_eq!(tests, 2, "test sends by operator and admin only: {sent}");

    // The developer's refusal to deploy says how to add a version anyway.
    let dev = s.token("corp", &["developer"]);
    let r = s.call("POST", "/functions/f/versions", Some(&dev), Some(&json!({"code": CODE}))).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert!(r.body["error"]["details"]["hint"].as_str().is_some_and(|h| h.contains("\"deploy\": false")), "{}", r.text);

    // Roles combine: the highest counts.
    let mixed = s.token("corp", &["viewer", "admin"]);
    assert_eq!(s.call("GET", "/audit", Some(&mixed), None).await.status, 200);
    // A token without roles authenticates but may do nothing.
    let key = s.env.hs256_key();
    let none = common::sign_jwt(
        &key,
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "nobody", "tenant": "corp", "exp": common::now_secs() + 600}),
    );
    let r = s.call("GET", "/functions", Some(&none), None).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.text);

    // API keys carry roles the same way.
    let k = s.ok("POST", "/api-keys", &admin, Some(json!({"name": "ci", "roles": ["developer"]})), 201).await;
    let k = k["key"].as_str().unwrap().to_owned();
    let as_key = |method: &'static str, path: &'static str, body: Value| {
        let rb = s
            .request(method, path)
            .header("x-api-key", k.clone())
            .header("content-type", "application/json")
            .body(body.to_string());
        s.send(rb)
    };
    assert_eq!(as_key("POST", "/api/v1/functions/f/invoke", json!({})).await.status, 200);
    let r = as_key("POST", "/api/v1/functions/f/rollback", json!({"version": 1})).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.text);
    let r = as_key("GET", "/api/v1/api-keys", Value::Null).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.text);
    let r = as_key("POST", "/api/v1/api-keys", json!({"name": "escalate", "roles": ["admin"]})).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "a developer key cannot mint an admin key: {}", r.text);
}
