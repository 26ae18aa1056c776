//! Cron schedules end to end: the API and its validation, slots that fire
//! on time and are all recorded, overlap policies, missed slots and
//! catch-up, and three nodes sharing one database with one killed midway.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{Env, Server};
use serde_json::{json, Value};

/// Records what the `scheduled` handler saw.
const ECHO: &str = r#"export default {
  async scheduled(event, env, ctx) {
    return { cron: event.cron, time: event.scheduledTime, tz: event.timezone, input: event.input, trigger: ctx.trigger };
  }
};"#;

/// Takes `input.ms` milliseconds.
const SLOW: &str = r#"export default {
  async scheduled(event) {
    await new Promise(r => setTimeout(r, event.input.ms));
    return event.scheduledTime;
  }
};"#;

async fn runs(s: &Server, token: &str, function: &str, id: &Value) -> Vec<Value> {
    let body = s.ok("GET", &format!("/functions/{function}/schedules/{id}/runs?limit=1000"), token, None, 200).await;
    body["runs"].as_array().unwrap().clone()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_validates_and_manages_schedules() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["operator"]);
    s.create_function(&t, "job", ECHO).await;

    let bad = [
        (json!({"cron": "61 * * * *"}), "cron", "minute field \"61\""),
        (json!({"cron": "* * *"}), "cron", "has 3 fields"),
        (json!({"cron": "@sometimes"}), "cron", "unknown alias"),
        (json!({"cron": "0 0 30 2 *"}), "cron", "never fires"),
        (json!({"cron": "* * * * *", "timezone": "Mars/Base"}), "timezone", "not an IANA time zone"),
        (json!({"cron": "* * * * *", "overlap": "sometimes"}), "overlap", "unknown variant"),
        (json!({"cron": "* * * * *", "every": 5}), "every", "unknown field"),
    ];
    for (body, field, msg) in bad {
        let r = s.call("POST", "/functions/job/schedules", Some(&t), Some(&body)).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().contains(msg), "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body} names {field}: {}", r.text);
    }
    let r = s.call("POST", "/functions/nope/schedules", Some(&t), Some(&json!({"cron": "@daily"}))).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = s.call("POST", "/functions/job/schedules", Some(&t), Some(&json!("not an object"))).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let created = s
        .ok(
            "POST",
            "/functions/job/schedules",
            &t,
            Some(json!({"cron": "0 9 * * MON-FRI", "timezone": "Europe/Paris", "input": {"report": "daily"}})),
            201,
        )
        .await;
    let id = &created["id"];
    assert_eq!(created["overlap"], "skip");
    assert_eq!(created["catch_up"], "skip");
    assert_eq!(created["enabled"], true);
    let next = time(&created["next_run_at"]);
    assert!(next > Utc::now() && next < Utc::now() + chrono::Duration::days(4), "{next}");

    let preview = s.ok("GET", &format!("/functions/job/schedules/{id}/preview?count=7"), &t, None, 200).await;
    let times: Vec<DateTime<Utc>> = preview["next"].as_array().unwrap().iter().map(time).collect();
    assert_eq!(times.len(), 7);
    assert_eq!(times[0], next);
    assert!(times.windows(2).all(|w| w[0] < w[1]));
    let r = s.call("GET", &format!("/functions/job/schedules/{id}/preview?count=0"), Some(&t), None).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let listed = s.ok("GET", "/functions/job/schedules", &t, None, 200).await;
    assert_eq!(listed["schedules"].as_array().unwrap().len(), 1);

    let patched = s
        .ok(
            "PATCH",
            &format!("/functions/job/schedules/{id}"),
            &t,
            Some(json!({"cron": "@hourly", "overlap": "queue"})),
            200,
        )
        .await;
    assert_eq!(patched["cron"], "@hourly");
    assert_eq!(patched["overlap"], "queue");
    assert_eq!(patched["timezone"], "Europe/Paris");
    let r = s
        .call("PATCH", &format!("/functions/job/schedules/{id}"), Some(&t), Some(&json!({"timezone": "Nowhere"})))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let disabled =
        s.ok("PATCH", &format!("/functions/job/schedules/{id}"), &t, Some(json!({"enabled": false})), 200).await;
    assert_eq!(disabled["next_run_at"], Value::Null);

    // Read-only roles read; they cannot change.
    let viewer = s.token("acme", &["viewer"]);
    s.ok("GET", &format!("/functions/job/schedules/{id}"), &viewer, None, 200).await;
    assert_eq!(s.call("DELETE", &format!("/functions/job/schedules/{id}"), Some(&viewer), None).await.status, 403);

    s.ok("DELETE", &format!("/functions/job/schedules/{id}"), &t, None, 204).await;
    assert_eq!(s.call("GET", &format!("/functions/job/schedules/{id}"), Some(&t), None).await.status, 404);
    assert_eq!(s.call("GET", "/functions/job/schedules/abc", Some(&t), None).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slot_fires_on_time_and_is_recorded() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["operator"]);
    s.create_function(&t, "tick", ECHO).await;
    let sched = s
        .ok(
            "POST",
            "/functions/tick/schedules",
            &t,
            Some(json!({"cron": "* * * * * *", "timezone": "Asia/Tokyo", "input": {"n": 1}})),
            201,
        )
        .await;
    let id = &sched["id"];
    tokio::time::sleep(Duration::from_millis(4500)).await;
    s.ok("PATCH", &format!("/functions/tick/schedules/{id}"), &t, Some(json!({"enabled": false})), 200).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut runs = runs(&s, &t, "tick", id).await;
    runs.reverse();
    assert!(runs.len() >= 3, "{runs:?}");
    let mut lags = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r["status"], "ran", "{r}");
        assert_eq!(r["execution_status"], "ok", "{r}");
        let lag = r["lag_ms"].as_f64().unwrap();
        lags.push(lag);
        // A slot fires within a second of its time.
        assert!((0.0..1000.0).contains(&lag), "slot {i} started {lag} ms late: {r}");
        if i > 0 {
            let gap = time(&r["slot_at"]) - time(&runs[i - 1]["slot_at"]);
            assert_eq!(gap, chrono::Duration::seconds(1), "consecutive slots: {runs:?}");
        }
    }
    eprintln!("cron lag (ms) per slot: {lags:?}");

    // The execution is a cron execution that saw its slot.
    let exec = s.ok("GET", &format!("/executions/{}", runs[0]["execution_id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!(exec["trigger"], "cron");
    assert_eq!(exec["output"]["cron"], "* * * * * *");
    assert_eq!(exec["output"]["tz"], "Asia/Tokyo");
    assert_eq!(exec["output"]["input"], json!({"n": 1}));
    assert_eq!(exec["output"]["trigger"], "cron");
    assert_eq!(exec["output"]["time"].as_i64().unwrap(), time(&runs[0]["slot_at"]).timestamp_millis());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_policies_skip_queue_and_allow() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["operator"]);
    let mut ids = HashMap::new();
    for policy in ["skip", "queue", "allow"] {
        s.create_function(&t, policy, SLOW).await;
        let body = json!({"cron": "* * * * * *", "overlap": policy, "input": {"ms": 2200}});
        ids.insert(
            policy,
            s.ok("POST", &format!("/functions/{policy}/schedules"), &t, Some(body), 201).await["id"].clone(),
        );
    }
    tokio::time::sleep(Duration::from_millis(5500)).await;
    for policy in ["skip", "queue", "allow"] {
        s.ok(
            "PATCH",
            &format!("/functions/{policy}/schedules/{}", ids[policy]),
            &t,
            Some(json!({"enabled": false})),
            200,
        )
        .await;
    }
    let count = |runs: &[Value], status: &str| runs.iter().filter(|r| r["status"] == status).count();

    let skip = runs(&s, &t, "skip", &ids["skip"]).await;
    assert!(count(&skip, "skipped") >= 2, "{skip:#?}");
    assert!(skip
        .iter()
        .filter(|r| r["status"] == "skipped")
        .all(|r| r["reason"] == "the previous run was still running"));
    assert!(count(&skip, "queued") == 0);

    let queue = runs(&s, &t, "queue", &ids["queue"]).await;
    assert!(count(&queue, "queued") >= 2, "{queue:#?}");
    assert_eq!(count(&queue, "skipped"), 0, "{queue:#?}");
    // Never two at once.
    assert!(count(&queue, "running") <= 1, "{queue:#?}");

    let allow = runs(&s, &t, "allow", &ids["allow"]).await;
    assert_eq!(count(&allow, "skipped") + count(&allow, "queued"), 0, "{allow:#?}");
    assert!(count(&allow, "running") >= 2, "runs overlap: {allow:#?}");

    // Queued slots run, one after the other, once the previous one ends.
    let queue = common::eventually(Duration::from_secs(30), "a queued slot to run", || async {
        let q = runs(&s, &t, "queue", &ids["queue"]).await;
        (q.iter().filter(|r| r["status"] == "ran").count() >= 2).then_some(q)
    })
    .await;
    let mut ran: Vec<&Value> = queue.iter().filter(|r| r["status"] == "ran").collect();
    ran.sort_by_key(|r| time(&r["slot_at"]));
    assert!(time(&ran[1]["fired_at"]) >= time(&ran[0]["finished_at"]), "{ran:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_missed_during_downtime_are_recorded_and_caught_up_once() {
    let env = Env::new().await;
    let grace = [("QUASM_CRON_GRACE_SECS", "1")];
    let s = Server::start(&env, &[], &grace).await;
    let t = s.token("acme", &["operator"]);
    s.create_function(&t, "skipper", ECHO).await;
    s.create_function(&t, "catcher", ECHO).await;
    let skip_id = s.ok("POST", "/functions/skipper/schedules", &t, Some(json!({"cron": "*/2 * * * * *"})), 201).await
        ["id"]
        .clone();
    let once_id = s
        .ok("POST", "/functions/catcher/schedules", &t, Some(json!({"cron": "*/2 * * * * *", "catch_up": "once"})), 201)
        .await["id"]
        .clone();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    s.stop().await;
    let down_from = Utc::now();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let down_to = Utc::now();
    let s = Server::start(&env, &[], &grace).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;

    let in_downtime = |r: &&Value| {
        let at = time(&r["slot_at"]);
        at > down_from + chrono::Duration::seconds(1) && at < down_to - chrono::Duration::seconds(1)
    };
    let skipped = runs(&s, &t, "skipper", &skip_id).await;
    let missed: Vec<&Value> = skipped.iter().filter(in_downtime).collect();
    assert!(missed.len() >= 2, "{skipped:#?}");
    assert!(missed.iter().all(|r| r["status"] == "missed" && r["execution_id"].is_null()), "{skipped:#?}");

    let caught = runs(&s, &t, "catcher", &once_id).await;
    let during: Vec<&Value> = caught.iter().filter(in_downtime).collect();
    let ran: Vec<&&Value> = during.iter().filter(|r| r["status"] == "ran").collect();
    assert_eq!(ran.len(), 1, "exactly one catch-up run: {caught:#?}");
    assert!(ran[0]["reason"].as_str().unwrap().contains("catch-up"), "{caught:#?}");
    assert_eq!(during.iter().filter(|r| r["status"] == "missed").count(), during.len() - 1, "{caught:#?}");
    // Slots after the restart run normally again.
    assert!(caught.iter().any(|r| time(&r["slot_at"]) > down_to && r["status"] == "ran"), "{caught:#?}");
}

/// Three nodes share the database; one is killed with SIGKILL midway.
/// Every slot is recorded once, and each ran exactly once to success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_run_each_slot_exactly_once_despite_a_kill() {
    let env = Env::new().await;
    let lease = [("QUASM_NODE_LEASE_SECS", "2")];
    let a = Server::start(&env, &[], &lease).await;
    let b = Server::start(&env, &[], &lease).await;
    let c = Server::start(&env, &[], &lease).await;
    let t = a.token("acme", &["operator"]);
    a.create_function(&t, "beat", SLOW).await;
    let id = a
        .ok(
            "POST",
            "/functions/beat/schedules",
            &t,
            Some(json!({"cron": "* * * * * *", "overlap": "allow", "input": {"ms": 300}})),
            201,
        )
        .await["id"]
        .clone();
    let first = Utc::now();
    tokio::time::sleep(Duration::from_millis(3300)).await;
    b.signal(libc::SIGKILL);
    tokio::time::sleep(Duration::from_secs(6)).await;
    a.ok("PATCH", &format!("/functions/beat/schedules/{id}"), &t, Some(json!({"enabled": false})), 200).await;
    let last = Utc::now();
    // Slots taken over from the dead node finish within a lease or two.
    let runs = common::eventually(Duration::from_secs(20), "every slot to finish", || async {
        let r = runs(&c, &t, "beat", &id).await;
        r.iter().all(|r| r["status"] == "ran").then_some(r)
    })
    .await;

    let mut slots: Vec<DateTime<Utc>> = runs.iter().map(|r| time(&r["slot_at"])).collect();
    slots.sort();
    assert!(slots.len() >= 8, "{runs:#?}");
    assert!(slots[0] <= first + chrono::Duration::seconds(2), "first slot {} (created {first})", slots[0]);
    assert!(*slots.last().unwrap() >= last - chrono::Duration::seconds(2));
    for w in slots.windows(2) {
        assert_eq!(w[1] - w[0], chrono::Duration::seconds(1), "a slot was lost or doubled: {slots:?}");
    }
    // Each slot ran to success exactly once; an execution cut short by the
    // kill is marked as lost, never as a second success.
    let db = env.db().await;
    let rows = db
        .query("SELECT trigger_ref, status, error->>'name' FROM executions WHERE trigger = 'cron'", &[])
        .await
        .unwrap();
    let mut ok_per_slot: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        let (slot, status, error): (String, String, Option<String>) = (r.get(0), r.get(1), r.get(2));
        if status == "ok" {
            *ok_per_slot.entry(slot).or_default() += 1;
        } else {
            assert!(
                status == "running" || error.as_deref() == Some("NodeLost"),
                "unexpected execution {slot} {status} {error:?}"
            );
        }
    }
    assert_eq!(ok_per_slot.len(), slots.len(), "{ok_per_slot:#?}");
    assert!(ok_per_slot.values().all(|n| *n == 1), "a slot ran twice: {ok_per_slot:#?}");
    // The nodes shared the work.
    let nodes: i64 = db.query_one("SELECT count(DISTINCT node_id) FROM schedule_runs", &[]).await.unwrap().get(0);
    assert!(nodes >= 2, "slots were claimed by {nodes} node(s)");
}
