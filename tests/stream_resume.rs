//! `GET /executions/{id}/stream` numbers its events (`id: <logs>.<progress>`)
//! and resumes after `Last-Event-ID`: a client whose connection dropped
//! reconnects and gets exactly what it missed, from the live run, from the
//! record once the run is over, or through another node.

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
    return { done: true };
  }
};"#;

#[derive(Debug, Clone)]
struct Event {
    id: Option<String>,
    name: String,
    data: Value,
}

fn parse_block(block: &str) -> Option<Event> {
    let mut e = Event { id: None, name: String::new(), data: Value::Null };
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id: ") {
            e.id = Some(v.to_owned());
        } else if let Some(v) = line.strip_prefix("event: ") {
            e.name = v.to_owned();
        } else if let Some(v) = line.strip_prefix("data: ") {
            e.data = serde_json::from_str(v).unwrap();
        }
    }
    (!e.name.is_empty()).then_some(e)
}

/// Opens the stream (resuming after `last` if given) and reads events until
/// `stop` says so or the server closes it; dropping the response then cuts
/// the connection.
async fn read(s: &Server, t: &str, id: &str, last: Option<&str>, stop: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let mut rb = s.request("GET", &format!("/api/v1/executions/{id}/stream")).bearer_auth(t);
    if let Some(l) = last {
        rb = rb.header("last-event-id", l);
    }
    let mut resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (mut text, mut events) = (String::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Ok(Some(chunk)) = tokio::time::timeout_at(deadline.into(), resp.chunk()).await.map(Result::unwrap) {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            events.extend(parse_block(&block));
        }
        if stop(&events) {
            break;
        }
    }
    events
}

fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

fn ids(events: &[Event]) -> Vec<&str> {
    events.iter().filter_map(|e| e.id.as_deref()).collect()
}

fn messages(events: &[Event]) -> Vec<&str> {
    events.iter().filter(|e| e.name == "log").map(|e| e.data["message"].as_str().unwrap()).collect()
}

async fn start(s: &Server, t: &str, pause: u64) -> String {
    s.ok("POST", "/functions/job/runs", t, Some(json!({"input": {"pause": pause}})), 202).await["execution_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_resumes_after_its_last_event_id() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["developer"]);
    s.create_function(&t, "job", STEPS).await;
    let id = start(&s, &t, 400).await;

    // First connection: the status, then step 1's log and progress; cut.
    let first = read(&s, &t, &id, None, |ev| ev.iter().any(|e| e.name == "progress")).await;
    assert_eq!(names(&first), ["status", "log", "progress"], "{first:?}");
    assert_eq!(ids(&first), ["0.0", "1.0", "1.1"], "{first:?}");
    assert_eq!(first[2].data, json!({"percent": 25.0, "message": "step 1 of 4"}));

    // Reconnect while it runs: exactly what followed, no second status.
    let rest = read(&s, &t, &id, Some("1.1"), |_| false).await;
    assert_eq!(names(&rest), ["log", "progress", "log", "progress", "log", "progress", "end"], "{rest:?}");
    assert_eq!(messages(&rest), ["step 2", "step 3", "step 4"]);
    assert_eq!(ids(&rest), ["2.1", "2.2", "3.2", "3.3", "4.3", "4.4"]);
    assert_eq!(rest.last().unwrap().data["status"], "ok");
    assert_eq!(rest.last().unwrap().data["output"], json!({"done": true}));

    // Once it is over, resuming replays the recorded logs after the id.
    let replay = read(&s, &t, &id, Some("2.2"), |_| false).await;
    assert_eq!(names(&replay), ["log", "log", "end"], "{replay:?}");
    assert_eq!(messages(&replay), ["step 3", "step 4"]);
    assert_eq!(ids(&replay), ["3.2", "4.2"]);
    let done = read(&s, &t, &id, Some("4.4"), |_| false).await;
    assert_eq!(names(&done), ["end"], "{done:?}");
    // Without an id, a finished run replays every log.
    assert_eq!(messages(&read(&s, &t, &id, None, |_| false).await), ["step 1", "step 2", "step 3", "step 4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_through_another_node_loses_nothing() {
    let env = Env::new().await;
    let a = Server::start(&env, &[], &[]).await;
    let b = Server::start(&env, &[], &[]).await;
    let t = a.token("acme", &["developer"]);
    a.create_function(&t, "job", STEPS).await;
    let id = start(&a, &t, 300).await;
    let first = read(&a, &t, &id, None, |ev| ev.iter().filter(|e| e.name == "log").count() == 2).await;
    assert_eq!(messages(&first), ["step 1", "step 2"], "{first:?}");
    let last = first.iter().rev().find_map(|e| e.id.clone()).unwrap();
    assert_eq!(last, "2.1");
    // Node b follows the record: the remaining logs arrive with the end.
    let rest = read(&b, &t, &id, Some(&last), |_| false).await;
    assert_eq!(messages(&rest), ["step 3", "step 4"], "{rest:?}");
    assert_eq!(names(&rest).last(), Some(&"end"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_last_event_id_is_refused_naming_the_header() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["viewer", "developer"]);
    s.create_function(&t, "job", STEPS).await;
    let id = start(&s, &t, 1).await;
    for bad in ["abc", "1", "1.x", "-1.0"] {
        let r = s
            .send(
                s.request("GET", &format!("/api/v1/executions/{id}/stream"))
                    .bearer_auth(&t)
                    .header("last-event-id", bad),
            )
            .await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{bad}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], "Last-Event-ID", "{}", r.text);
    }
}
