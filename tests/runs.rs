//! Manual runs: start in the background, follow logs and progress live as
//! server-sent events, cancel, from the node running it or another one.

mod common;

use std::time::{Duration, Instant};

use common::{Env, Server};
use serde_json::{json, Value};

const STEPS: &str = r#"export default {
  async run(input, env, ctx) {
    for (let i = 1; i <= 4; i++) {
      console.log(`step ${i}`);
      ctx.progress(i * 25, `step ${i} of 4`);
      await new Promise(r => setTimeout(r, input.pause));
    }
    return { done: input.n };
  }
};"#;

const FOREVER: &str = r#"export default {
  async run(input) {
    if (input.spin) { for (;;) {} }
    await new Promise(r => setTimeout(r, 60000));
  }
};"#;

/// One server-sent event.
#[derive(Debug)]
struct Event {
    name: String,
    data: Value,
}

/// Reads `GET /executions/{id}/stream` until the server closes it.
async fn stream(s: &Server, token: &str, id: &str) -> Vec<Event> {
    let mut resp =
        s.request("GET", &format!("/api/v1/executions/{id}/stream")).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Ok(Some(chunk)) = tokio::time::timeout_at(deadline.into(), resp.chunk()).await.map(Result::unwrap) {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(text.ends_with("\n\n"), "the stream ended cleanly: {text:?}");
    text.split("\n\n")
        .filter(|b| !b.is_empty() && !b.starts_with(':'))
        .map(|block| {
            let mut name = String::new();
            let mut data = Value::Null;
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).unwrap();
                }
            }
            Event { name, data }
        })
        .collect()
}

