//! Rate limits (per tenant, 429 with Retry-After) and concurrency quotas
//! (per function and per tenant, a bounded wait then 429).

mod common;

use std::time::{Duration, Instant};

use common::{eventually, Env, Server};
use serde_json::json;

const SLOW: &str = r#"export default {
  async run(input) { await new Promise(r => setTimeout(r, input?.wait ?? 3000)); return { done: true }; },
  async fetch() { await new Promise(r => setTimeout(r, 3000)); return new Response("done"); },
};"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_rate_limit_gives_429_with_retry_after() {
    let s = Server::new(&["--rate-limit-tenant-rps", "2"]).await;
    let t = s.token("acme", &["admin"]);
    let other = s.token("other", &["admin"]);
    s.create_function(&t, "f", "export default { async fetch() { return new Response('hi'); } };").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.ok("POST", "/routes", &t, Some(json!({"path": "/f", "function": "f", "auth": "public"})), 201).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // A burst of 8 at once: two pass (the burst is one second's worth; a
    // third may squeeze in on a slow machine), the rest get 429.
    let burst = futures::future::join_all((0..8).map(|_| s.call("GET", "/functions", Some(&t), None))).await;
    let passed = burst.iter().filter(|r| r.status == 200).count();
    let refused: Vec<_> = burst.iter().filter(|r| r.status == 429).collect();
    assert!((2..=3).contains(&passed), "{:?}", burst.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(passed + refused.len(), 8, "only 200 or 429");
    let r = refused[0];
    assert_eq!(r.code(), "too_many_requests", "{}", r.text);
    assert_eq!(r.message(), "tenant rate limit reached");
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().expect("whole seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(r.body["error"]["details"]["retry_after_seconds"], retry);
    assert!(refused.iter().all(|r| r.code() == "too_many_requests" && r.header("retry-after").is_some()));

    // Another tenant has its own budget.
    assert_eq!(s.call("GET", "/functions", Some(&other), None).await.status, 200);
    // Public routes of the tenant count too.
    let r = s.send(s.request("GET", "/fn/acme/f")).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"), "{}", r.text);
    assert!(r.header("retry-after").is_some());

    // After Retry-After, calls pass again.
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(100)).await;
    assert_eq!(s.call("GET", "/functions", Some(&t), None).await.status, 200);
    let r = s.send(s.request("GET", "/fn/acme/f")).await;
    assert_eq!((r.status, r.text.as_str()), (200, "hi"));

    // Refusals are counted.
    let m = s.send(s.request("GET", "/metrics")).await;
    let line = m.text.lines().find(|l| l.starts_with("quasm_throttled_total{") && l.contains("reason=\"tenant\""));
    let n: f64 = line.and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let want = refused.len() as f64 + 1.0;
    assert!(n >= want, "{want} refusals counted: {line:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_quotas_refuse_after_a_bounded_wait() {
    let s = Server::new(&["--function-concurrency", "1", "--tenant-concurrency", "2", "--quota-wait-ms", "100"]).await;
    let t = s.token("acme", &["admin"]);
    for name in ["a", "b", "c"] {
        s.create_function(&t, name, SLOW).await;
    }
    s.ok("POST", "/routes", &t, Some(json!({"path": "/a", "function": "a", "auth": "public"})), 201).await;
    // Warm up: each function loaded and a sandbox ready, so the slow calls
    // below are running (holding their slots) soon after they are sent.
    for name in ["a", "b", "c"] {
        let r = s.ok("POST", &format!("/functions/{name}/invoke"), &t, Some(json!({"input": {"wait": 0}})), 200).await;
        assert_eq!(r["status"], "ok");
    }
    let invoke = |name: &str| {
        let rb = s
            .request("POST", &format!("/api/v1/functions/{name}/invoke"))
            .bearer_auth(&t)
            .header("content-type", "application/json")
            .body("{}");
        tokio::spawn(rb.send())
    };

    let first = invoke("a");
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The same function again: over its quota of 1.
    let started = Instant::now();
    let r = s.call("POST", "/functions/a/invoke", Some(&t), Some(&json!({}))).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"), "{}", r.text);
    assert!(r.message().contains("function concurrency quota"), "{}", r.message());
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(started.elapsed() >= Duration::from_millis(100), "it waited --quota-wait-ms first");
    assert!(started.elapsed() < Duration::from_millis(2000), "but not until the slot freed");
    // Over a public route too.
    let r = s.send(s.request("GET", "/fn/acme/a")).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"), "{}", r.text);
    assert!(r.message().contains("function concurrency quota"), "{}", r.message());

    // Another function of the tenant runs (tenant quota 2) ...
    let second = invoke("b");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // ... and a third one is over the tenant's quota.
    let r = s.call("POST", "/functions/c/invoke", Some(&t), Some(&json!({}))).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"), "{}", r.text);
    assert!(r.message().contains("tenant concurrency quota"), "{}", r.message());
    // Another tenant is not affected.
    let other = s.token("other", &["admin"]);
    s.create_function(&other, "quick", "export default { run() { return 1; } };").await;
    let q = s.ok("POST", "/functions/quick/invoke", &other, Some(json!({})), 200).await;
    assert_eq!(q["status"], "ok");

    // An async call over the quota is accepted, then recorded as refused.
    let a = s.ok("POST", "/functions/a/invoke", &t, Some(json!({"async": true})), 202).await;
    let e = s.wait_execution(&t, a["execution_id"].as_str().unwrap()).await;
    assert_eq!(e["status"], "error", "{e}");
    assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("concurrency quota")), "{e}");

    // The running calls were never disturbed.
    for h in [first, second] {
        let r = common::reply(h.await.unwrap().unwrap()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["output"], json!({"done": true}));
    }
    // Slots are given back.
    let r = s.ok("POST", "/functions/a/invoke", &t, Some(json!({"input": {"wait": 0}})), 200).await;
    assert_eq!(r["status"], "ok");
    let m = s.send(s.request("GET", "/metrics")).await;
    assert!(
        m.text.lines().any(|l| l.starts_with("quasm_throttled_total{") && l.contains("reason=\"concurrency\"")),
        "{}",
        m.text
    );
}

