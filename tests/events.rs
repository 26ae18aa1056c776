//! Events end to end: publish → subscription match (glob, filter) → the
//! `event` handler runs with the event's id and attempt; idempotency keys;
//! retries with backoff; dead letters (list, replay, delete);
//! `env.EVENTS.publish` from a function; bad input; and no event lost when
//! a node is SIGKILLed mid-delivery.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{eventually, Env, Server};
use futures::StreamExt;
use serde_json::{json, Value};

/// Returns everything the handler saw.
const ECHO: &str = r#"export default {
  async event(event, env, ctx) {
    return { id: event.id, type: event.type, payload: event.payload, key: event.key ?? null,
             attempt: event.attempt, publishedAt: event.publishedAt, ctxAttempt: ctx.attempt,
             trigger: ctx.trigger };
  },
};"#;

const WAIT: Duration = Duration::from_secs(30);

/// Event executions of `function`, oldest first.
async fn executions(s: &Server, token: &str, function: &str) -> Vec<Value> {
    let page =
        s.ok("GET", &format!("/executions?trigger=event&function={function}&limit=1000"), token, None, 200).await;
    let mut list = page["executions"].as_array().unwrap().clone();
    list.reverse();
    list
}

/// Waits until `function` has `n` event executions; returns them with
/// input and output (oldest first).
async fn wait_executions(s: &Server, token: &str, function: &str, n: usize) -> Vec<Value> {
    let list = eventually(WAIT, &format!("{n} event executions of {function}"), || async {
        let l = executions(s, token, function).await;
        (l.len() >= n).then_some(l)
    })
    .await;
    assert_eq!(list.len(), n, "exactly {n} executions of {function}: {list:?}");
    let mut full = Vec::new();
    for e in list {
        full.push(s.ok("GET", &format!("/executions/{}", e["id"].as_str().unwrap()), token, None, 200).await);
    }
    full
}

