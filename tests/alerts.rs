//! Alerts on failures, end to end: a function that fails on demand, rules
//! per function and per tenant, a local webhook receiver (checking the
//! HMAC signature) and a local SMTP sink (`scripts/smtp-test-sink.sh`).
//! Covers on-failure, N consecutive failures, recovery, the rate limit and
//! its "K more" count, the test endpoint, notification history, failed and
//! refused deliveries, and bad input.

mod common;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, Env, Server};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

/// Fails (throws) when the input says so.
const FLAKY: &str = r#"export default {
  async run(input) {
    if (input && input.fail) throw new Error("boom " + input.fail);
    return { ok: true };
  },
};"#;

const ALLOW_LOCAL: &[(&str, &str)] = &[("QUASM_FETCH_ALLOW_NETS", "127.0.0.1/32")];

// ------------------------------------------------------------ the receiver

#[derive(Debug, Clone)]
struct Hit {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// An HTTP server on 127.0.0.1 recording every request by path; `/down`
/// answers 500, everything else 200.
struct Receiver {
    port: u16,
    hits: Arc<Mutex<HashMap<String, Vec<Hit>>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits: Arc<Mutex<HashMap<String, Vec<Hit>>>> = Arc::default();
        let store = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let store = store.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let store = store.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                                .collect();
                            let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
                            store.lock().unwrap().entry(path.clone()).or_default().push(Hit { headers, body });
                            let status = if path == "/down" { 500 } else { 200 };
                            Ok::<_, Infallible>(
                                Response::builder().status(status).body(Full::new(Bytes::from("ok"))).unwrap(),
                            )
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Receiver { port, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().get(path).cloned().unwrap_or_default()
    }

    /// Waits until `path` has received `n` requests; returns them all.
    async fn wait(&self, path: &str, n: usize) -> Vec<Hit> {
        eventually(Duration::from_secs(15), &format!("{n} requests to {path}"), || async {
            let h = self.hits(path);
            (h.len() >= n).then_some(h)
        })
        .await
    }
}

/// Checks `Quasm-Signature: t=..,v1=..` against `secret` as a receiver would.
fn verify_signature(hit: &Hit, secret: &str) {
    use hmac::{Hmac, Mac};
    let header = hit.headers.get("quasm-signature").expect("a Quasm-Signature header");
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_owned()),
            Some(("v1", v)) => v1 = Some(v.to_owned()),
            _ => panic!("unexpected signature part {part:?} in {header:?}"),
        }
    }
    let (t, v1) = (t.expect("t="), v1.expect("v1="));
    let age = common::now_secs() as i64 - t.parse::<i64>().unwrap();
    assert!((-5..300).contains(&age), "timestamp {t} is {age} s old");
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&hit.body);
    let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v1, want, "signature of {:?}", String::from_utf8_lossy(&hit.body));
}

// ------------------------------------------------------------- the SMTP sink

/// `scripts/smtp-test-sink.sh DIR 0`: writes each message to DIR.
struct SmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let dir = common::tempdir();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/smtp-test-sink.sh");
        let mut child = Command::new("bash")
            .arg(script)
            .arg(dir.path())
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("running scripts/smtp-test-sink.sh");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the SMTP sink printed {line:?}, not its port"));
        SmtpSink { port, dir, child }
    }

    fn messages(&self) -> Vec<String> {
        messages_in(self.dir.path())
    }

    async fn wait(&self, n: usize) -> Vec<String> {
        eventually(Duration::from_secs(15), &format!("{n} emails"), || async {
            let m = self.messages();
            (m.len() >= n).then_some(m)
        })
        .await
    }
}

