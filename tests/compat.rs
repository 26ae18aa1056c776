//! Compatibility dates through the API: the default (the creation day), the
//! validation of the field, and a gated behaviour (`ctx.caller`, replaced by
//! `ctx.user.id`) that differs between two dates on the same route, with
//! the deprecation warning in the older function's execution logs.

mod common;

use std::time::Duration;

use common::{eventually, Server};
use serde_json::{json, Value};

const WHO: &str = r#"export default {
  async fetch(request, env, ctx) {
    return Response.json({ caller: ctx.caller ?? null, user: ctx.user && ctx.user.id });
  },
};"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_behaviour_differs_between_two_compatibility_dates() {
    let s = Server::new(&[]).await;
    let admin = s.token("shop", &["admin"]);
    let body = |name: &str, date: Value| json!({"name": name, "code": WHO, "compatibility_date": date});

    let old = s.ok("POST", "/functions", &admin, Some(body("old", json!("2026-06-01"))), 201).await;
    assert_eq!(old["compatibility_date"], "2026-06-01");
    let new = s.ok("POST", "/functions", &admin, Some(json!({"name": "new", "code": WHO})), 201).await;
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    assert_eq!(new["compatibility_date"], today.as_str(), "default: the creation day");

    for f in ["old", "new"] {
        let route = json!({"path": format!("/{f}"), "function": f, "auth": "jwt"});
        s.ok("POST", "/routes", &admin, Some(route), 201).await;
    }
    let r = s.send(s.request("GET", "/fn/shop/old").bearer_auth(&admin)).await;
    assert_eq!(r.body, json!({"caller": "cli", "user": "cli"}), "{}", r.text);
    let r = s.send(s.request("GET", "/fn/shop/new").bearer_auth(&admin)).await;
    assert_eq!(r.body, json!({"caller": null, "user": "cli"}), "{}", r.text);

    // The old function's execution says what to use instead, once. Route
    // executions are written in batches after the response: wait for it.
    let id = eventually(Duration::from_secs(10), "the old function's execution record", || async {
        let page = s.ok("GET", "/executions?function=old", &admin, None, 200).await;
        page["executions"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    let exec = s.ok("GET", &format!("/executions/{id}"), &admin, None, 200).await;
    let logs = exec["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{exec}");
    assert_eq!(logs[0]["level"], "warn");
    assert!(logs[0]["message"].as_str().unwrap().contains("ctx.caller is deprecated: use ctx.user.id"), "{exec}");

    // Moving the date forward opts in to the new behaviour.
    let patched = s.ok("PATCH", "/functions/old", &admin, Some(json!({"compatibility_date": today})), 200).await;
    assert_eq!(patched["compatibility_date"], today.as_str());
    let r = s.send(s.request("GET", "/fn/shop/old").bearer_auth(&admin)).await;
    assert_eq!(r.body, json!({"caller": null, "user": "cli"}), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compatibility_dates_are_validated() {
    let s = Server::new(&[]).await;
    let admin = s.token("shop", &["admin"]);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().format("%Y-%m-%d").to_string();
    for (date, says) in [
        (json!("2026-02-30"), "is not a date"),
        (json!("26-1-1"), "is not a date"),
        (json!("1999-12-31"), "from 2000-01-01"),
        (json!(tomorrow), "is in the future"),
        (json!(20260101), "invalid type"),
    ] {
        let body = json!({"name": "f", "code": WHO, "compatibility_date": date});
        let r = s.call("POST", "/functions", Some(&admin), Some(&body)).await;
        assert_eq!(r.status, 400, "{date}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], "compatibility_date", "{date}: {}", r.text);
        assert!(r.message().contains(says), "{date}: {}", r.text);
    }
    s.create_function(&admin, "f", WHO).await;
    let r = s.call("PATCH", "/functions/f", Some(&admin), Some(&json!({"compatibility_date": "2026-13-01"}))).await;
    assert_eq!(
        (r.status, r.body["error"]["details"]["field"].as_str()),
        (400, Some("compatibility_date")),
        "{}",
        r.text
    );
}
