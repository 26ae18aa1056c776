//! Acceptance tests: the real Terraform CLI drives this provider against a
//! live `quasm serve`. Shaped like the Cloudflare provider's: for each
//! resource, create → empty second plan → update in place (or replace
//! where the API has no update) → import into an empty state with a clean
//! plan → drift made through the API shows in the plan → deletion outside
//! Terraform plans a create → destroy.

mod common;

use common::{Quasm, Workspace, TENANT};
use serde_json::json;

fn code(version: u32) -> String {
    format!(
        r#"export default {{
  async run(input, env, ctx) {{
    return {{ version: {version}, greeting: env.GREETING ?? null, secret: env.API_TOKEN ?? null }};
  }},
  async fetch(request, env, ctx) {{
    return new Response("v{version} over http");
  }},
}};
"#
    )
}

const FUNCTION_V1: &str = r#"
resource "quasm_function" "export" {
  name        = "nightly-export"
  code        = file("export.js")
  description = "Nightly export"
  tags        = ["batch", "export"]
  env         = { GREETING = "hello" }
  secrets     = { API_TOKEN = "s3cr3t-token-value" }
  limits {
    timeout_ms = 5000
  }
}

data "quasm_function" "export" {
  name = quasm_function.export.name
}

data "quasm_functions" "batch" {
  tag        = "batch"
  depends_on = [quasm_function.export]
}

output "live_sha" {
  value = data.quasm_function.export.code_sha256
}

output "batch_names" {
  value = data.quasm_functions.batch.names
}
"#;

async fn invoke(q: &Quasm, name: &str) -> serde_json::Value {
    q.ok("POST", &format!("/functions/{name}/invoke"), Some(json!({ "input": {} }))).await["output"].clone()
}

#[tokio::test]
async fn function_lifecycle() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.write("export.js", &code(1));
    ws.config(FUNCTION_V1);

    // Create; the second plan is empty; secrets never show in plan output.
    let plan = ws.assert_plan_changes();
    assert!(!plan.contains("s3cr3t-token-value"), "a secret in the plan:\n{plan}");
    assert!(plan.contains("(sensitive value)"), "{plan}");
    let applied = ws.apply();
    assert!(!applied.stdout.contains("s3cr3t-token-value"));
    ws.assert_plan_empty();
    let f = q.ok("GET", "/functions/nightly-export", None).await;
    assert_eq!(f["description"], "Nightly export");
    assert_eq!(f["tags"], json!(["batch", "export"]));
    assert_eq!(f["secrets"], json!(["API_TOKEN"]));
    assert_eq!(f["limits"]["timeout_ms"], 5000);
    assert_eq!(f["live_version"], 1);
    assert_eq!(
        invoke(&q, "nightly-export").await,
        json!({"version": 1, "greeting": "hello", "secret": "s3cr3t-token-value"})
    );
    let v1 = q.ok("GET", "/functions/nightly-export/versions/1", None).await;
    assert_eq!(ws.state_attr("quasm_function.export", "code_sha256"), v1["content_hash"]);
    let out = ws.tf(&["output", "-json"]);
    let out: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(out["live_sha"]["value"], v1["content_hash"], "data source quasm_function");
    assert_eq!(out["batch_names"]["value"], json!(["nightly-export"]), "data source quasm_functions");

    // Update in place: new code deploys a new version the invoke API runs.
    ws.write("export.js", &code(2));
    ws.config(&FUNCTION_V1.replace("\"Nightly export\"", "\"Nightly export v2\"").replace("\"hello\"", "\"hi\""));
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("will be updated in-place"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let f = q.ok("GET", "/functions/nightly-export", None).await;
    assert_eq!(f["live_version"], 2);
    assert_eq!(f["description"], "Nightly export v2");
    let versions = q.ok("GET", "/functions/nightly-export/versions", None).await;
    assert!(versions.to_string().contains("\"terraform\""), "version message: {versions}");
    assert_eq!(invoke(&q, "nightly-export").await["version"], 2);
    assert_eq!(invoke(&q, "nightly-export").await["greeting"], "hi");
    assert_eq!(ws.state_attr("quasm_function.export", "version"), 2);

    // Drift: settings and code changed through the API show in the plan and
    // apply puts them back.
    q.ok(
        "PATCH",
        "/functions/nightly-export",
        Some(json!({"description": "changed by hand", "limits": {"timeout_ms": 30000}})),
    )
    .await;
    q.ok("POST", "/functions/nightly-export/versions", Some(json!({"code": code(9), "message": "hotfix"}))).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("changed by hand"), "{plan}");
    assert!(plan.contains("v9 over http") || plan.contains("version: 9"), "code drift in the plan:\n{plan}");
    assert!(plan.contains("timeout_ms"), "limits drift:\n{plan}");
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(invoke(&q, "nightly-export").await["version"], 2);
    let f = q.ok("GET", "/functions/nightly-export", None).await;
    assert_eq!(f["limits"]["timeout_ms"], 5000);

    // A secret deleted outside Terraform is planned back.
    q.ok("PATCH", "/functions/nightly-export", Some(json!({"secrets": {"API_TOKEN": null}}))).await;
    ws.assert_plan_changes();
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(invoke(&q, "nightly-export").await["secret"], "s3cr3t-token-value");

    // Import into an empty state: the plan is clean except the write-only
    // secret values, which the API never returns.
    let ws2 = q.workspace();
    ws2.write("export.js", &code(2));
    ws2.config(&FUNCTION_V1.replace("\"Nightly export\"", "\"Nightly export v2\"").replace("\"hello\"", "\"hi\""));
    ws2.import("quasm_function.export", "nightly-export");
    let plan = ws2.assert_plan_changes();
    assert!(plan.contains("secrets") && !plan.contains("s3cr3t"), "{plan}");
    assert!(plan.contains("1 to change"), "{plan}");
    let ws3 = q.workspace();
    ws3.write("export.js", &code(2));
    ws3.config(
        &FUNCTION_V1
            .replace("\"Nightly export\"", "\"Nightly export v2\"")
            .replace("\"hello\"", "\"hi\"")
            .replace("  secrets     = { API_TOKEN = \"s3cr3t-token-value\" }\n", ""),
    );
    ws3.import("quasm_function.export", "nightly-export");
    let plan = ws3.plan();
    // Without `secrets` in the configuration, the secret the server has is
    // planned for deletion; everything else matches.
    assert!(plan.stdout.contains("secrets"), "{}", plan.all());
    assert!(!plan.stdout.lines().any(|l| l.trim_start().starts_with("~ code")), "{}", plan.all());
    assert!(plan.stdout.contains("1 to change"), "{}", plan.all());

    // Deleted outside Terraform: planned for creation again.
    q.ok("DELETE", "/functions/nightly-export", None).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("will be created"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(invoke(&q, "nightly-export").await["version"], 2);

    // Destroy.
    ws.destroy();
    let (status, _) = q.api("GET", "/functions/nightly-export", None).await;
    assert_eq!(status, 404);
}

