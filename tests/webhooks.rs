//! Platform lifecycle events and tenant webhooks, end to end: lifecycle
//! events (`quasm.*`) reach a subscribed function and a webhook on a local
//! receiver that checks the HMAC signature; retries with backoff and the
//! delivery history; redelivery; secret rotation; `quasm.execution.failed`
//! and `quasm.dead_letter.created`; the loop rule; the reserved prefix;
//! validation naming fields; tenant isolation.

mod common;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, Env, Server};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

/// Loopback receivers are allowed; retries come fast and end soon.
const SETTINGS: &[(&str, &str)] = &[
    ("QUASM_FETCH_ALLOW_NETS", "127.0.0.1/32"),
    ("QUASM_WEBHOOK_MAX_ATTEMPTS", "3"),
    ("QUASM_WEBHOOK_BACKOFF_INITIAL_MS", "300"),
    ("QUASM_WEBHOOK_BACKOFF_MAX_MS", "1000"),
];

const WAIT: Duration = Duration::from_secs(20);

/// Records what it is given; fails on demand.
const ECHO: &str = r#"export default {
  async event(event, env, ctx) {
    return { id: event.id, type: event.type, payload: event.payload, key: event.key ?? null };
  },
};"#;

/// Throws from every handler.
const BOOM: &str = r#"export default {
  async run(input) { throw new Error("boom " + (input && input.n)); },
  async event(event) { throw new Error("event boom " + event.type); },
};"#;

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

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
    }
}

