//! The web console's server side: `GET /api/v1/stats` (the home page's
//! figures, tenant-scoped), `GET /api/v1/whoami`, and the console's pages
//! served at `/` and the app's routes while other paths stay API 404s.
//! (The browser flows are ui/tests/, run by scripts/test.sh.)

mod common;

use common::Server;
use serde_json::json;

const CODE: &str = r#"export default {
  async run(input) { if (input && input.fail) throw new Error("boom"); return { ok: true }; },
};"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_the_last_day_of_the_tenant() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    let v = s.token("acme", &["viewer"]);

    let empty = s.ok("GET", "/stats", &v, None, 200).await;
    assert_eq!(empty["runs_by_status"]["ok"], 0, "{empty}");
    assert_eq!(empty["runs_by_status"]["error"], 0, "every status is listed: {empty}");
    assert_eq!((&empty["failing_functions"], &empty["next_scheduled_runs"]), (&json!([]), &json!([])));
    assert_eq!(empty["dead_letters_waiting"], 0);

    s.create_function(&t, "f", CODE).await;
    s.create_function(&t, "g", CODE).await;
    for input in [json!({}), json!({}), json!({"fail": true})] {
        // A failing run answers with its error; the record is what counts.
        s.call("POST", "/functions/f/invoke", Some(&t), Some(&json!({ "input": input }))).await;
    }
    s.ok("POST", "/functions/g/invoke", &t, Some(json!({})), 200).await;
    let sched = s
        .ok("POST", "/functions/g/schedules", &t, Some(json!({"cron": "0 3 * * *", "timezone": "Europe/Paris"})), 201)
        .await;

    let st = common::eventually(std::time::Duration::from_secs(10), "the executions recorded", || {
        let s = &s;
        let v = v.clone();
        async move {
            let st = s.ok("GET", "/stats", &v, None, 200).await;
            (st["runs_by_status"]["ok"] == 3 && st["runs_by_status"]["error"] == 1).then_some(st)
        }
    })
    .await;
    let failing = st["failing_functions"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "{st}");
    assert_eq!(
        (&failing[0]["function"], &failing[0]["failures"], &failing[0]["runs"]),
        (&json!("f"), &json!(1), &json!(3))
    );
    let last = failing[0]["last_execution_id"].as_str().unwrap();
    assert_eq!(s.ok("GET", &format!("/executions/{last}"), &v, None, 200).await["status"], "error");
    let next = st["next_scheduled_runs"].as_array().unwrap();
    assert_eq!(next.len(), 1, "{st}");
    assert_eq!(
        (&next[0]["function"], &next[0]["schedule_id"], &next[0]["timezone"]),
        (&json!("g"), &sched["id"], &json!("Europe/Paris"))
    );
    assert_eq!(next[0]["at"], sched["next_run_at"], "the schedule's own next slot");

    // Another tenant's figures are its own.
    let other = s.ok("GET", "/stats", &s.token("other", &["viewer"]), None, 200).await;
    assert_eq!((&other["runs_by_status"]["ok"], &other["failing_functions"]), (&json!(0), &json!([])));

    let me = s.ok("GET", "/whoami", &v, None, 200).await;
    assert_eq!(me, json!({"tenant": "acme", "subject": "cli", "roles": ["viewer"], "role": "viewer"}));
    let r = s.call("GET", "/stats", None, None).await;
    assert_eq!((r.status, r.code()), (401, "missing_credentials"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_answers_its_pages_and_nothing_else() {
    let s = Server::new(&[]).await;
    // Every page of the console's navigation (ui/src/App.tsx, NAV) can be
    // reloaded or bookmarked, and so can a page below one.
    let app = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/App.tsx")).unwrap();
    let nav: Vec<String> = app
        .lines()
        .filter_map(|l| l.trim().strip_prefix("[\"/"))
        .filter_map(|rest| rest.split('"').next().map(|p| format!("/{p}")))
        .collect();
    assert!(nav.len() >= 9 && nav.iter().any(|p| p == "/webhooks"), "{nav:?}");
    let deep = ["/functions/f/versions", "/executions?status=error", "/webhooks/3"];
    for p in nav.iter().map(String::as_str).chain(deep) {
        let r = s.send(s.request("GET", p)).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"), "{p}");
        assert!(r.text.contains("Quasm"), "{p}: {}", r.text);
    }
    // Built or not, `/` is HTML that either is the app or says how to build it.
    let home = s.send(s.request("GET", "/")).await;
    assert!(home.text.contains("id=\"app\"") || home.text.contains("npm run build"), "{}", home.text);
    for p in ["/nope", "/assets/missing-123.js", "/api/v2/functions"] {
        let r = s.send(s.request("GET", p)).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{p}: {}", r.text);
    }
    let r = s.send(s.request("POST", "/functions")).await;
    assert_eq!(r.status, 404, "only GET and HEAD reach the console");
}