fn messages_in(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------ helpers

async fn invoke(s: &Server, token: &str, function: &str, fail: Option<&str>) -> String {
    let input = match fail {
        Some(why) => json!({"fail": why}),
        None => json!({}),
    };
    let r = s.ok("POST", &format!("/functions/{function}/invoke"), token, Some(json!({"input": input})), 200).await;
    let want = if fail.is_some() { "error" } else { "ok" };
    assert_eq!(r["status"], want, "{r}");
    r["execution_id"].as_str().unwrap().to_owned()
}

async fn history(s: &Server, token: &str, rule: &Value) -> Vec<Value> {
    let r = s.ok("GET", &format!("/alerts/{}/notifications", rule["id"]), token, None, 200).await;
    r["notifications"].as_array().unwrap().clone()
}

/// The history once it holds `n` notifications: a receiver gets a
/// notification before the node records how its delivery went.
async fn history_of(s: &Server, token: &str, rule: &Value, n: usize) -> Vec<Value> {
    eventually(Duration::from_secs(10), "the notification history", || async {
        let h = history(s, token, rule).await;
        (h.len() >= n).then_some(h)
    })
    .await
}

// -------------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streak_recovery_and_tenant_wide_rules_through_webhooks() {
    let recv = Receiver::start().await;
    let s = Server::start(&Env::new().await, &[], ALLOW_LOCAL).await;
    let op = s.token("acme", &["operator"]);
    s.create_function(&op, "flaky", FLAKY).await;
    s.create_function(&op, "other", FLAKY).await;

    let secret = "whsec-test-0123456789";
    let streak = s
        .ok(
            "POST",
            "/alerts",
            &op,
            Some(json!({"name": "streak", "function": "flaky", "consecutive_failures": 3, "on_recovery": true,
                        "min_interval_secs": 0,
                        "channel": {"type": "webhook", "url": recv.url("/hook"), "secret": secret}})),
            201,
        )
        .await;
    assert_eq!(streak["signing_secret"], secret, "the secret is shown in the answer that set it: {streak}");
    assert_eq!(streak["channel"], json!({"type": "webhook", "url": recv.url("/hook")}));
    assert_eq!((streak["function"].as_str(), streak["enabled"].as_bool()), (Some("flaky"), Some(true)));
    let all = s
        .ok(
            "POST",
            "/alerts",
            &op,
            Some(json!({"name": "all", "on_failure": true, "min_interval_secs": 0,
                        "channel": {"type": "slack", "url": recv.url("/slack")}})),
            201,
        )
        .await;
    assert_eq!(all["function"], Value::Null, "tenant-wide");
    assert!(all.get("signing_secret").is_none(), "{all}");
    // Reads never show the secret.
    let listed = s.ok("GET", "/alerts", &op, None, 200).await;
    assert_eq!(listed["alerts"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(secret), "{listed}");
    let got = s.ok("GET", &format!("/alerts/{}", streak["id"]), &op, None, 200).await;
    assert!(!got.to_string().contains(secret) && got.get("signing_secret").is_none(), "{got}");

    // Two failures: the tenant-wide rule reports each, the streak rule waits.
    invoke(&s, &op, "flaky", Some("one")).await;
    let first = invoke(&s, &op, "flaky", Some("two")).await;
    let slack = recv.wait("/slack", 2).await;
    let text = slack[1].json()["text"].as_str().unwrap().to_owned();
    for part in ["acme/flaky v1", "failed (error)", "boom two", "trigger: invoke", first.as_str(), "rule: all"] {
        assert!(text.contains(part), "slack text lacks {part:?}: {text}");
    }
    assert_eq!(slack[1].headers.get("content-type").map(String::as_str), Some("application/json"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(recv.hits("/hook").is_empty(), "no streak alert before 3 failures");

    // The third: one signed webhook.
    let third = invoke(&s, &op, "flaky", Some("three")).await;
    let hook = recv.wait("/hook", 1).await;
    verify_signature(&hook[0], secret);
    let body = hook[0].json();
    assert_eq!(
        (&body["type"], &body["tenant"], &body["function"], &body["version"], &body["trigger"], &body["status"]),
        (&json!("consecutive"), &json!("acme"), &json!("flaky"), &json!(1), &json!("invoke"), &json!("error"))
    );
    assert_eq!((&body["consecutive_failures"], &body["execution_id"]), (&json!(3), &json!(third)));
    assert!(body["error"].as_str().unwrap().contains("boom three"), "{body}");
    assert_eq!(body["rule"], "streak");

    // A fourth failure is the same streak: no second streak alert. A
    // failure of another function is not this rule's business.
    invoke(&s, &op, "flaky", Some("four")).await;
    invoke(&s, &op, "other", Some("elsewhere")).await;
    let slack = recv.wait("/slack", 5).await;
    assert!(slack[4].json()["text"].as_str().unwrap().contains("acme/other v1"), "the tenant-wide rule sees other");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recv.hits("/hook").len(), 1, "one alert per streak");

    // Recovery, signed too; the tenant-wide rule does not ask for it.
    let ok = invoke(&s, &op, "flaky", None).await;
    let hook = recv.wait("/hook", 2).await;
    verify_signature(&hook[1], secret);
    let body = hook[1].json();
    assert_eq!(
        (&body["type"], &body["consecutive_failures"], &body["execution_id"]),
        (&json!("recovery"), &json!(4), &json!(ok))
    );
    // Successes after the recovery send nothing more.
    invoke(&s, &op, "flaky", None).await;
    invoke(&s, &op, "other", None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((recv.hits("/hook").len(), recv.hits("/slack").len()), (2, 5));

    // The history, newest first.
    let h = history_of(&s, &op, &streak, 2).await;
    let kinds: Vec<&str> = h.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["recovery", "consecutive"]);
    assert!(h.iter().all(|n| n["delivered"] == true && n["error"].is_null() && n["function"] == "flaky"), "{h:?}");
    assert_eq!(h[1]["execution_id"], json!(third));
    assert!(h[0]["message"].as_str().unwrap().contains("recovered after 4 consecutive failures"), "{:?}", h[0]);
    assert_eq!(history_of(&s, &op, &all, 5).await.len(), 5);

    // A disabled rule stays quiet; the change reaches the invoke path at once.
    s.ok("PATCH", &format!("/alerts/{}", all["id"]), &op, Some(json!({"enabled": false})), 200).await;
    invoke(&s, &op, "other", Some("quiet")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recv.hits("/slack").len(), 5, "disabled");

    // Deleting the function deletes its rules; the tenant-wide one stays.
    s.ok("DELETE", "/functions/flaky", &op, None, 204).await;
    let r = s.call("GET", &format!("/alerts/{}", streak["id"]), Some(&op), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    s.ok("GET", &format!("/alerts/{}", all["id"]), &op, None, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_holds_back_failures_and_counts_them() {
    let recv = Receiver::start().await;
    let s = Server::start(&Env::new().await, &[], ALLOW_LOCAL).await;
    let op = s.token("acme", &["operator"]);
    s.create_function(&op, "cron-job", FLAKY).await;
    let limited = s
        .ok(
            "POST",
            "/alerts",
            &op,
            Some(json!({"name": "limited", "function": "cron-job", "on_failure": true, "on_recovery": true,
                        "min_interval_secs": 2, "channel": {"type": "slack", "url": recv.url("/limited")}})),
            201,
        )
        .await;
    // Same outcomes, no limit: when it has seen them all, so has `limited`.
    s.ok(
        "POST",
        "/alerts",
        &op,
        Some(json!({"name": "every", "on_failure": true, "min_interval_secs": 0,
                    "channel": {"type": "slack", "url": recv.url("/every")}})),
        201,
    )
    .await;

    for i in 0..5 {
        invoke(&s, &op, "cron-job", Some(&format!("n{i}"))).await;
    }
    recv.wait("/every", 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = recv.hits("/limited");
    assert_eq!(got.len(), 1, "one notification per interval");
    assert!(got[0].json()["text"].as_str().unwrap().contains("boom n0"));

    // After the interval, the next failure is sent and counts the 4 held back.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    invoke(&s, &op, "cron-job", Some("later")).await;
    let got = recv.wait("/limited", 2).await;
    let text = got[1].json()["text"].as_str().unwrap().to_owned();
    assert!(text.contains("boom later") && text.contains("and 4 more failures"), "{text}");
    // A recovery is never held back, even right after a failure message.
    invoke(&s, &op, "cron-job", None).await;
    let got = recv.wait("/limited", 3).await;
    assert!(got[2].json()["text"].as_str().unwrap().contains("recovered after 6 consecutive failures"), "{:?}", got[2]);
    let kinds: Vec<String> =
        history_of(&s, &op, &limited, 3).await.iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["recovery", "failure", "failure"]);

    // A receiver that keeps failing: retried, then recorded as undelivered.
    let down = s
        .ok(
            "POST",
            "/alerts",
            &op,
            Some(json!({"name": "down", "on_failure": true, "channel": {"type": "webhook", "url": recv.url("/down")}})),
            201,
        )
        .await;
    let generated = down["signing_secret"].as_str().unwrap().to_owned();
    assert!(generated.starts_with("whsec_") && generated.len() >= 32, "a generated secret: {generated}");
    let t = s.ok("POST", &format!("/alerts/{}/test", down["id"]), &op, None, 200).await;
    assert_eq!((t["kind"].as_str(), t["delivered"].as_bool()), (Some("test"), Some(false)), "{t}");
    assert!(t["error"].as_str().unwrap().contains("500"), "{t}");
    let attempts = recv.hits("/down");
    assert_eq!(attempts.len(), 3, "one try and two retries");
    verify_signature(&attempts[0], &generated);
    assert_eq!(attempts[0].json()["type"], "test");
    let h = history(&s, &op, &down).await;
    assert_eq!((h.len(), &h[0]["delivered"]), (1, &json!(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_through_the_smtp_server() {
    let sink = tokio::task::spawn_blocking(SmtpSink::start).await.unwrap();
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    let s =
        Server::start(&Env::new().await, &["--smtp-url", &url, "--smtp-from", "Quasm Alerts <alerts@quasm.test>"], &[])
            .await;
    let op = s.token("acme", &["operator"]);
    s.create_function(&op, "billing", FLAKY).await;
    let rule = s
        .ok(
            "POST",
            "/alerts",
            &op,
            Some(json!({"name": "mail", "function": "billing", "on_failure": true, "on_recovery": true,
                        "channel": {"type": "email", "to": ["ops@example.com", "dev@example.com"]}})),
            201,
        )
        .await;
    assert_eq!(rule["channel"], json!({"type": "email", "to": ["ops@example.com", "dev@example.com"]}));
    assert_eq!(rule["min_interval_secs"], 300, "the default rate limit");

    let t = s.ok("POST", &format!("/alerts/{}/test", rule["id"]), &op, None, 200).await;
    assert_eq!(t["delivered"], true, "{t}");
    let mail = sink.wait(1).await;
    assert!(mail[0].contains(r#""rcpt_tos": ["ops@example.com", "dev@example.com"]"#), "{}", mail[0]);
    assert!(mail[0].contains("alerts@quasm.test") && mail[0].contains("test notification"), "{}", mail[0]);

    let exec = invoke(&s, &op, "billing", Some("card declined")).await;
    let mail = sink.wait(2).await;
    assert!(mail[1].contains("Subject: [quasm] acme/billing v1 failed (error)"), "{}", mail[1]);
    assert!(mail[1].contains("boom card declined") && mail[1].contains(&exec), "{}", mail[1]);
    invoke(&s, &op, "billing", None).await;
    let mail = sink.wait(3).await;
    assert!(mail[2].contains("recovered after 1 consecutive failures"), "{}", mail[2]);
    let kinds: Vec<String> =
        history_of(&s, &op, &rule, 3).await.iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["recovery", "failure", "test"]);

    // Bad addresses name the entry.
    let r = s
        .call(
            "POST",
            "/alerts",
            Some(&op),
            Some(&json!({"name": "bad", "on_failure": true, "channel": {"type": "email", "to": ["ops@example.com", "nobody"]}})),
        )
        .await;
    assert_eq!((r.status, r.body["error"]["details"]["field"].as_str()), (400, Some("channel.to[1]")), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_refused_destinations() {
    // No SMTP server and the default address policy (loopback refused).
    let recv = Receiver::start().await;
    let s = Server::new(&[]).await;
    let op = s.token("acme", &["operator"]);
    s.create_function(&op, "f", FLAKY).await;
    let slack = |url: &str| json!({"type": "slack", "url": url});

    let field_errors: Vec<(Value, &str, &str)> = vec![
        (
            json!({"name": "m", "on_failure": true, "channel": {"type": "email", "to": ["a@example.com"]}}),
            "channel.type",
            "smtp_url",
        ),
        (
            json!({"name": "p", "on_failure": true, "channel": {"type": "pagerduty", "url": "https://x.example"}}),
            "channel.type",
            "unknown variant",
        ),
        (json!({"name": "u", "on_failure": true, "channel": slack("not a url")}), "channel.url", "not a url"),
        (
            json!({"name": "u", "on_failure": true, "channel": slack("ftp://files.example/x")}),
            "channel.url",
            "http or https",
        ),
        (
            json!({"name": "c", "consecutive_failures": 0, "channel": slack("https://h.example/x")}),
            "consecutive_failures",
            "between 1",
        ),
        (json!({"name": "n", "channel": slack("https://h.example/x")}), "on_failure", "notifies nothing"),
        (
            json!({"name": "i", "on_failure": true, "min_interval_secs": -1, "channel": slack("https://h.example/x")}),
            "min_interval_secs",
            "between 0",
        ),
        (
            json!({"name": "s", "on_failure": true, "channel": {"type": "webhook", "url": "https://h.example", "secret": "short"}}),
            "channel.secret",
            "16 to 256",
        ),
        (json!({"name": "Bad Name", "on_failure": true, "channel": slack("https://h.example/x")}), "name", ""),
        (
            json!({"name": "x", "on_failure": true, "colour": "red", "channel": slack("https://h.example/x")}),
            "colour",
            "unknown field",
        ),
        (json!({"name": "x", "on_failure": "yes", "channel": slack("https://h.example/x")}), "on_failure", ""),
    ];
    for (body, field, text) in &field_errors {
        let r = s.call("POST", "/alerts", Some(&op), Some(body)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{body}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], *field, "{body}: {}", r.text);
        assert!(r.message().contains(text), "{body}: {}", r.text);
    }
    let r = s.send(s.request("POST", "/api/v1/alerts").bearer_auth(&op).body("not json")).await;
    assert_eq!((r.status, r.body["error"]["details"]["field"].as_str()), (400, Some("body")), "{}", r.text);
    assert!(r.message().starts_with("malformed JSON"), "{}", r.text);
    let r = s
        .call(
            "POST",
            "/alerts",
            Some(&op),
            Some(&json!({"name": "x", "function": "ghost", "on_failure": true, "channel": slack("https://h.example")})),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    assert!(r.message().contains("ghost"), "{}", r.text);
    assert_eq!(s.ok("GET", "/alerts", &op, None, 200).await["alerts"], json!([]), "nothing was created");

    // Unknown and malformed ids.
    for (method, path) in [
        ("GET", "/alerts/987654"),
        ("PATCH", "/alerts/987654"),
        ("DELETE", "/alerts/987654"),
        ("POST", "/alerts/987654/test"),
        ("GET", "/alerts/987654/notifications"),
    ] {
        let body = (method == "PATCH").then(|| json!({"enabled": false}));
        let r = s.call(method, path, Some(&op), body.as_ref()).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {path}: {}", r.text);
    }
    let r = s.call("GET", "/alerts/abc", Some(&op), None).await;
    assert_eq!((r.status, r.body["error"]["details"]["field"].as_str()), (400, Some("id")), "{}", r.text);
    let r = s.call("PUT", "/alerts", Some(&op), None).await;
    assert_eq!(r.status, 405, "{}", r.text);

    // A valid rule whose destination the address policy refuses: accepted
    // (the policy is checked when sending), never reached, recorded.
    let rule = s
        .ok(
            "POST",
            "/alerts",
            &op,
            Some(json!({"name": "local", "function": "f", "on_failure": true, "channel": slack(&recv.url("/x"))})),
            201,
        )
        .await;
    let r = s
        .call(
            "POST",
            "/alerts",
            Some(&op),
            Some(&json!({"name": "local", "on_failure": true, "channel": slack("https://h.example")})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.text);
    let t = s.ok("POST", &format!("/alerts/{}/test", rule["id"]), &op, None, 200).await;
    assert_eq!(t["delivered"], false, "{t}");
    assert!(t["error"].as_str().unwrap().contains("loopback"), "{t}");
    invoke(&s, &op, "f", Some("x")).await;
    let h = eventually(Duration::from_secs(15), "the failure's notification", || async {
        let h = history(&s, &op, &rule).await;
        (h.len() == 2).then_some(h)
    })
    .await;
    assert_eq!((h[0]["kind"].as_str(), h[0]["delivered"].as_bool()), (Some("failure"), Some(false)), "{h:?}");
    assert!(recv.hits("/x").is_empty(), "the refused destination was never contacted");

    // PATCH: the same checks, by field; null removes the streak alert.
    let path = format!("/alerts/{}", rule["id"]);
    for (body, field) in [
        (json!({"consecutive_failures": 0}), "consecutive_failures"),
        (json!({"on_failure": false}), "on_failure"),
        (json!({"channel": {"type": "email", "to": ["a@example.com"]}}), "channel.type"),
        (json!({"function": "g"}), "function"),
    ] {
        let r = s.call("PATCH", &path, Some(&op), Some(&body)).await;
        assert_eq!((r.status, r.body["error"]["details"]["field"].as_str()), (400, Some(field)), "{body}: {}", r.text);
    }
    let r = s.ok("PATCH", &path, &op, Some(json!({"consecutive_failures": 2, "on_failure": false})), 200).await;
    assert_eq!((&r["consecutive_failures"], &r["on_failure"]), (&json!(2), &json!(false)));
    let r = s.call("PATCH", &path, Some(&op), Some(&json!({"consecutive_failures": null}))).await;
    assert_eq!((r.status, r.body["error"]["details"]["field"].as_str()), (400, Some("on_failure")), "{}", r.text);
    let r = s.ok("PATCH", &path, &op, Some(json!({"consecutive_failures": null, "on_recovery": true})), 200).await;
    assert_eq!((&r["consecutive_failures"], &r["on_recovery"]), (&Value::Null, &json!(true)));

    // Every change is in the audit log.
    s.ok("DELETE", &path, &op, None, 204).await;
    let admin = s.token("acme", &["admin"]);
    let audit = s.ok("GET", "/audit", &admin, None, 200).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "local")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["alert.delete", "alert.update", "alert.update", "alert.create"]);
}