/// An HTTP server on 127.0.0.1 recording every request by path. A path
/// answers the statuses queued for it with [`Receiver::answer`] in turn,
/// then 200; `/down` always answers 500; the first request to `/hang`
/// waits a minute before it answers.
struct Receiver {
    port: u16,
    hits: Arc<Mutex<HashMap<String, Vec<Hit>>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits: Arc<Mutex<HashMap<String, Vec<Hit>>>> = Arc::default();
        let script: Arc<Mutex<HashMap<String, VecDeque<u16>>>> = Arc::default();
        let (store, plan) = (hits.clone(), script.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (store, plan) = (store.clone(), plan.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (store, plan) = (store.clone(), plan.clone());
                        async move {
                            let path = req.uri().path().to_owned();
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                                .collect();
                            let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
                            let nth = {
                                let mut store = store.lock().unwrap();
                                let hits = store.entry(path.clone()).or_default();
                                hits.push(Hit { headers, body });
                                hits.len()
                            };
                            if path == "/hang" && nth == 1 {
                                tokio::time::sleep(Duration::from_secs(60)).await;
                            }
                            let status = if path == "/down" {
                                500
                            } else {
                                plan.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front).unwrap_or(200)
                            };
                            Ok::<_, Infallible>(
                                Response::builder().status(status).body(Full::new(Bytes::from("answer"))).unwrap(),
                            )
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Receiver { port, hits, script }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn answer(&self, path: &str, statuses: &[u16]) {
        self.script.lock().unwrap().entry(path.to_owned()).or_default().extend(statuses);
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().get(path).cloned().unwrap_or_default()
    }

    /// The requests to `path` carrying event type `t`.
    fn of_type(&self, path: &str, t: &str) -> Vec<Hit> {
        self.hits(path).into_iter().filter(|h| h.json()["type"] == t).collect()
    }

    /// Waits until `path` has received `n` requests of type `t`.
    async fn wait_type(&self, path: &str, t: &str, n: usize) -> Vec<Hit> {
        eventually(WAIT, &format!("{n} {t} requests to {path}"), || async {
            let h = self.of_type(path, t);
            (h.len() >= n).then_some(h)
        })
        .await
    }
}

/// Checks `Quasm-Signature: t=..,v1=..` against `secret` as a receiver
/// would (HMAC-SHA256 of "t.body"); false when it does not verify.
fn signature_ok(hit: &Hit, secret: &str) -> bool {
    use hmac::{Hmac, Mac};
    let header = hit.header("quasm-signature");
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
    v1 == want
}

// ------------------------------------------------------------------ helpers

async fn webhook(s: &Server, token: &str, url: String, types: &[&str]) -> (i64, String) {
    let w = s.ok("POST", "/webhooks", token, Some(json!({"url": url, "event_types": types})), 201).await;
    let secret = w["signing_secret"].as_str().unwrap_or_else(|| panic!("a signing secret: {w}")).to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (w["id"].as_i64().unwrap(), secret)
}

/// Event executions of `function`, oldest first, with input and output.
async fn event_runs(s: &Server, token: &str, function: &str, n: usize) -> Vec<Value> {
    let list = eventually(WAIT, &format!("{n} event executions of {function}"), || async {
        let page =
            s.ok("GET", &format!("/executions?trigger=event&function={function}&limit=1000"), token, None, 200).await;
        let l = page["executions"].as_array().unwrap().clone();
        let done = l.iter().filter(|e| !matches!(e["status"].as_str(), Some("queued" | "running"))).count();
        (done >= n).then_some(l)
    })
    .await;
    let mut full = Vec::new();
    for e in list.iter().rev() {
        full.push(s.ok("GET", &format!("/executions/{}", e["id"].as_str().unwrap()), token, None, 200).await);
    }
    full
}

async fn deliveries(s: &Server, token: &str, hook: i64, query: &str) -> Value {
    s.ok("GET", &format!("/webhooks/{hook}/deliveries{query}"), token, None, 200).await
}

/// The one hit whose payload satisfies `f`.
fn pick(hits: &[Hit], f: impl Fn(&Value) -> bool) -> &Hit {
    let found: Vec<&Hit> = hits.iter().filter(|h| f(&h.json()["payload"])).collect();
    assert_eq!(found.len(), 1, "{:?}", hits.iter().map(Hit::json).collect::<Vec<_>>());
    found[0]
}

fn field(r: &common::Reply) -> &str {
    r.body["error"]["details"]["field"].as_str().unwrap_or("<no details.field>")
}

// -------------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_reach_a_subscribed_function_and_a_signed_webhook() {
    let recv = Receiver::start().await;
    let s = Server::start(&Env::new().await, &[], SETTINGS).await;
    let op = s.token("acme", &["operator"]);
    let me = s.ok("GET", "/whoami", &op, None, 200).await["subject"].as_str().unwrap().to_owned();

    // A function subscribed to quasm.function.created sees the next creation.
    s.create_function(&op, "audit", ECHO).await;
    s.ok(
        "POST",
        "/subscriptions",
        &op,
        Some(json!({"function": "audit", "event_type": "quasm.function.created"})),
        201,
    )
    .await;
    let (hook, secret) = webhook(&s, &op, recv.url("/hooks"), &["quasm.version.*"]).await;
    s.create_function(&op, "hello", ECHO).await;
    let runs = event_runs(&s, &op, "audit", 1).await;
    let out = &runs[0]["output"];
    assert_eq!(out["type"], "quasm.function.created", "{out}");
    assert_eq!(out["payload"], json!({"function": "hello", "version": 1, "actor": me}));
    assert_eq!(out["key"], "hello");

    // The webhook hears of version 1, then of version 2 deployed: signed.
    recv.wait_type("/hooks", "quasm.version.deployed", 1).await;
    s.ok("POST", "/functions/hello/versions", &op, Some(json!({"code": ECHO})), 201).await;
    let deployed = recv.wait_type("/hooks", "quasm.version.deployed", 2).await;
    let hit = pick(&deployed, |p| p["version"] == 2);
    assert!(signature_ok(hit, &secret), "the signature verifies with the secret shown at creation");
    let body = hit.json();
    assert_eq!((&body["tenant"], &body["type"]), (&json!("acme"), &json!("quasm.version.deployed")));
    assert_eq!(
        body["payload"],
        json!({"function": "hello", "version": 2, "previous_version": null, "rollback": false, "actor": me})
    );
    assert_eq!(hit.header("quasm-event-id"), body["id"].as_str().unwrap());
    assert_eq!(hit.header("quasm-event-type"), "quasm.version.deployed");
    assert_eq!(hit.header("quasm-webhook-id"), hook.to_string());
    assert_eq!(hit.header("quasm-attempt"), "1");
    assert_eq!(hit.header("content-type"), "application/json");
    let created = recv.wait_type("/hooks", "quasm.version.created", 2).await;
    assert_eq!(pick(&created, |p| p["version"] == 2).json()["payload"]["deployed"], true);
    // Only the types it asked for.
    assert!(recv.of_type("/hooks", "quasm.function.created").is_empty());

    // A rollback says so; the delivery id is the history's.
    s.ok("POST", "/functions/hello/rollback", &op, Some(json!({"version": 1})), 200).await;
    let deployed = recv.wait_type("/hooks", "quasm.version.deployed", 3).await;
    let rollback = pick(&deployed, |p| p["rollback"] == true);
    assert_eq!(
        rollback.json()["payload"],
        json!({"function": "hello", "version": 1, "previous_version": 2, "rollback": true, "actor": me})
    );
    let newest = eventually(WAIT, "the rollback's delivery to succeed", || async {
        let d = deliveries(&s, &op, hook, "").await["deliveries"][0].clone();
        (d["status"] == "succeeded").then_some(d)
    })
    .await;
    assert_eq!(newest["id"].to_string(), rollback.header("quasm-delivery-id"), "{newest}");
    assert_eq!(newest["attempts"], 1);

    // Reads never show the secret; rotation returns a new one, used at once.
    let listed = s.ok("GET", "/webhooks", &op, None, 200).await;
    assert!(!listed.to_string().contains(&secret) && listed["webhooks"][0].get("signing_secret").is_none());
    let got = s.ok("GET", &format!("/webhooks/{hook}"), &op, None, 200).await;
    assert_eq!(got["event_types"], json!(["quasm.version.*"]));
    assert!(got.get("signing_secret").is_none(), "{got}");
    let rotated = s.ok("POST", &format!("/webhooks/{hook}/rotate-secret"), &op, None, 200).await;
    let new_secret = rotated["signing_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    s.ok("POST", "/functions/hello/deploy", &op, Some(json!({"version": 2})), 200).await;
    let deployed = recv.wait_type("/hooks", "quasm.version.deployed", 4).await;
    let redeployed = pick(&deployed, |p| p["previous_version"] == 1);
    assert!(signature_ok(redeployed, &new_secret) && !signature_ok(redeployed, &secret));

    // Updates and deletion are events too; a disabled webhook hears nothing.
    s.ok("PATCH", &format!("/webhooks/{hook}"), &op, Some(json!({"event_types": ["quasm.function.*"]})), 200).await;
    s.ok("PATCH", "/functions/hello", &op, Some(json!({"description": "new"})), 200).await;
    let updated = recv.wait_type("/hooks", "quasm.function.updated", 1).await;
    assert_eq!(updated[0].json()["payload"], json!({"function": "hello", "fields": ["description"], "actor": me}));
    s.ok("DELETE", "/functions/hello", &op, None, 204).await;
    let deleted = recv.wait_type("/hooks", "quasm.function.deleted", 1).await;
    assert_eq!(deleted[0].json()["payload"], json!({"function": "hello", "actor": me}));
    s.ok("PATCH", &format!("/webhooks/{hook}"), &op, Some(json!({"enabled": false})), 200).await;
    s.create_function(&op, "quiet", ECHO).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(recv.of_type("/hooks", "quasm.function.created").is_empty(), "disabled");
    // The audit log has the webhook changes.
    let audit = s.ok("GET", "/audit", &s.token("acme", &["admin"]), None, 200).await.to_string();
    for a in ["webhook.create", "webhook.rotate_secret", "webhook.update"] {
        assert!(audit.contains(a), "{a} in {audit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_retried_with_backoff_and_kept_in_the_history() {
    let recv = Receiver::start().await;
    let s = Server::start(&Env::new().await, &[], SETTINGS).await;
    let op = s.token("acme", &["operator"]);
    let (flaky, secret) = webhook(&s, &op, recv.url("/flaky"), &["quasm.function.created"]).await;
    let (down, _) = webhook(&s, &op, recv.url("/down"), &["quasm.function.created"]).await;

    // 500, then 200: two attempts, the same event and delivery ids.
    recv.answer("/flaky", &[500]);
    let started = std::time::Instant::now();
    s.create_function(&op, "one", ECHO).await;
    let hits = recv.wait_type("/flaky", "quasm.function.created", 2).await;
    assert!(started.elapsed() >= Duration::from_millis(150), "the retry waited for its backoff");
    assert_eq!(hits[0].body, hits[1].body, "the same event");
    assert_eq!(hits[0].header("quasm-delivery-id"), hits[1].header("quasm-delivery-id"));
    assert_eq!((hits[0].header("quasm-attempt"), hits[1].header("quasm-attempt")), ("1", "2"));
    assert!(signature_ok(&hits[1], &secret));
    let d = eventually(WAIT, "the delivery to succeed", || async {
        let page = deliveries(&s, &op, flaky, "").await;
        let d = page["deliveries"][0].clone();
        (d["status"] == "succeeded").then_some(d)
    })
    .await;
    assert_eq!((&d["attempts"], &d["last_response_status"], &d["last_error"]), (&json!(2), &json!(200), &Value::Null));
    assert_eq!(d["event"]["type"], "quasm.function.created");
    let history = d["attempt_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{d}");
    assert_eq!((&history[0]["attempt"], &history[0]["response_status"]), (&json!(1), &json!(500)));
    assert!(history[0]["error"].as_str().unwrap().contains("500"), "{d}");
    assert_eq!((&history[1]["response_status"], &history[1]["error"]), (&json!(200), &Value::Null));

    // Always 500: 3 attempts (the test setting), then failed.
    let d = eventually(WAIT, "the delivery to fail", || async {
        let page = deliveries(&s, &op, down, "?status=failed").await;
        page["deliveries"].as_array().unwrap().first().cloned()
    })
    .await;
    assert_eq!((&d["attempts"], &d["last_response_status"]), (&json!(3), &json!(500)), "{d}");
    assert_eq!(d["attempt_history"].as_array().unwrap().len(), 3);
    assert_eq!(recv.hits("/down").len(), 3);

    // Redelivery: a new delivery of the same event, with its own id.
    let again = s.ok("POST", &format!("/webhooks/{down}/deliveries/{}/redeliver", d["id"]), &op, None, 202).await;
    assert_eq!((&again["redelivery_of"], &again["status"]), (&d["id"], &json!("pending")), "{again}");
    assert_eq!(again["event"], d["event"]);
    let hits = eventually(WAIT, "the redelivery", || async {
        let h = recv.hits("/down");
        (h.len() >= 4).then_some(h)
    })
    .await;
    assert_eq!(hits[3].header("quasm-delivery-id"), again["id"].to_string());
    assert_eq!(hits[3].header("quasm-event-id"), d["event"]["id"].as_str().unwrap());
    let got = s.ok("GET", &format!("/webhooks/{down}/deliveries/{}", again["id"]), &op, None, 200).await;
    assert_eq!(got["id"], again["id"]);
    // Nothing is redelivered to a disabled webhook.
    s.ok("PATCH", &format!("/webhooks/{down}"), &op, Some(json!({"enabled": false})), 200).await;
    let r = s.call("POST", &format!("/webhooks/{down}/deliveries/{}/redeliver", d["id"]), Some(&op), None).await;
    assert_eq!((r.status, r.code()), (409, "invalid_state"), "{}", r.text);

    // Pages, newest first.
    s.create_function(&op, "two", ECHO).await;
    recv.wait_type("/flaky", "quasm.function.created", 3).await;
    let first = deliveries(&s, &op, flaky, "?limit=1").await;
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_i64().expect("a next page");
    let second = deliveries(&s, &op, flaky, &format!("?limit=1&cursor={cursor}")).await;
    assert!(second["deliveries"][0]["id"].as_i64().unwrap() < first["deliveries"][0]["id"].as_i64().unwrap());
    assert_eq!(second["next_cursor"], Value::Null);

    // Deleting the webhook deletes its history.
    s.ok("DELETE", &format!("/webhooks/{down}"), &op, None, 204).await;
    let r = s.call("GET", &format!("/webhooks/{down}/deliveries"), Some(&op), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_dead_letters_are_published_and_their_handlers_cannot_loop() {
    let recv = Receiver::start().await;
    let s = Server::start(&Env::new().await, &[], SETTINGS).await;
    let op = s.token("acme", &["operator"]);
    let types = ["quasm.execution.failed", "quasm.dead_letter.created"];
    let (_, secret) = webhook(&s, &op, recv.url("/failures"), &types).await;
    s.create_function(&op, "boom", BOOM).await;
    // A handler of failures that fails itself, and one of dead letters that
    // fails until its deliveries die: the loop rule stops both chains.
    s.create_function(&op, "watcher", BOOM).await;
    for t in types {
        s.ok(
            "POST",
            "/subscriptions",
            &op,
            Some(json!({"function": "watcher", "event_type": t, "max_attempts": 1})),
            201,
        )
        .await;
    }

    // A failed invocation.
    let r = s.ok("POST", "/functions/boom/invoke", &op, Some(json!({"input": {"n": 7}})), 200).await;
    assert_eq!(r["status"], "error");
    let failed = recv.wait_type("/failures", "quasm.execution.failed", 1).await;
    assert!(signature_ok(&failed[0], &secret));
    let p = failed[0].json()["payload"].clone();
    assert_eq!(p["execution_id"], r["execution_id"], "{p}");
    assert_eq!(
        (&p["function"], &p["version"], &p["trigger"], &p["status"]),
        (&json!("boom"), &json!(1), &json!("invoke"), &json!("error"))
    );
    assert_eq!(p["error"]["name"], "Error");
    assert!(p["error"]["message"].as_str().unwrap().contains("boom 7"), "{p}");

    // An event whose only delivery fails: a failed execution (of trigger
    // event) and a dead letter.
    s.ok(
        "POST",
        "/subscriptions",
        &op,
        Some(json!({"function": "boom", "event_type": "order.created", "max_attempts": 1})),
        201,
    )
    .await;
    let ev = s.ok("POST", "/events", &op, Some(json!({"type": "order.created", "payload": {"n": 1}})), 202).await;
    let dead = recv.wait_type("/failures", "quasm.dead_letter.created", 1).await;
    let p = dead[0].json()["payload"].clone();
    assert_eq!((&p["function"], &p["attempts"]), (&json!("boom"), &json!(1)), "{p}");
    assert_eq!(p["event"], json!({"id": ev["id"], "type": "order.created"}));
    assert!(p["last_error"]["message"].as_str().unwrap().contains("event boom order.created"), "{p}");
    let letters = s.ok("GET", "/dead-letters?function=boom", &op, None, 200).await;
    assert_eq!(p["dead_letter_id"], letters["dead_letters"][0]["id"]);
    let failed = recv.wait_type("/failures", "quasm.execution.failed", 2).await;
    let on_event: Vec<Value> =
        failed.iter().map(|h| h.json()["payload"].clone()).filter(|p| p["trigger"] == "event").collect();
    assert_eq!(on_event.len(), 1, "{on_event:?}");
    assert_eq!(on_event[0]["event"], json!({"id": ev["id"], "type": "order.created", "attempt": 1}));

    // The watcher got both failures and the dead letter, failed each time,
    // and its deliveries are dead letters: none of that is published again.
    let runs = event_runs(&s, &op, "watcher", 3).await;
    assert!(runs.iter().all(|e| e["status"] == "error"), "{runs:?}");
    let watcher_dead = eventually(WAIT, "the watcher's dead letters", || async {
        let l = s.ok("GET", "/dead-letters?function=watcher", &op, None, 200).await["dead_letters"].clone();
        (l.as_array().unwrap().len() >= 3).then_some(l)
    })
    .await;
    assert_eq!(watcher_dead.as_array().unwrap().len(), 3);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let published: Vec<Value> = recv.hits("/failures").iter().map(|h| h.json()["payload"].clone()).collect();
    assert!(published.iter().all(|p| p["function"] == "boom"), "nothing about the watcher: {published:?}");
    assert_eq!(published.len(), 3, "{published:?}");
    let db = s.env.db().await;
    let n: i64 = db
        .query_one("SELECT count(*) FROM events WHERE type IN ('quasm.execution.failed', 'quasm.dead_letter.created') AND payload->>'function' = 'watcher'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "no lifecycle event about the watcher's failures, even unsubscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_types_bad_input_and_tenant_isolation() {
    let recv = Receiver::start().await;
    let s = Server::start(&Env::new().await, &[], SETTINGS).await;
    let a = s.token("acme", &["operator"]);
    let b = s.token("globex", &["operator"]);

    // Tenants cannot publish quasm.* events, through the API or a function.
    let r = s.call("POST", "/events", Some(&a), Some(&json!({"type": "quasm.function.created"}))).await;
    assert_eq!((r.status, r.code(), field(&r)), (400, "invalid_request", "type"), "{}", r.text);
    assert!(r.message().contains("reserved"), "{}", r.text);
    let r = s.call("POST", "/events", Some(&a), Some(&json!({"type": "QUASM.x"}))).await;
    assert_eq!((r.status, field(&r)), (400, "type"), "{}", r.text);
    let batch = json!({"events": [{"type": "ok.one"}, {"type": "quasm.version.deployed"}]});
    let r = s.call("POST", "/events/batch", Some(&a), Some(&batch)).await;
    assert_eq!((r.status, field(&r)), (400, "events[1].type"), "{}", r.text);
    let forger = r#"export default { async run(input, env) {
        try { await env.EVENTS.publish("quasm.function.deleted", { function: "x" }); return "published"; }
        catch (e) { return String(e.message ?? e); } } };"#;
    s.create_function(&a, "forger", forger).await;
    let out = s.ok("POST", "/functions/forger/invoke", &a, Some(json!({})), 200).await;
    assert!(out["output"].as_str().unwrap().contains("reserved"), "{out}");

    // Bad input names the field; nothing is created.
    let bad = [
        (json!({"url": "ftp://example.com/x", "event_types": ["a"]}), "url"),
        (json!({"url": "not a url", "event_types": ["a"]}), "url"),
        (json!({"url": recv.url("/a"), "event_types": []}), "event_types"),
        (json!({"url": recv.url("/a"), "event_types": ["a", "b c"]}), "event_types[1]"),
        (json!({"url": recv.url("/a"), "event_types": ["a", "a"]}), "event_types[1]"),
        (json!({"url": recv.url("/a"), "event_types": ["a%"]}), "event_types[0]"),
        (json!({"url": recv.url("/a"), "event_types": ["a"], "description": "x".repeat(5000)}), "description"),
        (json!({"url": recv.url("/a"), "event_types": ["a"], "secret": "mine"}), "secret"),
        (json!({"url": recv.url("/a"), "event_types": "a"}), "event_types"),
        (json!({"url": "http://a/\u{0}", "event_types": ["a"]}), "url"),
        (json!({"url": recv.url("/a"), "event_types": ["a"], "description": "nul\u{0}"}), "description"),
    ];
    for (body, want) in bad {
        let r = s.call("POST", "/webhooks", Some(&a), Some(&body)).await;
        assert_eq!((r.status, r.code(), field(&r)), (400, "invalid_request", want), "{body}: {}", r.text);
    }
    let r = s.call("POST", "/webhooks", Some(&a), Some(&json!({"event_types": ["a"]}))).await;
    assert!(r.status == 400 && r.message().contains("missing field `url`"), "{}", r.text);
    assert_eq!(s.ok("GET", "/webhooks", &a, None, 200).await["webhooks"], json!([]));
    let (hook_a, _) = webhook(&s, &a, recv.url("/acme"), &["quasm.*"]).await;
    let r = s.call("PATCH", &format!("/webhooks/{hook_a}"), Some(&a), Some(&json!({"url": "gopher://x"}))).await;
    assert_eq!((r.status, field(&r)), (400, "url"), "{}", r.text);
    let r = s.call("PATCH", &format!("/webhooks/{hook_a}"), Some(&a), Some(&json!({"colour": "red"}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s.call("GET", "/webhooks/abc", Some(&a), None).await;
    assert_eq!((r.status, field(&r)), (400, "id"), "{}", r.text);
    let r = s.call("GET", &format!("/webhooks/{hook_a}/deliveries/x"), Some(&a), None).await;
    assert_eq!((r.status, field(&r)), (400, "delivery_id"), "{}", r.text);
    for (q, want) in [("?limit=0", "limit"), ("?status=lost", "status"), ("?colour=red", "query")] {
        let r = s.call("GET", &format!("/webhooks/{hook_a}/deliveries{q}"), Some(&a), None).await;
        assert_eq!((r.status, field(&r)), (400, want), "{q}: {}", r.text);
    }
    // A viewer reads, an operator changes.
    let viewer = s.token("acme", &["viewer"]);
    s.ok("GET", &format!("/webhooks/{hook_a}/deliveries"), &viewer, None, 200).await;
    let r = s.call("POST", &format!("/webhooks/{hook_a}/rotate-secret"), Some(&viewer), None).await;
    assert_eq!(r.status, 403, "{}", r.text);

    // Tenant isolation: globex's webhook never sees acme's events, and
    // acme's webhook is not globex's to read or change.
    let (hook_b, _) = webhook(&s, &b, recv.url("/globex"), &["quasm.*", "*"]).await;
    s.create_function(&a, "only-acme", ECHO).await;
    s.ok("POST", "/events", &a, Some(json!({"type": "acme.thing"})), 202).await;
    recv.wait_type("/acme", "quasm.function.created", 1).await;
    s.create_function(&b, "only-globex", ECHO).await;
    let theirs = recv.wait_type("/globex", "quasm.function.created", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(recv.hits("/globex").iter().all(|h| h.json()["tenant"] == "globex"));
    assert_eq!(theirs[0].json()["payload"]["function"], "only-globex");
    assert!(recv.hits("/acme").iter().all(|h| h.json()["tenant"] == "acme"));
    assert!(recv.of_type("/acme", "acme.thing").is_empty(), "acme's webhook asked for quasm.* only");
    for (method, path) in [
        ("GET", format!("/webhooks/{hook_a}")),
        ("PATCH", format!("/webhooks/{hook_a}")),
        ("POST", format!("/webhooks/{hook_a}/rotate-secret")),
        ("GET", format!("/webhooks/{hook_a}/deliveries")),
        ("DELETE", format!("/webhooks/{hook_a}")),
    ] {
        let body = (method == "PATCH").then(|| json!({"enabled": false}));
        let r = s.call(method, &path, Some(&b), body.as_ref()).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {path}: {}", r.text);
    }
    let acme_delivery = deliveries(&s, &a, hook_a, "").await["deliveries"][0]["id"].clone();
    let r = s.call("POST", &format!("/webhooks/{hook_b}/deliveries/{acme_delivery}/redeliver"), Some(&b), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(s.ok("GET", "/webhooks", &b, None, 200).await["webhooks"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_survives_the_crash_of_the_node_sending_it() {
    let recv = Receiver::start().await;
    let env = Env::new().await;
    let settings: Vec<(&str, &str)> = SETTINGS.iter().copied().chain([("QUASM_NODE_LEASE_SECS", "2")]).collect();
    let victim = Server::start(&env, &[], &settings).await;
    let op = victim.token("acme", &["operator"]);
    let (hook, secret) = webhook(&victim, &op, recv.url("/hang"), &["quasm.function.created"]).await;
    victim.create_function(&op, "f", ECHO).await;

    // The receiver holds the first request; the victim dies while sending it.
    let first = recv.wait_type("/hang", "quasm.function.created", 1).await;
    let db = env.db().await;
    let victim_node: uuid::Uuid =
        db.query_one("SELECT id FROM nodes WHERE pid = $1", &[&victim.pid()]).await.unwrap().get(0);
    let running: i64 = db
        .query_one(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'running' AND locked_by = $1",
            &[&victim_node],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(running, 1, "the victim holds the delivery");
    victim.signal(libc::SIGKILL);

    // Another node takes it over once the victim's lease expires and sends
    // it again: the same delivery and event ids (receivers deduplicate).
    let survivor = Server::start(&env, &[], &settings).await;
    let hits = recv.wait_type("/hang", "quasm.function.created", 2).await;
    assert!(signature_ok(&hits[1], &secret));
    for h in ["quasm-delivery-id", "quasm-event-id"] {
        assert_eq!(first[0].header(h), hits[1].header(h), "{h}");
    }
    assert_eq!(hits[1].header("quasm-attempt"), "1", "a crash does not spend an attempt");
    let d = eventually(WAIT, "the delivery to succeed", || async {
        let d = deliveries(&survivor, &op, hook, "").await["deliveries"][0].clone();
        (d["status"] == "succeeded").then_some(d)
    })
    .await;
    assert_eq!(d["attempts"], 1, "{d}");
    assert_eq!(d["attempt_history"].as_array().unwrap().len(), 1, "the lost attempt left no record: {d}");
}