fn messages(events: &[Event]) -> Vec<String> {
    events.iter().filter(|e| e.name == "log").map(|e| e.data["message"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_streams_logs_and_progress_live_then_its_result() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["developer"]);
    s.create_function(&t, "job", STEPS).await;
    let started = s.ok("POST", "/functions/job/runs", &t, Some(json!({"input": {"n": 7, "pause": 200}})), 202).await;
    let id = started["execution_id"].as_str().unwrap().to_owned();
    assert_eq!(started["stream"], format!("/api/v1/executions/{id}/stream"));

    let events = stream(&s, &t, &id).await;
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"status"), "{events:?}");
    assert_eq!(names.last(), Some(&"end"), "{events:?}");
    assert_eq!(messages(&events), ["step 1", "step 2", "step 3", "step 4"]);
    let progress: Vec<f64> =
        events.iter().filter(|e| e.name == "progress").map(|e| e.data["percent"].as_f64().unwrap()).collect();
    assert_eq!(progress, [25.0, 50.0, 75.0, 100.0], "{events:?}");
    assert_eq!(events.iter().find(|e| e.name == "progress").unwrap().data["message"], "step 1 of 4");
    // Logs and progress arrive in the order they happened.
    let order: Vec<String> =
        events.iter().filter(|e| e.name == "log" || e.name == "progress").map(|e| e.name.clone()).collect();
    assert_eq!(order, ["log", "progress"].repeat(4));
    let end = &events.last().unwrap().data;
    assert_eq!(end["status"], "ok", "{end}");
    assert_eq!(end["output"], json!({"done": 7}));
    assert_eq!(end["trigger"], "manual");

    // Once it is over, the stream replays the recorded logs and ends.
    let again = stream(&s, &t, &id).await;
    assert_eq!(messages(&again), ["step 1", "step 2", "step 3", "step 4"]);
    assert_eq!(again.last().unwrap().name, "end");
    let exec = s.ok("GET", &format!("/executions/{id}"), &t, None, 200).await;
    assert_eq!(exec["trigger"], "manual");
    assert_eq!(exec["input"], json!({"n": 7, "pause": 200}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_can_be_cancelled_whatever_it_is_doing() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["developer"]);
    s.create_function(&t, "forever", FOREVER).await;
    for input in [json!({}), json!({"spin": true})] {
        let id = s.ok("POST", "/functions/forever/runs", &t, Some(json!({"input": input})), 202).await["execution_id"]
            .as_str()
            .unwrap()
            .to_owned();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        let r = s.ok("POST", &format!("/executions/{id}/cancel"), &t, None, 202).await;
        assert_eq!(r["status"], "cancelling");
        let done = s.wait_execution(&t, &id).await;
        assert_eq!(done["status"], "cancelled", "{input}: {done}");
        assert!(asked.elapsed() < Duration::from_secs(2), "{input}: cancelling took {:?}", asked.elapsed());
        // Nothing left to cancel.
        let r = s.call("POST", &format!("/executions/{id}/cancel"), Some(&t), None).await;
        assert_eq!((r.status, r.code()), (409, "invalid_state"), "{}", r.text);
    }
    // The sandbox is usable afterwards.
    s.create_function(&t, "steps", STEPS).await;
    let id = s.ok("POST", "/functions/steps/runs", &t, Some(json!({"input": {"n": 1, "pause": 1}})), 202).await
        ["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.wait_execution(&t, &id).await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_node_follows_and_cancels_a_run() {
    let env = Env::new().await;
    let a = Server::start(&env, &[], &[]).await;
    let b = Server::start(&env, &[], &[]).await;
    let t = a.token("acme", &["developer"]);
    a.create_function(&t, "job", STEPS).await;
    a.create_function(&t, "forever", FOREVER).await;

    let id = a.ok("POST", "/functions/job/runs", &t, Some(json!({"input": {"n": 2, "pause": 150}})), 202).await
        ["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = stream(&b, &t, &id).await;
    assert_eq!(messages(&events), ["step 1", "step 2", "step 3", "step 4"], "{events:?}");
    assert_eq!(events.last().unwrap().data["output"], json!({"done": 2}));

    let id = a.ok("POST", "/functions/forever/runs", &t, Some(json!({"input": {}})), 202).await["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.ok("POST", &format!("/executions/{id}/cancel"), &t, None, 202).await;
    assert_eq!(a.wait_execution(&t, &id).await["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_run_requests_are_refused_clearly() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["developer"]);
    s.create_function(&t, "job", STEPS).await;
    let r = s.call("POST", "/functions/missing/runs", Some(&t), Some(&json!({}))).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = s.call("POST", "/functions/job/runs", Some(&t), Some(&json!({"inputs": 1}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("inputs"), "{}", r.text);
    let r = s.send(s.request("POST", "/api/v1/functions/job/runs").bearer_auth(&t).body("{not json")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    for path in ["/executions/nope/stream", "/executions/nope/cancel"] {
        let method = if path.ends_with("stream") { "GET" } else { "POST" };
        let r = s.call(method, path, Some(&t), None).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
    }
    let unknown = uuid_like();
    assert_eq!(s.call("GET", &format!("/executions/{unknown}/stream"), Some(&t), None).await.status, 404);
    assert_eq!(s.call("POST", &format!("/executions/{unknown}/cancel"), Some(&t), None).await.status, 404);
    // A viewer may watch but not start or cancel.
    let viewer = s.token("acme", &["viewer"]);
    assert_eq!(s.call("POST", "/functions/job/runs", Some(&viewer), Some(&json!({}))).await.status, 403);
}

fn uuid_like() -> &'static str {
    "0190c0de-0000-7000-8000-000000000000"
}

/// A run whose node dies can never finish: another node marks it failed
/// once the dead node's lease expires, so nobody waits on it forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_a_killed_node_is_marked_lost() {
    let env = Env::new().await;
    let lease = [("QUASM_NODE_LEASE_SECS", "2")];
    let a = Server::start(&env, &[], &lease).await;
    let b = Server::start(&env, &[], &lease).await;
    let t = a.token("acme", &["developer"]);
    a.create_function(&t, "forever", FOREVER).await;
    let id = a.ok("POST", "/functions/forever/runs", &t, Some(json!({"input": {}})), 202).await["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.signal(libc::SIGKILL);
    let killed = Instant::now();
    let events = stream(&b, &t, &id).await;
    let end = &events.last().unwrap().data;
    assert_eq!(end["status"], "error", "{events:?}");
    assert_eq!(end["error"]["name"], "NodeLost", "{end}");
    assert!(killed.elapsed() < Duration::from_secs(8), "noticed after {:?}", killed.elapsed());
}