/// `(status, attempt)` of every delivery of an event.
async fn deliveries(env: &Env, event_id: &str) -> Vec<(String, i32)> {
    let id: uuid::Uuid = event_id.parse().unwrap();
    let db = env.db().await;
    let rows =
        db.query("SELECT status, attempt FROM deliveries WHERE event_id = $1 ORDER BY id", &[&id]).await.unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

async fn subscribe(s: &Server, token: &str, body: Value) -> Value {
    s.ok("POST", "/subscriptions", token, Some(body), 201).await
}

async fn publish(s: &Server, token: &str, body: Value) -> Value {
    s.ok("POST", "/events", token, Some(body), 202).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_event_reaches_the_handler_with_its_id_and_attempt() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "echo", ECHO).await;
    let sub = subscribe(&s, &t, json!({"function": "echo", "event_type": "order.created"})).await;
    assert_eq!(sub["max_attempts"], 5);
    assert_eq!(sub["backoff"], json!({"initial_ms": 1000, "max_ms": 60000}));
    assert_eq!(sub["filter"], json!({}));
    assert_eq!(s.ok("GET", &format!("/subscriptions/{}", sub["id"]), &t, None, 200).await, sub);
    assert_eq!(s.ok("GET", "/subscriptions", &t, None, 200).await["subscriptions"], json!([sub]));

    let before = Utc::now();
    let p = publish(&s, &t, json!({"type": "order.created", "payload": {"order": 42}, "key": "o-42"})).await;
    assert_eq!((p["duplicate"].clone(), p["deliveries"].clone()), (json!(false), json!(1)), "{p}");
    let id = p["id"].as_str().unwrap().to_owned();

    let runs = wait_executions(&s, &t, "echo", 1).await;
    let out = &runs[0]["output"];
    assert_eq!(runs[0]["status"], "ok", "{}", runs[0]);
    assert_eq!(runs[0]["trigger_ref"], id.as_str());
    assert_eq!(out["id"], id.as_str());
    assert_eq!(out["type"], "order.created");
    assert_eq!(out["payload"], json!({"order": 42}));
    assert_eq!(out["key"], "o-42");
    assert_eq!((out["attempt"].clone(), out["ctxAttempt"].clone()), (json!(1), json!(1)));
    assert_eq!(out["trigger"], "event");
    let published: DateTime<Utc> = out["publishedAt"].as_str().unwrap().parse().unwrap();
    assert!(published >= before - chrono::Duration::seconds(1) && published <= Utc::now(), "{published}");
    eventually(WAIT, "the delivery is done", || async {
        (deliveries(&s.env, &id).await == [("done".to_string(), 1)]).then_some(())
    })
    .await;

    // Deleting the subscription stops deliveries.
    s.ok("DELETE", &format!("/subscriptions/{}", sub["id"]), &t, None, 204).await;
    let p = publish(&s, &t, json!({"type": "order.created", "payload": {}})).await;
    assert_eq!(p["deliveries"], 0);
    let audit = s.ok("GET", "/audit", &t, None, 200).await.to_string();
    assert!(audit.contains("subscription.create") && audit.contains("subscription.delete"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn globs_and_filters_choose_the_subscribers() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "all-payments", ECHO).await;
    s.create_function(&t, "gold-success", ECHO).await;
    subscribe(&s, &t, json!({"function": "all-payments", "event_type": "payment.*"})).await;
    let gold = subscribe(
        &s,
        &t,
        json!({"function": "gold-success", "event_type": "payment.succeeded", "filter": {"customer.tier": "gold"}}),
    )
    .await;
    assert_eq!(gold["filter"], json!({"customer": {"tier": "gold"}}), "dotted keys nest");

    let cases = [
        ("payment.succeeded", json!({"customer": {"tier": "gold", "id": 7}, "amount": 5}), 2),
        ("payment.succeeded", json!({"customer": {"tier": "silver"}}), 1),
        ("payment.refund.partial", json!({"customer": {"tier": "gold"}}), 1), // `*` spans dots
        ("payment.", json!({}), 1),
        ("payments.succeeded", json!({"customer": {"tier": "gold"}}), 0),
        ("payment_succeeded", json!({}), 0), // `_` is literal, not LIKE's wildcard
        ("order.created", json!({"customer": {"tier": "gold"}}), 0),
    ];
    for (event_type, payload, want) in &cases {
        let p = publish(&s, &t, json!({"type": event_type, "payload": payload})).await;
        assert_eq!(p["deliveries"], *want, "{event_type} {payload}: {p}");
    }
    let gold_runs = wait_executions(&s, &t, "gold-success", 1).await;
    assert_eq!(gold_runs[0]["output"]["payload"]["customer"]["id"], 7);
    let all = wait_executions(&s, &t, "all-payments", 4).await;
    let mut types: Vec<&str> = all.iter().map(|e| e["output"]["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(types, ["payment.", "payment.refund.partial", "payment.succeeded", "payment.succeeded"]);
    // Nothing more arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(executions(&s, &t, "gold-success").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_is_accepted_once_per_tenant() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "echo", ECHO).await;
    subscribe(&s, &t, json!({"function": "echo", "event_type": "invoice.*"})).await;
    let body = json!({"type": "invoice.paid", "payload": {"n": 1}, "idempotency_key": "inv-1"});
    let first = publish(&s, &t, body.clone()).await;
    assert_eq!(first["deliveries"], 1);
    let again = s
        .ok(
            "POST",
            "/events",
            &t,
            Some(json!({"type": "invoice.paid", "payload": {"n": 2}, "idempotency_key": "inv-1"})),
            200,
        )
        .await;
    assert_eq!(
        (again["id"].clone(), again["duplicate"].clone(), again["deliveries"].clone()),
        (first["id"].clone(), json!(true), json!(0))
    );
    // Concurrent duplicates: still one event.
    let dup = json!({"type": "invoice.paid", "idempotency_key": "inv-2"});
    let racers = (0..8).map(|_| s.call("POST", "/events", Some(&t), Some(&dup)));
    let replies = futures::future::join_all(racers).await;
    let ids: std::collections::BTreeSet<String> =
        replies.iter().map(|r| r.body["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "{replies:?}");
    assert_eq!(replies.iter().filter(|r| r.status == 202).count(), 1);
    // Another tenant's key space is its own.
    let other = s.token("other", &["developer"]);
    let theirs = publish(&s, &other, body).await;
    assert_ne!(theirs["id"], first["id"]);

    let runs = wait_executions(&s, &t, "echo", 2).await;
    assert_eq!(runs.iter().filter(|r| r["output"]["payload"] == json!({"n": 1})).count(), 1);
    let db = s.env.db().await;
    let n: i64 = db
        .query_one("SELECT count(*) FROM events WHERE tenant_id = 'acme' AND type NOT LIKE 'quasm.%'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_retried_with_exponential_backoff() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    let code = r#"export default {
      async event(event, env, ctx) {
        if (event.attempt < 4) throw new Error(`not yet (attempt ${event.attempt})`);
        return { attempt: event.attempt };
      },
    };"#;
    s.create_function(&t, "flaky", code).await;
    subscribe(
        &s,
        &t,
        json!({"function": "flaky", "event_type": "job", "max_attempts": 5, "backoff": {"initial_ms": 200, "max_ms": 500}}),
    )
    .await;
    let p = publish(&s, &t, json!({"type": "job", "payload": {}})).await;
    let runs = wait_executions(&s, &t, "flaky", 4).await;
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["error", "error", "error", "ok"]);
    assert!(runs[0]["error"]["message"].as_str().unwrap().contains("not yet (attempt 1)"), "{}", runs[0]);
    assert_eq!(runs[3]["output"], json!({"attempt": 4}));
    // Waits after attempts 1, 2, 3: base 200, 400, 500 (capped) ms, times a
    // jitter in [0.5, 1); plus claim latency.
    let at: Vec<DateTime<Utc>> = runs.iter().map(|r| r["created_at"].as_str().unwrap().parse().unwrap()).collect();
    let gaps: Vec<i64> = at.windows(2).map(|w| (w[1] - w[0]).num_milliseconds()).collect();
    eprintln!("retry gaps (ms) for backoff 200/500: {gaps:?}");
    for (gap, base) in gaps.iter().zip([200, 400, 500]) {
        assert!(*gap >= base / 2 - 20, "gap {gap} ms < half of {base} ms: {gaps:?}");
        assert!(*gap <= base + 1500, "gap {gap} ms far above {base} ms: {gaps:?}");
    }
    eventually(WAIT, "the delivery is done", || async {
        (deliveries(&s.env, p["id"].as_str().unwrap()).await == [("done".to_string(), 4)]).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_can_be_listed_replayed_and_deleted() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    let failing = r#"export default { async event(event) { throw new TypeError(`no ${event.payload.n}`); } };"#;
    s.create_function(&t, "sink", failing).await;
    let sub = subscribe(
        &s,
        &t,
        json!({"function": "sink", "event_type": "mail.*", "max_attempts": 2, "backoff": {"initial_ms": 50, "max_ms": 50}}),
    )
    .await;
    let e1 = publish(&s, &t, json!({"type": "mail.bounced", "payload": {"n": 1}, "key": "k1"})).await;
    let e2 = publish(&s, &t, json!({"type": "mail.bounced", "payload": {"n": 2}})).await;
    let page = eventually(WAIT, "two dead letters", || async {
        let p = s.ok("GET", "/dead-letters", &t, None, 200).await;
        (p["dead_letters"].as_array().unwrap().len() == 2).then_some(p)
    })
    .await;
    let list = page["dead_letters"].as_array().unwrap();
    let d1 = list.iter().find(|d| d["event"]["id"] == e1["id"]).expect("e1 is a dead letter").clone();
    assert_eq!(d1["event"]["type"], "mail.bounced");
    assert_eq!(d1["event"]["payload"], json!({"n": 1}));
    assert_eq!(d1["event"]["key"], "k1");
    assert_eq!(d1["attempts"], 2);
    assert_eq!(d1["function"], "sink");
    assert_eq!(d1["subscription_id"], sub["id"]);
    assert_eq!(d1["last_error"]["name"], "TypeError");
    assert_eq!(d1["last_error"]["message"], "no 1");
    let exec = s.ok("GET", &format!("/executions/{}", d1["last_execution_id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!((exec["status"].as_str(), exec["trigger_ref"].clone()), (Some("error"), e1["id"].clone()));
    assert_eq!(s.ok("GET", &format!("/dead-letters/{}", d1["id"]), &t, None, 200).await, d1);
    // Filters and paging.
    let p = s.ok("GET", "/dead-letters?limit=1", &t, None, 200).await;
    assert_eq!(p["dead_letters"].as_array().unwrap().len(), 1);
    let next = p["next_cursor"].as_i64().expect("a next page");
    let p2 = s.ok("GET", &format!("/dead-letters?limit=1&cursor={next}"), &t, None, 200).await;
    assert_eq!(p2["dead_letters"].as_array().unwrap().len(), 1);
    assert_ne!(p2["dead_letters"][0]["id"], p["dead_letters"][0]["id"]);
    assert_eq!(p2["next_cursor"], Value::Null);
    assert_eq!(s.ok("GET", "/dead-letters?function=nope", &t, None, 200).await["dead_letters"], json!([]));
    let by_sub = s.ok("GET", &format!("/dead-letters?subscription={}&function=sink", sub["id"]), &t, None, 200).await;
    assert_eq!(by_sub["dead_letters"].as_array().unwrap().len(), 2);

    // The function is fixed; replaying delivers again with a fresh attempt counter.
    s.ok("POST", "/functions/sink/versions", &t, Some(json!({"code": ECHO})), 201).await;
    let r = s.ok("POST", &format!("/dead-letters/{}/replay", d1["id"]), &t, None, 202).await;
    assert_eq!(r["status"], "pending");
    let e1_id = e1["id"].as_str().unwrap().to_owned();
    eventually(WAIT, "the replayed delivery is done", || async {
        (deliveries(&s.env, &e1_id).await == [("done".to_string(), 1)]).then_some(())
    })
    .await;
    let runs = executions(&s, &t, "sink").await;
    let last =
        s.ok("GET", &format!("/executions/{}", runs.last().unwrap()["id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!((last["status"].as_str(), last["output"]["attempt"].clone()), (Some("ok"), json!(1)));
    // It is no dead letter any more: replaying again is a 404.
    let r = s.call("POST", &format!("/dead-letters/{}/replay", d1["id"]), Some(&t), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);

    // The other one is deleted.
    let d2 = s.ok("GET", "/dead-letters", &t, None, 200).await["dead_letters"][0].clone();
    assert_eq!(d2["event"]["id"], e2["id"]);
    s.ok("DELETE", &format!("/dead-letters/{}", d2["id"]), &t, None, 204).await;
    assert_eq!(s.call("GET", &format!("/dead-letters/{}", d2["id"]), Some(&t), None).await.status, 404);
    assert_eq!(s.call("DELETE", &format!("/dead-letters/{}", d2["id"]), Some(&t), None).await.status, 404);
    assert_eq!(s.ok("GET", "/dead-letters", &t, None, 200).await["dead_letters"], json!([]));
    let audit = s.ok("GET", "/audit", &t, None, 200).await.to_string();
    assert!(audit.contains("dead_letter.replay") && audit.contains("dead_letter.delete"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_publish_events_that_fan_out() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    let producer = r#"export default {
      async run(input, env) {
        const a = await env.EVENTS.publish("chain.created", { n: input.n });
        const b = await env.EVENTS.publish("chain.created", { n: input.n + 1 });
        let refused = null;
        try { await env.EVENTS.publish("bad type!", {}); } catch (e) { refused = String(e.message ?? e); }
        return { ids: [a.id, b.id], refused };
      },
    };"#;
    s.create_function(&t, "producer", producer).await;
    s.create_function(&t, "left", ECHO).await;
    s.create_function(&t, "right", ECHO).await;
    subscribe(&s, &t, json!({"function": "left", "event_type": "chain.*"})).await;
    subscribe(&s, &t, json!({"function": "right", "event_type": "chain.created", "filter": {"n": 11}})).await;
    let out = s.ok("POST", "/functions/producer/invoke", &t, Some(json!({"input": {"n": 10}})), 200).await;
    assert_eq!(out["status"], "ok", "{out}");
    let ids = out["output"]["ids"].as_array().unwrap().clone();
    assert!(out["output"]["refused"].as_str().unwrap().contains("type"), "{out}");
    let left = wait_executions(&s, &t, "left", 2).await;
    let mut seen: Vec<Value> = left.iter().map(|e| e["output"]["id"].clone()).collect();
    seen.sort_by_key(|v| v.to_string());
    let mut want = ids.clone();
    want.sort_by_key(|v| v.to_string());
    assert_eq!(seen, want);
    let right = wait_executions(&s, &t, "right", 1).await;
    assert_eq!(
        (right[0]["output"]["id"].clone(), right[0]["output"]["payload"].clone()),
        (ids[1].clone(), json!({"n": 11}))
    );
    let db = s.env.db().await;
    let by: String = db
        .query_one("SELECT published_by FROM events WHERE type NOT LIKE 'quasm.%' LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(by, "function");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_the_field() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "echo", ECHO).await;
    let bad_subs = [
        (json!({"function": "missing", "event_type": "a"}), 404, "not_found", None),
        (json!({"function": "echo", "event_type": "a b"}), 400, "invalid_request", Some("event_type")),
        (json!({"function": "echo", "event_type": "a?"}), 400, "invalid_request", Some("event_type")),
        (json!({"function": "echo", "event_type": ""}), 400, "invalid_request", Some("event_type")),
        (
            json!({"function": "echo", "event_type": "a", "max_attempts": 0}),
            400,
            "invalid_request",
            Some("max_attempts"),
        ),
        (
            json!({"function": "echo", "event_type": "a", "max_attempts": 101}),
            400,
            "invalid_request",
            Some("max_attempts"),
        ),
        (
            json!({"function": "echo", "event_type": "a", "backoff": {"initial_ms": 0}}),
            400,
            "invalid_request",
            Some("backoff.initial_ms"),
        ),
        (
            json!({"function": "echo", "event_type": "a", "backoff": {"initial_ms": 500, "max_ms": 100}}),
            400,
            "invalid_request",
            Some("backoff.max_ms"),
        ),
        (
            json!({"function": "echo", "event_type": "a", "backoff": {"initial_ms": "soon"}}),
            400,
            "invalid_request",
            Some("backoff.initial_ms"),
        ),
        (
            json!({"function": "echo", "event_type": "a", "filter": {"a..b": 1}}),
            400,
            "invalid_request",
            Some("filter.a..b"),
        ),
        (json!({"function": "echo", "event_type": "a", "filter": [1]}), 400, "invalid_request", Some("filter")),
        (json!({"function": "echo", "event_type": "a", "colour": "red"}), 400, "invalid_request", None),
        (json!({"event_type": "a"}), 400, "invalid_request", None),
    ];
    for (body, status, code, field) in bad_subs {
        let r = s.call("POST", "/subscriptions", Some(&t), Some(&body)).await;
        assert_eq!((r.status, r.code()), (status, code), "{body}: {}", r.text);
        if let Some(f) = field {
            assert_eq!(r.body["error"]["details"]["field"], f, "{body}: {}", r.text);
        }
    }
    let r = s.call("POST", "/subscriptions", Some(&t), Some(&json!({"function": "missing", "event_type": "a"}))).await;
    assert!(r.message().contains("missing"), "{}", r.text);

    let big = "x".repeat(300 * 1024);
    let bad_events = [
        (json!({"type": "", "payload": {}}), "type"),
        (json!({"type": "a b"}), "type"),
        (json!({"type": "x".repeat(201)}), "type"),
        (json!({"type": "a", "payload": {"big": big}}), "payload"),
        (json!({"type": "a", "key": ""}), "key"),
        (json!({"type": "a", "idempotency_key": "k".repeat(201)}), "idempotency_key"),
        (json!({"type": 5}), "type"),
        (json!({"payload": {}}), "body"),
    ];
    for (body, field) in bad_events {
        let r = s.call("POST", "/events", Some(&t), Some(&body)).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_request"),
            "{}: {}",
            &body.to_string()[..60.min(body.to_string().len())],
            r.text
        );
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.text);
    }
    let malformed = s
        .request("POST", "/api/v1/events")
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"type\": ");
    let r = s.send(malformed).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.text);
    assert!(r.message().starts_with("malformed JSON"), "{}", r.text);

    for (method, path) in [
        ("GET", "/subscriptions/999"),
        ("DELETE", "/subscriptions/999"),
        ("GET", "/dead-letters/999"),
        ("POST", "/dead-letters/999/replay"),
        ("DELETE", "/dead-letters/999"),
    ] {
        let r = s.call(method, path, Some(&t), None).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {path}: {}", r.text);
    }
    for (method, path) in
        [("GET", "/subscriptions/x"), ("POST", "/dead-letters/x/replay"), ("GET", "/dead-letters?limit=0")]
    {
        let r = s.call(method, path, Some(&t), None).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{method} {path}: {}", r.text);
    }
    let r = s.call("GET", "/events", Some(&t), None).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(s.ok("GET", "/subscriptions", &t, None, 200).await["subscriptions"], json!([]));
}

async fn status_counts(db: &tokio_postgres::Client) -> Vec<(String, i64)> {
    let rows = db.query("SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY 1", &[]).await.unwrap();
    rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1))).collect()
}

/// Two nodes share the queue; one is SIGKILLed while it runs deliveries.
/// The other takes them over once the dead node's lease expires: every
/// delivery ends `done`, every event ran at least once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_event_is_lost_when_a_node_is_killed_mid_delivery() {
    const EVENTS: usize = 600;
    let env = Env::new().await;
    let lease = [("QUASM_NODE_LEASE_SECS", "2")];
    let (victim, survivor) = tokio::join!(Server::start(&env, &[], &lease), Server::start(&env, &[], &lease));
    let t = survivor.token("acme", &["admin"]);
    let slow = r#"export default {
      async event(event) { await new Promise(r => setTimeout(r, 100)); return { n: event.payload.n }; },
    };"#;
    survivor.create_function(&t, "slow", slow).await;
    subscribe(
        &survivor,
        &t,
        json!({"function": "slow", "event_type": "work", "backoff": {"initial_ms": 100, "max_ms": 200}}),
    )
    .await;

    let publisher = {
        let (base, http, t) = (survivor.base.clone(), survivor.http.clone(), t.clone());
        tokio::spawn(async move {
            let body = |n: usize| json!({"type": "work", "payload": {"n": n}}).to_string();
            let requests = futures::stream::iter(0..EVENTS).map(|n| {
                let rb = http
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&t)
                    .header("content-type", "application/json")
                    .body(body(n));
                async move { rb.send().await.map(|r| r.status().as_u16()) }
            });
            requests.buffer_unordered(16).collect::<Vec<_>>().await
        })
    };

    // Kill the victim while it holds running deliveries.
    let db = env.db().await;
    let victim_node: uuid::Uuid = eventually(WAIT, "the victim's node row", || async {
        db.query_opt("SELECT id FROM nodes WHERE pid = $1", &[&victim.pid()]).await.unwrap().map(|r| r.get(0))
    })
    .await;
    let running_at_kill: i64 = eventually(WAIT, "the victim running deliveries", || async {
        let n: i64 = db
            .query_one("SELECT count(*) FROM deliveries WHERE status = 'running' AND locked_by = $1", &[&victim_node])
            .await
            .unwrap()
            .get(0);
        (n >= 3).then_some(n)
    })
    .await;
    victim.signal(libc::SIGKILL);
    let killed_at = Instant::now();
    let statuses = publisher.await.unwrap();
    assert!(statuses.iter().all(|s| matches!(s, Ok(202))), "publishes: {statuses:?}");

    let done = eventually(Duration::from_secs(60), "every delivery done", || async {
        let c = status_counts(&db).await;
        (c == [("done".to_string(), EVENTS as i64)]).then_some(c)
    })
    .await;
    eprintln!(
        "{running_at_kill} deliveries were running on the killed node; all {EVENTS} done {:.1} s after the kill: {done:?}",
        killed_at.elapsed().as_secs_f64()
    );
    // Every event ran to completion at least once, with its payload.
    let ok: i64 = db
        .query_one(
            "SELECT count(DISTINCT (output->>'n')) FROM executions WHERE trigger = 'event' AND status = 'ok'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ok, EVENTS as i64);
    let requeued: i64 =
        db.query_one("SELECT count(*) FROM deliveries WHERE crash_requeues > 0", &[]).await.unwrap().get(0);
    assert!(requeued >= running_at_kill, "the killed node's deliveries were run again: {requeued} < {running_at_kill}");
    let spent: i64 = db.query_one("SELECT count(*) FROM deliveries WHERE attempt <> 1", &[]).await.unwrap().get(0);
    assert_eq!(spent, 0, "a crash spends no attempt of a handler that never failed");
}

/// A crash is not a failed attempt: a delivery on its last (and only)
/// attempt whose node is SIGKILLed goes back to the queue and runs again,
/// instead of ending as a dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_crash_does_not_spend_the_last_attempt() {
    let env = Env::new().await;
    let lease = [("QUASM_NODE_LEASE_SECS", "2")];
    let victim = Server::start(&env, &[], &lease).await;
    let t = victim.token("acme", &["admin"]);
    let slow = r#"export default {
      async event(event) { await new Promise(r => setTimeout(r, 3000)); return { n: event.payload.n }; },
    };"#;
    victim.create_function(&t, "slow", slow).await;
    subscribe(&victim, &t, json!({"function": "slow", "event_type": "work", "max_attempts": 1})).await;
    let id =
        publish(&victim, &t, json!({"type": "work", "payload": {"n": 7}})).await["id"].as_str().unwrap().to_owned();
    let db = env.db().await;
    eventually(WAIT, "the delivery running on the victim", || async {
        let n: i64 =
            db.query_one("SELECT count(*) FROM deliveries WHERE status = 'running'", &[]).await.unwrap().get(0);
        (n == 1).then_some(())
    })
    .await;
    victim.signal(libc::SIGKILL);
    let survivor = Server::start(&env, &[], &lease).await;
    let row = eventually(Duration::from_secs(60), "the delivery done on the survivor", || async {
        let r = db
            .query_one("SELECT status, attempt, crash_requeues FROM deliveries WHERE event_id = $1::text::uuid", &[&id])
            .await
            .unwrap();
        let row: (String, i32, i32) = (r.get(0), r.get(1), r.get(2));
        (row.0 != "running" && row.0 != "pending").then_some(row)
    })
    .await;
    assert_eq!(row, ("done".to_owned(), 1, 1), "status, attempts, crash requeues");
    let dead = survivor.ok("GET", "/dead-letters", &t, None, 200).await;
    assert_eq!(dead["dead_letters"], json!([]), "{dead}");
    let ok = wait_executions(&survivor, &t, "slow", 1).await;
    assert_eq!(ok[0]["status"], "ok", "{ok:?}");
}

/// A batch is published in one transaction: all events, in order, or none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_publishes_every_event_or_none() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["developer", "operator"]);
    s.create_function(&t, "echo", ECHO).await;
    subscribe(&s, &t, json!({"function": "echo", "event_type": "order.*"})).await;
    publish(&s, &t, json!({"type": "order.seen", "idempotency_key": "k-1"})).await;

    let batch = json!({"events": [
        {"type": "order.created", "payload": {"n": 1}},
        {"type": "order.created", "payload": {"n": 2}, "key": "o-2"},
        {"type": "order.seen", "idempotency_key": "k-1"},
        {"type": "user.created"},
    ]});
    let r = s.ok("POST", "/events/batch", &t, Some(batch), 202).await;
    let results = r["events"].as_array().unwrap();
    let shape: Vec<(bool, i64)> =
        results.iter().map(|e| (e["duplicate"].as_bool().unwrap(), e["deliveries"].as_i64().unwrap())).collect();
    assert_eq!(shape, [(false, 1), (false, 1), (true, 0), (false, 0)], "{r}");
    let runs = wait_executions(&s, &t, "echo", 3).await;
    let mut ns: Vec<Value> = runs.iter().map(|e| e["output"]["payload"]["n"].clone()).collect();
    ns.sort_by_key(|v| v.as_i64().unwrap_or(0));
    assert_eq!(ns, [Value::Null, json!(1), json!(2)]);

    // One bad event: nothing is published, and the error names it.
    let before: i64 = count_events(&s).await;
    let bad = json!({"events": [{"type": "order.created"}, {"type": "bad type!"}]});
    let r = s.call("POST", "/events/batch", Some(&t), Some(&bad)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["details"]["field"], "events[1].type", "{}", r.text);
    assert_eq!(count_events(&s).await, before, "a refused batch publishes nothing");
    for body in [json!({"events": []}), json!({"events": vec![json!({"type": "x"}); 101]}), json!({"event": []})] {
        let r = s.call("POST", "/events/batch", Some(&t), Some(&body)).await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
}

async fn count_events(s: &Server) -> i64 {
    s.env.db().await.query_one("SELECT count(*) FROM events WHERE type NOT LIKE 'quasm.%'", &[]).await.unwrap().get(0)
}