/// Three nodes on one database share a tenant's rate limit and concurrency
/// quota: each node enforces ⌈limit / 3⌉, so requests spread over all
/// three see the configured limit, not three times it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_the_limits() {
    let env = Env::new().await;
    let flags = ["--rate-limit-tenant-rps", "9", "--tenant-concurrency", "3", "--quota-wait-ms", "100"];
    let lease = [("QUASM_NODE_LEASE_SECS", "3")];
    let nodes = [
        Server::start(&env, &flags, &lease).await,
        Server::start(&env, &flags, &lease).await,
        Server::start(&env, &flags, &lease).await,
    ];
    let t = nodes[0].token("acme", &["admin"]);
    nodes[0].create_function(&t, "slow", SLOW).await;
    // Each node learns of the others at its next heartbeat (a third of the lease).
    let db = env.db().await;
    eventually(Duration::from_secs(20), "three live nodes", || async {
        let n: i64 = db.query_one("SELECT count(*) FROM nodes WHERE expires_at > now()", &[]).await.unwrap().get(0);
        (n == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    // 27 requests at once, 9 per node: 3 pass per node (9 in all, as
    // configured; one more per node may squeeze in on a slow machine).
    let calls = (0..27).map(|i| nodes[i % 3].call("GET", "/functions", Some(&t), None));
    let statuses: Vec<u16> = futures::future::join_all(calls).await.iter().map(|r| r.status).collect();
    let passed = statuses.iter().filter(|s| **s == 200).count();
    assert!((9..=12).contains(&passed), "{passed} of 27 passed; the cluster-wide limit is 9/s: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");

    // Concurrency: 3 for the tenant across the cluster, so one slow run per node.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let started = Instant::now();
    let body = json!({"input": {"wait": 1500}});
    let runs = (0..6).map(|i| nodes[i % 3].call("POST", "/functions/slow/invoke", Some(&t), Some(&body)));
    let statuses: Vec<u16> = futures::future::join_all(runs).await.iter().map(|r| r.status).collect();
    let ran = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ran, 3, "one run per node at a time: {statuses:?} after {:?}", started.elapsed());
}
