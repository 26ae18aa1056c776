//! The process around the API: crash safety between a bundle upload and
//! its version's commit (real S3), restarts on the same state, health and
//! metrics, HTTPS with the development certificate, graceful shutdown with
//! a request in flight, and the TOML configuration file.

mod common;

use std::time::Duration;

use common::{eventually, Env, Server};
use serde_json::json;

fn code(v: u32) -> String {
    format!("export default {{ async run() {{ return {{ v: {v} }}; }} }};\n")
}

/// A crash after the bundle is stored but before its version is committed
/// leaves no half-version; after a restart the next version gets the next
/// number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_bundle_and_commit_leaves_no_half_version() {
    let env = Env::with_s3().await;
    let s = Server::start(&env, &[], &[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "f", &code(1)).await;
    s.ok("POST", "/functions/f/versions", &t, Some(json!({"code": code(2)})), 201).await;
    s.ok("POST", "/functions/f/rollback", &t, Some(json!({"version": 1})), 200).await;
    let before = s.ok("GET", "/functions/f/versions", &t, None, 200).await;
    assert!(s.stop().await.success());

    // The same state, with the failpoint armed: the upload happens, then
    // the process aborts before the version row is committed.
    let mut crashing = Server::start(&env, &[], &[("QUASM_FAILPOINT", "after_bundle_put")]).await;
    // Reads still work on the restarted node.
    assert_eq!(crashing.ok("GET", "/functions/f/versions", &t, None, 200).await, before);
    let sent = crashing
        .request("POST", "/api/v1/functions/f/versions")
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(json!({"code": code(3), "message": "never committed"}).to_string())
        .send()
        .await;
    assert!(sent.is_err(), "the request must fail with the process: {sent:?}");
    let status = crashing.wait_exit(Duration::from_secs(20)).await.expect("the process died");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
    crashing.wait_stderr("failpoint after_bundle_put: aborting").await;
    drop(crashing);

    // Restart without the failpoint: no trace of version 3.
    let s = Server::start(&env, &[], &[]).await;
    let after = s.ok("GET", "/functions/f/versions", &t, None, 200).await;
    assert_eq!(after, before, "the versions are exactly as before the crash");
    let f = s.ok("GET", "/functions/f", &t, None, 200).await;
    assert_eq!(f["live_version"], 1, "the live version is unchanged");
    assert_eq!(s.ok("POST", "/functions/f/invoke", &t, Some(json!({})), 200).await["output"], json!({"v": 1}));
    let r = s.call("GET", "/functions/f/versions/3", Some(&t), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    // The version is created again, as 3, and runs (its bundle is in S3).
    let v = s.ok("POST", "/functions/f/versions", &t, Some(json!({"code": code(3)})), 201).await;
    assert_eq!((v["number"].clone(), v["live"].clone()), (json!(3), json!(true)));
    assert_eq!(s.ok("POST", "/functions/f/invoke", &t, Some(json!({})), 200).await["output"], json!({"v": 3}));
    assert_eq!(s.ok("GET", "/functions/f/versions/3", &t, None, 200).await["code"], code(3));
    // No orphan row anywhere.
    let db = env.db().await;
    let n: i64 = db.query_one("SELECT count(*) FROM versions", &[]).await.unwrap().get(0);
    assert_eq!(n, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    let r = s.send(s.request("GET", "/healthz")).await;
    assert_eq!((r.status, r.text.as_str()), (200, "ok\n"));
    let r = s.send(s.request("GET", "/readyz")).await;
    assert_eq!((r.status, r.text.as_str()), (200, "ready\n"));

    let metrics = || async { s.send(s.request("GET", "/metrics")).await };
    let m = metrics().await;
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").is_some_and(|c| c.starts_with("application/openmetrics-text")), "{:?}", m.headers);
    assert!(m.text.contains("quasm_pool_idle_instances"), "{}", m.text);
    assert!(!m.text.contains("trigger=\"invoke\""), "nothing invoked yet: {}", m.text);

    s.create_function(
        &t,
        "f",
        "export default { async run() { return 1; }, async fetch() { return new Response('x'); } };",
    )
    .await;
    s.ok("POST", "/functions/f/invoke", &t, Some(json!({})), 200).await;
    s.ok("POST", "/functions/f/invoke", &t, Some(json!({})), 200).await;
    s.ok("POST", "/routes", &t, Some(json!({"path": "/f", "function": "f", "auth": "public"})), 201).await;
    assert_eq!(s.send(s.request("GET", "/fn/acme/f")).await.status, 200);

    let m = metrics().await;
    let value = |prefix: &str, labels: &[&str]| -> Option<f64> {
        m.text
            .lines()
            .find(|l| l.starts_with(prefix) && labels.iter().all(|x| l.contains(x)))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    assert_eq!(value("quasm_invocations_total{", &["trigger=\"invoke\"", "status=\"ok\""]), Some(2.0), "{}", m.text);
    assert_eq!(value("quasm_invocations_total{", &["trigger=\"http\"", "status=\"ok\""]), Some(1.0), "{}", m.text);
    assert!(
        value("quasm_invocation_duration_seconds_count{", &["trigger=\"invoke\""]).is_some_and(|n| n >= 2.0),
        "{}",
        m.text
    );
    assert!(value("quasm_pool_idle_instances", &[]).is_some(), "{}", m.text);
    assert!(m.text.trim_end().ends_with("# EOF"), "OpenMetrics ends with # EOF");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_tls_serves_https_with_a_certificate_under_the_data_dir() {
    let env = Env::new().await;
    let s = Server::start(&env, &["--dev-tls"], &[]).await;
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let cert_path = env.data_dir().join("tls/dev-cert.pem");
    s.wait_stderr(&format!("development TLS certificate: {}", cert_path.display())).await;
    let pem = std::fs::read(&cert_path).expect("the dev certificate is written under data-dir/tls");
    assert!(String::from_utf8_lossy(&pem).contains("BEGIN CERTIFICATE"));
    assert!(env.data_dir().join("tls/dev-key.pem").exists());

    // Without verification.
    let r = s.send(s.request("GET", "/healthz")).await;
    assert_eq!(r.status, 200);
    // With verification against the written certificate, for localhost.
    let trusting =
        reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).build().unwrap();
    let url = format!("https://localhost:{}/healthz", s.addr.port());
    let resp = trusting.get(&url).send().await.unwrap_or_else(|e| panic!("verified HTTPS to {url}: {e:?}"));
    assert_eq!(resp.status(), 200);
    // The API works over it.
    let t = s.token("acme", &["viewer"]);
    assert_eq!(s.ok("GET", "/functions", &t, None, 200).await["functions"], json!([]));
    // A default client (web PKI roots) refuses the self-signed certificate.
    let strict = reqwest::Client::new();
    assert!(strict.get(s.url("/healthz")).send().await.is_err(), "a self-signed certificate is not trusted by default");
    // Plain HTTP on the TLS port fails.
    let plain = s.http.get(format!("http://{}/healthz", s.addr)).send().await;
    assert!(plain.as_ref().map(|r| r.status() != 200).unwrap_or(true), "{plain:?}");

    // A restart keeps the same certificate (clients trust it once).
    s.stop().await;
    let s = Server::start(&env, &["--dev-tls"], &[]).await;
    assert_eq!(std::fs::read(&cert_path).unwrap(), pem, "the certificate is reused");
    let resp = trusting.get(format!("https://localhost:{}/healthz", s.addr.port())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_requests_in_flight_and_exits_0() {
    let env = Env::new().await;
    let mut s = Server::start(&env, &[], &[]).await;
    let t = s.token("acme", &["admin"]);
    let slow = r#"export default {
  async run(input) { await new Promise(r => setTimeout(r, input?.wait ?? 2500)); return { done: true }; },
  async fetch() { await new Promise(r => setTimeout(r, 2500)); return new Response("done over http"); },
};"#;
    s.create_function(&t, "slow", slow).await;
    s.ok("POST", "/routes", &t, Some(json!({"path": "/slow", "function": "slow", "auth": "public"})), 201).await;
    // Warm up (loaded, sandbox ready), so the calls below start at once.
    s.ok("POST", "/functions/slow/invoke", &t, Some(json!({"input": {"wait": 0}})), 200).await;

    let invoke = s
        .request("POST", "/api/v1/functions/slow/invoke")
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{}")
        .send();
    let http = s.request("GET", "/fn/acme/slow").send();
    let (invoke, http) = (tokio::spawn(invoke), tokio::spawn(http));
    // Both are running when the signal arrives.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!invoke.is_finished() && !http.is_finished());
    let signalled = std::time::Instant::now();
    s.signal(libc::SIGTERM);

    let r = common::reply(invoke.await.unwrap().expect("the in-flight invocation completes")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["output"], json!({"done": true}));
    let resp = http.await.unwrap().expect("the in-flight route call completes");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "done over http");

    let status = s.wait_exit(Duration::from_secs(20)).await.unwrap_or_else(|| panic!("no exit: {}", s.stderr()));
    assert_eq!(status.code(), Some(0), "{status:?}: {}", s.stderr());
    assert!(signalled.elapsed() < Duration::from_secs(10), "shutdown waited for nothing");
    s.wait_stderr("shutting down").await;
    // New connections are refused once it is gone.
    assert!(s.http.get(s.url("/healthz")).send().await.is_err());
    // The execution records were flushed before exit, including the
    // route call's (written off the request path).
    let db = env.db().await;
    let rows = db
        .query(
            "SELECT trigger, status FROM executions WHERE function_name = 'slow' AND input IS NULL ORDER BY trigger",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, [("http".to_owned(), "ok".to_owned()), ("invoke".to_owned(), "ok".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_is_honoured_and_flags_win() {
    let env = Env::new().await;
    let dir = common::tempdir();
    let file = dir.path().join("quasm.toml");
    std::fs::write(&file, "max_body_bytes = 2048\nrate_limit_tenant_rps = 1000\nshutdown_grace_secs = 5\n").unwrap();
    let s = Server::start(&env, &["--config", file.to_str().unwrap()], &[]).await;
    let t = s.token("acme", &["admin"]);
    let body =
        json!({"name": "f", "code": format!("export default {{ run() {{ return 1; }} }};\n//{}", "x".repeat(2100))});
    let r = s.call("POST", "/functions", Some(&t), Some(&body)).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"), "{}", r.text);
    assert_eq!(r.body["error"]["details"]["max_bytes"], 2048);
    let small = json!({"name": "f", "code": "export default { run() { return 1; } };"});
    assert_eq!(s.call("POST", "/functions", Some(&t), Some(&small)).await.status, 201);
    s.stop().await;

    // A flag wins over the file.
    let s = Server::start(&env, &["--config", file.to_str().unwrap(), "--max-body-bytes", "100000"], &[]).await;
    let body1 = json!({"name": "big1", "code": body["code"]});
    let r = s.call("POST", "/functions", Some(&t), Some(&body1)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.stop().await;
    // So does the environment.
    let s = Server::start(&env, &["--config", file.to_str().unwrap()], &[("QUASM_MAX_BODY_BYTES", "100000")]).await;
    let body2 = json!({"name": "big2", "code": body["code"]});
    assert_eq!(s.call("POST", "/functions", Some(&t), Some(&body2)).await.status, 201);
    drop(s);

    // An unknown key is refused by name, before anything starts.
    std::fs::write(&file, "max_body_byte = 2048\n").unwrap();
    let out = std::process::Command::new(common::BIN)
        .args(["serve", "--config", file.to_str().unwrap(), "--listen", "127.0.0.1:0", "--database-url", &env.db_url])
        .arg("--data-dir")
        .arg(env.data_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `max_body_byte`"), "{err}");

    // Every restart worked on the same database.
    let s = Server::start(&env, &[], &[]).await;
    let l = s.ok("GET", "/functions", &t, None, 200).await;
    let names: Vec<&str> = l["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["big1", "big2", "f"]);
}

/// Two nodes on one database and one bucket: a change made through one is
/// seen by the other at once (LISTEN/NOTIFY drops its cached view).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_state_and_drop_stale_caches() {
    let env = Env::with_s3().await;
    let (n1, n2) = tokio::join!(Server::start(&env, &[], &[]), Server::start(&env, &[], &[]));
    let t = n1.token("acme", &["admin"]);
    let fetch = |v: u32| {
        format!("export default {{ async run() {{ return {{ v: {v} }}; }}, async fetch() {{ return new Response('v{v}'); }} }};")
    };
    n1.create_function(&t, "f", &fetch(1)).await;
    n1.ok("POST", "/routes", &t, Some(json!({"path": "/f", "function": "f", "auth": "public"})), 201).await;
    let key = n1.ok("POST", "/api-keys", &t, Some(json!({"name": "k", "roles": ["viewer"]})), 201).await;
    let (key_id, key) = (key["id"].as_str().unwrap().to_owned(), key["key"].as_str().unwrap().to_owned());

    // Node 2 serves it all (and caches it).
    assert_eq!(n2.ok("POST", "/functions/f/invoke", &t, Some(json!({})), 200).await["output"], json!({"v": 1}));
    assert_eq!(n2.send(n2.request("GET", "/fn/acme/f")).await.text, "v1");
    assert_eq!(n2.send(n2.request("GET", "/api/v1/functions").header("x-api-key", &key)).await.status, 200);

    let soon = Duration::from_secs(5);
    // A new version through node 1 runs on node 2.
    n1.ok("POST", "/functions/f/versions", &t, Some(json!({"code": fetch(2)})), 201).await;
    common::eventually(soon, "node 2 runs v2", || async {
        let out = n2.ok("POST", "/functions/f/invoke", &t, Some(json!({})), 200).await;
        (out["output"] == json!({"v": 2})).then_some(())
    })
    .await;
    assert_eq!(n2.send(n2.request("GET", "/fn/acme/f")).await.text, "v2");
    // Disabled through node 1: refused on node 2.
    n1.ok("PATCH", "/functions/f", &t, Some(json!({"enabled": false})), 200).await;
    common::eventually(soon, "node 2 refuses the disabled function", || async {
        let r = n2.call("POST", "/functions/f/invoke", Some(&t), Some(&json!({}))).await;
        (r.status == 403 && r.code() == "function_disabled").then_some(())
    })
    .await;
    n1.ok("PATCH", "/functions/f", &t, Some(json!({"enabled": true})), 200).await;
    // A route deleted through node 1 is gone from node 2.
    let routes = n1.ok("GET", "/routes", &t, None, 200).await;
    n1.ok("DELETE", &format!("/routes/{}", routes["routes"][0]["id"]), &t, None, 204).await;
    common::eventually(soon, "node 2 forgets the route", || async {
        (n2.send(n2.request("GET", "/fn/acme/f")).await.status == 404).then_some(())
    })
    .await;
    // A key revoked through node 1 stops working on node 2.
    n1.ok("DELETE", &format!("/api-keys/{key_id}"), &t, None, 204).await;
    common::eventually(soon, "node 2 refuses the revoked key", || async {
        (n2.send(n2.request("GET", "/api/v1/functions").header("x-api-key", &key)).await.status == 401).then_some(())
    })
    .await;
}

/// The drain is bounded by --shutdown-grace-secs: a request that would run
/// longer does not keep the process alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_grace_bounds_the_drain() {
    let mut s = Server::new(&["--shutdown-grace-secs", "1"]).await;
    let t = s.token("acme", &["admin"]);
    let code = "export default { async run(input) { await new Promise(r => setTimeout(r, input?.wait ?? 20000)); } };";
    s.create_function(&t, "forever", code).await;
    s.ok("POST", "/functions/forever/invoke", &t, Some(json!({"input": {"wait": 0}})), 200).await;
    let call = s
        .request("POST", "/api/v1/functions/forever/invoke")
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{}")
        .send();
    let call = tokio::spawn(call);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let signalled = std::time::Instant::now();
    s.signal(libc::SIGTERM);
    let status = s.wait_exit(Duration::from_secs(15)).await.unwrap_or_else(|| panic!("no exit: {}", s.stderr()));
    let took = signalled.elapsed();
    assert!(took >= Duration::from_millis(900), "it waited for the grace period: {took:?}");
    assert!(took < Duration::from_secs(6), "but not for the request: {took:?}");
    assert_eq!(status.code(), Some(0), "{}", s.stderr());
    assert!(call.await.unwrap().is_err(), "the cut-off request fails");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_startup_failures() {
    let s = Server::new(&[]).await;
    // HTTP/2 without TLS (prior knowledge).
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let resp = h2.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!((resp.version(), resp.status().as_u16()), (reqwest::Version::HTTP_2, 200));
    let t = s.token("acme", &["admin"]);
    let resp = h2.get(s.url("/api/v1/functions")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    drop(s);

    // A database that does not answer: a clear error and exit code 2, at once.
    let dir = common::tempdir();
    let started = std::time::Instant::now();
    let out = std::process::Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", "host=127.0.0.1 port=1 user=postgres dbname=x"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("connecting to Postgres"), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    // A port in use: the same.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let env = Env::new().await;
    let out = std::process::Command::new(common::BIN)
        .args(["serve", "--listen", &busy.local_addr().unwrap().to_string(), "--database-url", &env.db_url])
        .arg("--data-dir")
        .arg(env.data_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("starting the listener"), "{out:?}");
}

/// A second node on the same database but another local blob directory
/// could not run versions created through the first: it refuses to start,
/// saying why and what to do. Nodes that share the directory (or a bucket)
/// start as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_on_other_local_blobs_is_refused() {
    let env = Env::new().await;
    let first = Server::start(&env, &[], &[]).await;
    let same_dir = Server::start(&env, &[], &[]).await;
    let other_dir = common::tempdir();
    let out = std::process::Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &env.db_url])
        .arg("--data-dir")
        .arg(other_dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must share one blob store"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", first.pid())) || stderr.contains(&format!("pid {}", same_dir.pid())),
        "{stderr}"
    );
    // The running nodes are unaffected.
    let t = first.token("acme", &["admin"]);
    first.create_function(&t, "f", "export default { run() { return 1 } }").await;
    let r = same_dir.ok("POST", "/functions/f/invoke", &t, Some(serde_json::json!({})), 200).await;
    assert_eq!(r["output"], 1, "{r}");
}

/// Retention: executions older than the tenant's retention (else the
/// operator's default) are purged in the background; newer ones stay. The
/// purge runs at start-up, then every hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_old_executions_per_tenant() {
    let env = Env::new().await;
    let s = Server::start(&env, &["--retention-days", "30"], &[]).await;
    let (a, b) = (s.token("acme", &["admin"]), s.token("beta", &["admin"]));
    for t in [&a, &b] {
        s.create_function(t, "f", "export default { run(i) { return i } }").await;
        for _ in 0..3 {
            s.ok("POST", "/functions/f/invoke", t, Some(json!({"input": 1})), 200).await;
        }
    }
    // beta keeps 1 day; acme the default 30.
    s.ok("PATCH", "/tenant", &b, Some(json!({"retention_days": 1})), 200).await;
    assert!(s.stop().await.success());
    // Age the history: per tenant, one execution 40 days old, one 2 days old, one fresh.
    let db = env.db().await;
    for tenant in ["acme", "beta"] {
        db.execute(
            "WITH e AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM executions WHERE tenant_id = $1)
             UPDATE executions x SET created_at = now() - CASE e.n WHEN 1 THEN interval '40 days'
                                                              WHEN 2 THEN interval '2 days' ELSE interval '0' END
             FROM e WHERE x.id = e.id",
            &[&tenant],
        )
        .await
        .unwrap();
    }
    let count = |tenant: &'static str| {
        let db = &db;
        async move {
            let n: i64 =
                db.query_one("SELECT count(*) FROM executions WHERE tenant_id = $1", &[&tenant]).await.unwrap().get(0);
            n
        }
    };
    assert_eq!((count("acme").await, count("beta").await), (3, 3));
    let _s = Server::start(&env, &["--retention-days", "30"], &[]).await;
    eventually(Duration::from_secs(20), "the start-up purge", || async {
        (count("acme").await == 2 && count("beta").await == 1).then_some(())
    })
    .await;
    // What is left is what the rules keep: acme's 2-day-old and fresh ones, beta's fresh one.
    let oldest: f64 = db
        .query_one(
            "SELECT extract(epoch FROM now() - min(created_at))::float8 FROM executions WHERE tenant_id = 'beta'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(oldest < 3600.0, "beta keeps only its fresh execution: oldest is {oldest} s old");
}

/// Events follow the tenant's retention once every delivery of them ended;
/// an event with a dead letter stays (until replayed or deleted), unless
/// the operator sets a dead-letter retention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_finished_events_and_keeps_dead_letters() {
    let env = Env::new().await;
    let s = Server::start(&env, &["--retention-days", "30"], &[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "ok", "export default { event(e) { return 1 } }").await;
    s.create_function(&t, "bad", "export default { event(e) { throw new Error('no') } }").await;
    s.ok("POST", "/subscriptions", &t, Some(json!({"function": "ok", "event_type": "done"})), 201).await;
    s.ok("POST", "/subscriptions", &t, Some(json!({"function": "bad", "event_type": "dead", "max_attempts": 1})), 201)
        .await;
    for ty in ["done", "dead", "unheard"] {
        s.ok("POST", "/events", &t, Some(json!({"type": ty})), 202).await;
    }
    let db = env.db().await;
    eventually(Duration::from_secs(20), "both deliveries ended", || async {
        let n: i64 =
            db.query_one("SELECT count(*) FROM deliveries WHERE status IN ('done', 'dead')", &[]).await.unwrap().get(0);
        (n == 2).then_some(())
    })
    .await;
    assert!(s.stop().await.success());
    db.execute("UPDATE events SET created_at = now() - interval '40 days'", &[]).await.unwrap();
    db.execute("UPDATE deliveries SET updated_at = now() - interval '40 days'", &[]).await.unwrap();
    let types = || async {
        let rows = db.query("SELECT type FROM events ORDER BY type", &[]).await.unwrap();
        rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>()
    };
    let s = Server::start(&env, &["--retention-days", "30"], &[]).await;
    eventually(Duration::from_secs(20), "the start-up purge", || async { (types().await == ["dead"]).then_some(()) })
        .await;
    let dead = s.ok("GET", "/dead-letters", &t, None, 200).await;
    assert_eq!(dead["dead_letters"].as_array().unwrap().len(), 1, "{dead}");
    drop(s);
    // With a dead-letter retention of 7 days, the 40-day-old dead letter goes too.
    let _s = Server::start(&env, &["--retention-days", "30", "--dead-letter-retention-days", "7"], &[]).await;
    eventually(Duration::from_secs(20), "the dead letter purged", || async { types().await.is_empty().then_some(()) })
        .await;
}