const ROUTE: &str = r#"
resource "quasm_function" "hook" {
  name = "webhook"
  code = file("hook.js")
}

resource "quasm_route" "hook" {
  function = quasm_function.hook.name
  method   = "POST"
  path     = "/hooks/:source"
  auth     = "AUTH"
}
"#;

#[tokio::test]
async fn route_lifecycle() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.write("hook.js", &code(1));
    ws.config(&ROUTE.replace("AUTH", "public"));
    ws.apply();
    ws.assert_plan_empty();
    let (status, body) = q.fetch("POST", &format!("/fn/{TENANT}/hooks/github")).await;
    assert_eq!((status, body.as_str()), (200, "v1 over http"));

    // No update in the API: a change replaces the route.
    ws.config(&ROUTE.replace("AUTH", "jwt"));
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("must be replaced") && plan.contains("forces replacement"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let (status, _) = q.fetch("POST", &format!("/fn/{TENANT}/hooks/github")).await;
    assert_eq!(status, 401, "the jwt route refuses an anonymous call");

    // Import into an empty state.
    let id = ws.state_attr("quasm_route.hook", "id");
    let ws2 = q.workspace();
    ws2.write("hook.js", &code(1));
    ws2.config(&ROUTE.replace("AUTH", "jwt"));
    ws2.import("quasm_function.hook", "webhook");
    ws2.import("quasm_route.hook", id.as_str().unwrap());
    ws2.assert_plan_empty();

    // Deleted outside Terraform, then destroy.
    q.ok("DELETE", &format!("/routes/{}", id.as_str().unwrap()), None).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("quasm_route.hook will be created"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();

    // strip_prefix defaults to false; setting it replaces the route.
    assert_eq!(ws.state_attr("quasm_route.hook", "strip_prefix"), json!(false));
    ws.config(&ROUTE.replace("\"AUTH\"", "\"jwt\"\n  strip_prefix = true"));
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("forces replacement"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let routes = q.ok("GET", "/routes", None).await;
    assert_eq!(routes["routes"][0]["strip_prefix"], json!(true), "{routes}");
    ws.destroy();
    let routes = q.ok("GET", "/routes", None).await;
    assert_eq!(routes["routes"], json!([]));
}

const SCHEDULE: &str = r#"
resource "quasm_function" "export" {
  name = "nightly-export"
  code = file("export.js")
}

resource "quasm_schedule" "nightly" {
  function = quasm_function.export.name
  cron     = "CRON"
  timezone = "Europe/Berlin"
  input    = jsonencode({ full = true, tables = ["orders", "users"] })
  overlap  = "queue"
}
"#;

#[tokio::test]
async fn schedule_lifecycle() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.write("export.js", &code(1));
    ws.config(&SCHEDULE.replace("CRON", "0 0 * * *"));
    ws.apply();
    ws.assert_plan_empty();
    let id = ws.state_attr("quasm_schedule.nightly", "id");
    let id = id.as_str().unwrap();
    let s = q.ok("GET", &format!("/functions/nightly-export/schedules/{id}"), None).await;
    assert_eq!(s["timezone"], "Europe/Berlin");
    assert_eq!(s["input"], json!({"full": true, "tables": ["orders", "users"]}));
    assert_eq!(s["overlap"], "queue");

    // Update in place.
    ws.config(&SCHEDULE.replace("CRON", "30 1 * * MON-FRI"));
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("updated in-place"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(ws.state_attr("quasm_schedule.nightly", "id"), id, "same schedule");
    let s = q.ok("GET", &format!("/functions/nightly-export/schedules/{id}"), None).await;
    assert_eq!(s["cron"], "30 1 * * MON-FRI");

    // Drift through the API: an attribute left out of the configuration
    // (enabled) and one in it (input, changed in meaning).
    q.ok(
        "PATCH",
        &format!("/functions/nightly-export/schedules/{id}"),
        Some(json!({"enabled": false, "input": {"full": false}})),
    )
    .await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("enabled") && plan.contains("input"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let s = q.ok("GET", &format!("/functions/nightly-export/schedules/{id}"), None).await;
    assert_eq!(s["enabled"], true);
    assert_eq!(s["input"]["full"], true);

    // Import by function/id into an empty state.
    let ws2 = q.workspace();
    ws2.write("export.js", &code(1));
    ws2.config(&SCHEDULE.replace("CRON", "30 1 * * MON-FRI"));
    ws2.import("quasm_function.export", "nightly-export");
    ws2.import("quasm_schedule.nightly", &format!("nightly-export/{id}"));
    ws2.assert_plan_empty();

    // Deleted outside Terraform, then destroy.
    q.ok("DELETE", &format!("/functions/nightly-export/schedules/{id}"), None).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("quasm_schedule.nightly will be created"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    ws.destroy();
    let (status, _) = q.api("GET", "/functions/nightly-export", None).await;
    assert_eq!(status, 404);
}

const SUBSCRIPTION: &str = r#"
resource "quasm_function" "handler" {
  name = "on-payment"
  code = file("handler.js")
}

resource "quasm_subscription" "gold" {
  function     = quasm_function.handler.name
  event_type   = "payment.*"
  filter       = jsonencode(FILTER)
  max_attempts = ATTEMPTS
  backoff {
    initial_ms = 500
  }
}
"#;

fn subscription(filter: &str, attempts: u32) -> String {
    SUBSCRIPTION.replace("FILTER", filter).replace("ATTEMPTS", &attempts.to_string())
}

#[tokio::test]
async fn subscription_lifecycle() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.write("handler.js", &code(1));
    ws.config(&subscription(r#"{ "customer.tier" = "gold" }"#, 3));
    ws.apply();
    // The server nests the dotted key; that is not a diff.
    ws.assert_plan_empty();
    let id = ws.state_attr("quasm_subscription.gold", "id");
    let id = id.as_str().unwrap().to_owned();
    let s = q.ok("GET", &format!("/subscriptions/{id}"), None).await;
    assert_eq!(s["filter"], json!({"customer": {"tier": "gold"}}));
    assert_eq!(s["backoff"], json!({"initial_ms": 500, "max_ms": 60000}));

    // The same filter written nested: a state-only change, no replacement.
    ws.config(&subscription(r#"{ customer = { tier = "gold" } }"#, 3));
    let plan = ws.plan();
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.all());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(ws.state_attr("quasm_subscription.gold", "id"), id.as_str());

    // No update in the API: a real change replaces the subscription.
    ws.config(&subscription(r#"{ customer = { tier = "gold" } }"#, 7));
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("must be replaced"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let new_id = ws.state_attr("quasm_subscription.gold", "id").as_str().unwrap().to_owned();
    assert_ne!(new_id, id);
    let s = q.ok("GET", &format!("/subscriptions/{new_id}"), None).await;
    assert_eq!(s["max_attempts"], 7);

    // Import by id into an empty state.
    let ws2 = q.workspace();
    ws2.write("handler.js", &code(1));
    ws2.config(&subscription(r#"{ customer = { tier = "gold" } }"#, 7));
    ws2.import("quasm_function.handler", "on-payment");
    ws2.import("quasm_subscription.gold", &new_id);
    ws2.assert_plan_empty();

    // Deleted outside Terraform (the API's only change), then destroy.
    q.ok("DELETE", &format!("/subscriptions/{new_id}"), None).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("quasm_subscription.gold will be created"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    ws.destroy();
    let subs = q.ok("GET", "/subscriptions", None).await;
    assert_eq!(subs["subscriptions"], json!([]));
}

const KEY_AND_ALERT: &str = r#"
resource "quasm_function" "export" {
  name = "nightly-export"
  code = file("export.js")
}

resource "quasm_alert_rule" "failures" {
  name              = "export-failures"
  function          = quasm_function.export.name
  on_failure        = true
  min_interval_secs = INTERVAL
  channel {
    type = "slack"
    url  = "https://hooks.slack.com/services/T000/B000/XXXX"
  }
}

resource "quasm_api_key" "host" {
  name  = "KEYNAME"
  roles = ["developer"]
}

output "key" {
  value     = quasm_api_key.host.key
  sensitive = true
}
"#;

fn key_and_alert(interval: u32, key_name: &str) -> String {
    KEY_AND_ALERT.replace("INTERVAL", &interval.to_string()).replace("KEYNAME", key_name)
}

#[tokio::test]
async fn api_key_and_alert_rule_lifecycle() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.write("export.js", &code(1));
    ws.config(&key_and_alert(600, "host-service"));
    let applied = ws.apply();
    ws.assert_plan_empty();

    // The key works and never shows in plain output.
    let out = ws.tf(&["output", "-raw", "key"]);
    let key = out.stdout.trim().to_owned();
    assert!(key.starts_with("qk_"), "{}", out.all());
    assert!(!applied.stdout.contains(&key));
    let (status, _) = q.api_as(&key, "GET", "/functions", None).await;
    assert_eq!(status, 200, "the new API key is accepted");
    let key_id = ws.state_attr("quasm_api_key.host", "id").as_str().unwrap().to_owned();
    let rule_id = ws.state_attr("quasm_alert_rule.failures", "id").as_str().unwrap().to_owned();
    let rule = q.ok("GET", &format!("/alerts/{rule_id}"), None).await;
    assert_eq!(rule["min_interval_secs"], 600);
    assert_eq!(rule["on_failure"], true);

    // Alert rule: update in place; API key: a change replaces the key.
    ws.config(&key_and_alert(60, "host-service-2"));
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("quasm_alert_rule.failures will be updated in-place"), "{plan}");
    assert!(plan.contains("quasm_api_key.host must be replaced"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(ws.state_attr("quasm_alert_rule.failures", "id"), rule_id.as_str());
    let (status, _) = q.api_as(&key, "GET", "/functions", None).await;
    assert_eq!(status, 401, "the replaced key is revoked");
    let key_id = {
        let new = ws.state_attr("quasm_api_key.host", "id").as_str().unwrap().to_owned();
        assert_ne!(new, key_id);
        new
    };

    // Drift on the alert rule.
    q.ok("PATCH", &format!("/alerts/{rule_id}"), Some(json!({"enabled": false, "on_recovery": true}))).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("enabled") && plan.contains("on_recovery"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();

    // Import both into an empty state: clean, except the key's secret,
    // which only the creation answer carried.
    let ws2 = q.workspace();
    ws2.write("export.js", &code(1));
    ws2.config(&key_and_alert(60, "host-service-2"));
    ws2.import("quasm_function.export", "nightly-export");
    ws2.import("quasm_alert_rule.failures", &rule_id);
    ws2.import("quasm_api_key.host", &key_id);
    ws2.assert_plan_empty();

    // Deleted outside Terraform: both planned for creation.
    q.ok("DELETE", &format!("/alerts/{rule_id}"), None).await;
    q.ok("DELETE", &format!("/api-keys/{key_id}"), None).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("quasm_alert_rule.failures will be created"), "{plan}");
    assert!(plan.contains("quasm_api_key.host will be created"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    ws.destroy();
    let alerts = q.ok("GET", "/alerts", None).await;
    assert_eq!(alerts["alerts"].as_array().map(|a| a.len()).unwrap_or(0), 0, "{alerts}");
}

#[tokio::test]
async fn plan_time_validation_points_at_the_attribute() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.write("ok.js", &code(1));
    ws.write("broken.js", "export default {\n  run() {\n    return 1 +;\n  },\n};\n");
    let base = r#"
resource "quasm_function" "ok" {
  name = "ok"
  code = file("ok.js")
}
"#;
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "bad cron",
            r#"resource "quasm_schedule" "s" {
  function = quasm_function.ok.name
  cron     = "0 25 * * *"
}"#
            .into(),
            &["Invalid cron expression", "hour field", "quasm_schedule.s", "cron"],
        ),
        (
            "bad time zone",
            r#"resource "quasm_schedule" "s" {
  function = quasm_function.ok.name
  cron     = "0 0 * * *"
  timezone = "Mars/Olympus"
}"#
            .into(),
            &["Invalid time zone", "Mars/Olympus", "timezone"],
        ),
        (
            "unknown role",
            r#"resource "quasm_api_key" "k" {
  name  = "k"
  roles = ["developer", "superuser"]
}"#
            .into(),
            &["superuser", "roles"],
        ),
        (
            "bad route path",
            r#"resource "quasm_route" "r" {
  function = quasm_function.ok.name
  path     = "/orders/{id}"
  auth     = "public"
}"#
            .into(),
            &["Invalid route path", "path", ":name"],
        ),
    ];
    for (what, body, wants) in cases {
        ws.config(&format!("{base}\n{body}"));
        let out = ws.assert_plan_fails();
        for want in wants {
            assert!(out.contains(want), "{what}: {want:?} missing in:\n{out}");
        }
        // Terraform prints the attribute the diagnostic points at.
        assert!(out.contains("on main.tf line"), "{what}: no source position:\n{out}");
    }

    // A syntax error in `code`: at plan time through the server's check
    // endpoint (`POST /api/v1/check`); a server without it reports the same
    // error, with line and column on `code`, when apply uploads the code.
    ws.config(&format!(
        "{base}\n{}",
        r#"resource "quasm_function" "broken" {
  name = "broken"
  code = file("broken.js")
}"#
    ));
    let (status, _) = q.api("POST", "/check", Some(json!({"code": "1"}))).await;
    let out = if status == 404 {
        eprintln!("this server has no POST /api/v1/check: checking the apply-time error instead");
        let r = ws.tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert_eq!(r.code, 1, "{}", r.all());
        r.all()
    } else {
        ws.assert_plan_fails()
    };
    assert!(out.contains("yntax error") && out.contains("line 3"), "{out}");
    assert!(out.contains("quasm_function.broken") && out.contains("code"), "{out}");
    let (status, _) = q.api("GET", "/functions/broken", None).await;
    assert_eq!(status, 404, "nothing was created");
}

#[tokio::test]
async fn provider_configuration_errors() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.write("ok.js", &code(1));
    ws.config(
        r#"resource "quasm_function" "ok" {
  name = "ok"
  code = file("ok.js")
}"#,
    );
    // No token anywhere.
    let r = ws.tf_env(&["plan", "-no-color", "-input=false"], &[("QUASM_URL", &q.base)]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("Missing `token`") && r.all().contains("QUASM_TOKEN"), "{}", r.all());
    // No endpoint anywhere.
    let r = ws.tf_env(&["plan", "-no-color", "-input=false"], &[("QUASM_TOKEN", &q.token)]);
    assert!(r.all().contains("Missing `endpoint`") && r.all().contains("QUASM_URL"), "{}", r.all());
    // A server that does not answer.
    let r = ws.tf_env(
        &["plan", "-no-color", "-input=false"],
        &[("QUASM_URL", "http://127.0.0.1:9"), ("QUASM_TOKEN", &q.token)],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("Quasm server unreachable"), "{}", r.all());
    // A token the server refuses.
    let r = ws.tf_env(&["plan", "-no-color", "-input=false"], &[("QUASM_URL", &q.base), ("QUASM_TOKEN", "nope")]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("refused the token"), "{}", r.all());
    // The provider block wins over the environment.
    let ws2 = Workspace::new("http://127.0.0.1:9", "nope");
    ws2.write("ok.js", &code(1));
    std::fs::write(
        ws2.path().join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    quasm = {{ source = \"quasm/quasm\" }}\n  }}\n}}\n\
             provider \"quasm\" {{\n  endpoint = \"{}\"\n  token = \"{}\"\n}}\n\
             resource \"quasm_function\" \"ok\" {{\n  name = \"ok\"\n  code = file(\"ok.js\")\n}}\n",
            q.base, q.token
        ),
    )
    .unwrap();
    let r = ws2.tf(&["plan", "-no-color", "-input=false", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

#[tokio::test]
async fn examples_are_valid() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut seen = 0;
    for dir in std::fs::read_dir(&examples).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let ws = Workspace::new("http://127.0.0.1:9", "unused");
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, ws.path().join(f.file_name().unwrap())).unwrap();
        }
        // `validate` checks the configuration against the provider's schema
        // and its plan-time rules (cron, zone, roles, paths) offline.
        let r = ws.tf(&["validate", "-no-color"]);
        assert_eq!(r.code, 0, "{}: {}", dir.display(), r.all());
        seen += 1;
    }
    assert_eq!(seen, 5, "the five examples");
}

const WEBHOOK: &str = r#"
resource "quasm_webhook" "audit" {
  url         = "https://crm.example.com/hooks/quasm"
  event_types = ["quasm.function.*", "order.paid"]
  description = "DESCRIPTION"
}

output "secret" {
  value     = quasm_webhook.audit.signing_secret
  sensitive = true
}
"#;

#[tokio::test]
async fn webhook_lifecycle() {
    let q = Quasm::start().await;
    let ws = q.workspace();
    ws.config(&WEBHOOK.replace("DESCRIPTION", "audit trail"));
    let applied = ws.apply();
    ws.assert_plan_empty();
    let id = ws.state_attr("quasm_webhook.audit", "id").as_str().unwrap().to_owned();
    let secret = ws.tf(&["output", "-raw", "secret"]).stdout.trim().to_owned();
    assert!(secret.starts_with("whsec_"), "the generated signing secret is in the state: {secret:?}");
    assert!(!applied.stdout.contains(&secret), "and never in plain output");
    let w = q.ok("GET", &format!("/webhooks/{id}"), None).await;
    assert_eq!(w["event_types"], json!(["quasm.function.*", "order.paid"]));
    assert_eq!((w["enabled"].as_bool(), w["description"].as_str()), (Some(true), Some("audit trail")));

    // Changed in place: same id, same secret.
    ws.config(&WEBHOOK.replace("DESCRIPTION", "CRM audit trail"));
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("quasm_webhook.audit will be updated in-place"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(ws.state_attr("quasm_webhook.audit", "id"), id.as_str());
    assert_eq!(ws.tf(&["output", "-raw", "secret"]).stdout.trim(), secret);
    assert_eq!(q.ok("GET", &format!("/webhooks/{id}"), None).await["description"], "CRM audit trail");

    // Drift made through the API shows, and is put back.
    q.ok("PATCH", &format!("/webhooks/{id}"), Some(json!({"enabled": false, "event_types": ["x.y"]}))).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("enabled") && plan.contains("order.paid"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let w = q.ok("GET", &format!("/webhooks/{id}"), None).await;
    assert_eq!((w["enabled"].as_bool(), &w["event_types"]), (Some(true), &json!(["quasm.function.*", "order.paid"])));

    // Imported into an empty state: a clean plan.
    let ws2 = q.workspace();
    ws2.config(&WEBHOOK.replace("DESCRIPTION", "CRM audit trail"));
    ws2.import("quasm_webhook.audit", &id);
    ws2.assert_plan_empty();

    // Deleted outside Terraform: planned for creation; destroy removes it.
    q.ok("DELETE", &format!("/webhooks/{id}"), None).await;
    let plan = ws.assert_plan_changes();
    assert!(plan.contains("quasm_webhook.audit will be created"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    ws.destroy();
    let hooks = q.ok("GET", "/webhooks", None).await;
    assert_eq!(hooks["webhooks"].as_array().map(|a| a.len()).unwrap_or(0), 0, "{hooks}");
}
