//! Public routes `/fn/{tenant}/{path}`: the function's Response as is
//! (status, headers, binary body), path parameters, route auth (public,
//! JWT of the tenant, API key of the tenant), API keys' life cycle, and
//! what callers see when a function fails or times out.

mod common;

use common::Server;
use serde_json::{json, Value};

const ITEMS: &str = r#"export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const body = JSON.stringify({ id: ctx.params?.id, method: request.method, path: url.pathname,
                                  q: url.searchParams.get("q"), caller: ctx.user?.id ?? null,
                                  trigger: ctx.trigger, agent: request.headers.get("x-test") });
    return new Response(body, { status: 201, headers: { "content-type": "application/json", "x-custom": "yes" } });
  },
};"#;

const ECHO: &str = r#"export default {
  async fetch(request) {
    const bytes = await request.arrayBuffer();
    return new Response(bytes, { headers: { "content-type": "application/octet-stream", "x-len": String(bytes.byteLength) } });
  },
};"#;

const WHOAMI: &str = r#"export default {
  async fetch(request, env, ctx) { return Response.json({ caller: ctx.user?.id ?? null, tenant: ctx.tenant }); },
};"#;

const THROWS: &str = r#"export default {
  async fetch() { throw new Error("db password is hunter2"); },
};"#;

const SLOW: &str = r#"export default {
  async fetch() { await new Promise(r => setTimeout(r, 5000)); return new Response("late"); },
  async run() { while (true) {} },
};"#;

const NO_RESPONSE: &str = r#"export default {
  async fetch() { return 42; },
};"#;

async fn route(s: &Server, token: &str, body: Value) -> Value {
    s.ok("POST", "/routes", token, Some(body), 201).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_return_the_functions_response() {
    let s = Server::new(&[]).await;
    let admin = s.token("shop", &["admin"]);
    for (name, code) in [("items", ITEMS), ("echo", ECHO), ("throws", THROWS), ("no-response", NO_RESPONSE)] {
        s.create_function(&admin, name, code).await;
    }
    let r = route(&s, &admin, json!({"path": "/items/:id", "function": "items", "auth": "public"})).await;
    assert_eq!(
        (r["path"].as_str(), r["function"].as_str(), r["auth"].as_str()),
        (Some("/items/:id"), Some("items"), Some("public"))
    );
    assert_eq!(r["method"], Value::Null, "any method");
    assert!(r["id"].is_i64());
    route(&s, &admin, json!({"method": "POST", "path": "/echo", "function": "echo", "auth": "public"})).await;
    route(&s, &admin, json!({"path": "/throws", "function": "throws", "auth": "public"})).await;
    route(&s, &admin, json!({"path": "/no-response", "function": "no-response", "auth": "public"})).await;
    let list = s.ok("GET", "/routes", &admin, None, 200).await;
    assert_eq!(list["routes"].as_array().unwrap().len(), 4, "{list}");

    // Status, custom header and body of the function's Response; params.
    let resp = s.http.get(s.url("/fn/shop/items/42?q=blue")).header("x-test", "e2e").send().await.unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-custom"], "yes");
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["id"], "42");
    assert_eq!(body["method"], "GET");
    assert_eq!(body["q"], "blue");
    assert_eq!(body["agent"], "e2e", "request headers reach the function");
    assert_eq!(body["trigger"], "http");
    assert_eq!(body["caller"], Value::Null, "a public route has no caller");
    assert!(body["path"].as_str().unwrap().ends_with("/items/42"), "{body}");
    // Any method reaches an any-method route.
    let resp = s.http.delete(s.url("/fn/shop/items/7")).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((body["id"].as_str(), body["method"].as_str()), (Some("7"), Some("DELETE")));

    // Binary round trip: every byte value, and a larger blob.
    let bytes: Vec<u8> = (0..=255u8).collect();
    let resp = s.http.post(s.url("/fn/shop/echo")).body(bytes.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-len"], "256");
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);
    let big: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let resp = s.http.post(s.url("/fn/shop/echo")).body(big.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let back = resp.bytes().await.unwrap();
    assert_eq!(back.len(), big.len());
    assert!(back.to_vec() == big, "the 300 kB body differs after the round trip");
    // The echo route is POST only.
    let r = s.send(s.request("GET", "/fn/shop/echo")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);

    // Unknown routes and tenants: 404 JSON.
    for path in ["/fn/shop/nothing-here", "/fn/shop", "/fn/shop/", "/fn/nobody/items/42", "/fn/shop/items/42/more"] {
        let r = s.send(s.request("GET", path)).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.code(), "not_found", "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert!(r.message().starts_with("no route for GET "), "{path}: {}", r.message());
    }

    // A function that throws: 500 without the error's message or stack.
    let r = s.send(s.request("GET", "/fn/shop/throws")).await;
    assert_eq!((r.status, r.code()), (500, "function_error"), "{}", r.text);
    assert!(!r.text.contains("hunter2"), "the error message leaks to the caller: {}", r.text);
    assert!(!r.text.contains("throws.js"), "the stack leaks to the caller: {}", r.text);
    assert_eq!(r.body["error"]["details"]["status"], "error");
    // ... but the tenant sees it in the history.
    let id = r.body["error"]["details"]["execution_id"].as_str().expect("execution id").to_owned();
    let e = s.wait_execution(&admin, &id).await;
    assert_eq!(e["status"], "error");
    assert_eq!(e["error"]["message"], "db password is hunter2");
    assert_eq!(e["trigger"], "http");

    // A fetch handler that returns no Response.
    let r = s.send(s.request("GET", "/fn/shop/no-response")).await;
    assert_eq!((r.status, r.code()), (500, "function_error"), "{}", r.text);
    assert!(!r.text.contains("must return a Response"), "{}", r.text);

    // Deleting a route makes it unreachable.
    let items_id = list["routes"].as_array().unwrap().iter().find(|r| r["path"] == "/items/:id").unwrap()["id"].clone();
    s.ok("DELETE", &format!("/routes/{items_id}"), &admin, None, 204).await;
    let r = s.send(s.request("GET", "/fn/shop/items/42")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let r = s.call("DELETE", &format!("/routes/{items_id}"), Some(&admin), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "deleting twice: {}", r.text);
    // A duplicate route conflicts, and so does an ambiguous one.
    let r = s
        .call("POST", "/routes", Some(&admin), Some(&json!({"path": "/throws", "function": "echo", "auth": "public"})))
        .await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.text);
    route(&s, &admin, json!({"path": "/things/:id", "function": "items", "auth": "public"})).await;
    let r = s
        .call(
            "POST",
            "/routes",
            Some(&admin),
            Some(&json!({"path": "/things/:name", "function": "echo", "auth": "public"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.text);
    // The same path for another method is fine.
    route(&s, &admin, json!({"method": "PUT", "path": "/echo", "function": "items", "auth": "public"})).await;
    let resp = s.http.put(s.url("/fn/shop/echo")).send().await.unwrap();
    assert_eq!(resp.status(), 201, "PUT goes to items");
    let resp = s.http.post(s.url("/fn/shop/echo")).body("still echo").send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "still echo");

    // Repeated response headers (cookies) arrive one by one.
    let cookies = r#"export default {
  async fetch() {
    const h = new Headers();
    h.append("set-cookie", "a=1; Path=/");
    h.append("set-cookie", "b=2; Path=/; HttpOnly");
    return new Response(null, { status: 204, headers: h });
  },
};"#;
    s.create_function(&admin, "cookies", cookies).await;
    route(&s, &admin, json!({"path": "/cookies", "function": "cookies", "auth": "public"})).await;
    let resp = s.http.get(s.url("/fn/shop/cookies")).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let set: Vec<&str> = resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(set, ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);

    // Deleting a function takes its routes with it.
    s.ok("DELETE", "/functions/cookies", &admin, None, 204).await;
    let r = s.send(s.request("GET", "/fn/shop/cookies")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    let list = s.ok("GET", "/routes", &admin, None, 200).await;
    assert!(list["routes"].as_array().unwrap().iter().all(|r| r["path"] != "/cookies"), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_give_504() {
    let s = Server::new(&[]).await;
    let admin = s.token("shop", &["admin"]);
    let r = s
        .call(
            "POST",
            "/functions",
            Some(&admin),
            Some(&json!({"name": "slow", "code": SLOW, "limits": {"timeout_ms": 300}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["limits"]["timeout_ms"], 300);
    route(&s, &admin, json!({"path": "/slow", "function": "slow", "auth": "public"})).await;
    let started = std::time::Instant::now();
    let r = s.send(s.request("GET", "/fn/shop/slow")).await;
    assert_eq!((r.status, r.code()), (504, "function_timeout"), "{}", r.text);
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "the deadline was not enforced");
    assert_eq!(r.body["error"]["details"]["status"], "timeout");
    // The same over the invoke API: 200 with status timeout.
    let out = s.ok("POST", "/functions/slow/invoke", &admin, Some(json!({})), 200).await;
    assert_eq!(out["status"], "timeout", "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_auth_jwt_and_api_keys() {
    let s = Server::new(&[]).await;
    let admin = s.token("shop", &["admin"]);
    let viewer = s.token("shop", &["viewer"]);
    let other = s.token("rival", &["admin"]);
    s.create_function(&admin, "whoami", WHOAMI).await;
    route(&s, &admin, json!({"path": "/jwt", "function": "whoami", "auth": "jwt"})).await;
    route(&s, &admin, json!({"path": "/key", "function": "whoami", "auth": "api_key"})).await;

    // --- JWT route.
    let r = s.send(s.request("GET", "/fn/shop/jwt")).await;
    assert_eq!((r.status, r.code()), (401, "missing_credentials"), "{}", r.text);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = s.send(s.request("GET", "/fn/shop/jwt").bearer_auth(&viewer)).await;
    assert_eq!(r.status, 200, "any role of the tenant may call: {}", r.text);
    assert_eq!(r.body, json!({"caller": "cli", "tenant": "shop"}));
    let r = s.send(s.request("GET", "/fn/shop/jwt").bearer_auth(&other)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.text);
    assert!(r.message().contains("another tenant"), "{}", r.message());
    let r = s.send(s.request("GET", "/fn/shop/jwt").bearer_auth("not.a.jwt")).await;
    assert_eq!((r.status, r.code()), (401, "invalid_token"), "{}", r.text);

    // --- API keys: shown once.
    let created = s.ok("POST", "/api-keys", &admin, Some(json!({"name": "checkout", "roles": ["viewer"]})), 201).await;
    let key = created["key"].as_str().expect("the key is shown at creation").to_owned();
    let key_id = created["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("qk_{key_id}_")), "{key}");
    assert_eq!(created["name"], "checkout");
    assert_eq!(created["roles"], json!(["viewer"]));
    let secret = key.rsplit('_').next().unwrap().to_owned();
    let r = s.call("GET", "/api-keys", Some(&admin), None).await;
    assert_eq!(r.status, 200);
    let keys = r.body["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], key_id.as_str());
    assert_eq!(keys[0]["name"], "checkout");
    assert!(keys[0].get("key").is_none(), "the list never shows the key: {}", r.text);
    assert!(!r.text.contains(&secret), "the list never shows the secret: {}", r.text);

    // The key on its route, as X-API-Key or bearer.
    let r = s.send(s.request("GET", "/fn/shop/key").header("x-api-key", &key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"caller": format!("api-key:{key_id}"), "tenant": "shop"}));
    let r = s.send(s.request("GET", "/fn/shop/key").bearer_auth(&key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The wrong credential type for each route.
    let r = s.send(s.request("GET", "/fn/shop/key").bearer_auth(&admin)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "a JWT on an API-key route: {}", r.text);
    assert!(r.message().contains("API key"), "{}", r.message());
    let r = s.send(s.request("GET", "/fn/shop/jwt").header("x-api-key", &key)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "an API key on a JWT route: {}", r.text);
    let r = s.send(s.request("GET", "/fn/shop/key")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // A JWT whose subject looks like an API key's is still a JWT.
    let lookalike = common::sign_jwt(
        &s.env.hs256_key(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": format!("api-key:{key_id}"), "tenant": "shop", "roles": ["viewer"], "exp": common::now_secs() + 600}),
    );
    let r = s.send(s.request("GET", "/fn/shop/key").bearer_auth(&lookalike)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "a JWT posing as an API key: {}", r.text);
    let r = s.send(s.request("GET", "/fn/shop/key").header("x-api-key", &lookalike)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "a JWT in X-API-Key: {}", r.text);
    // A wrong secret for a real id.
    let forged = format!("qk_{key_id}_{}", "0".repeat(64));
    let r = s.send(s.request("GET", "/fn/shop/key").header("x-api-key", &forged)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.text);
    // The key also works on the API with its roles (viewer: read, no write).
    let r = s.send(s.request("GET", "/api/v1/functions").header("x-api-key", &key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.send(s.request("POST", "/api/v1/functions/whoami/invoke").header("x-api-key", &key)).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.text);
    // A key of another tenant is refused on this tenant's route.
    let rival_key = s.ok("POST", "/api-keys", &other, Some(json!({"name": "rival", "roles": ["admin"]})), 201).await
        ["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s.send(s.request("GET", "/fn/shop/key").header("x-api-key", &rival_key)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.text);
    assert!(r.message().contains("another tenant"), "{}", r.message());

    // The audit log names the key, never its secret.
    let audit = s.call("GET", "/audit", Some(&admin), None).await;
    assert!(audit.text.contains(&key_id) && !audit.text.contains(&secret), "{}", audit.text);

    // --- Revocation takes effect at once.
    s.ok("DELETE", &format!("/api-keys/{key_id}"), &admin, None, 204).await;
    let r = s.send(s.request("GET", "/fn/shop/key").header("x-api-key", &key)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "a revoked key: {}", r.text);
    let r = s.send(s.request("GET", "/api/v1/functions").header("x-api-key", &key)).await;
    assert_eq!(r.status, 401, "a revoked key on the API: {}", r.text);
    assert_eq!(s.ok("GET", "/api-keys", &admin, None, 200).await["api_keys"], json!([]));
    let r = s.call("DELETE", &format!("/api-keys/{key_id}"), Some(&admin), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);

    // An expired key is refused; one in the past cannot be created.
    let past = s
        .call(
            "POST",
            "/api-keys",
            Some(&admin),
            Some(&json!({"name": "old", "roles": ["viewer"], "expires_at": "2000-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (past.status, past.body["error"]["details"]["field"].as_str()),
        (400, Some("expires_at")),
        "{}",
        past.text
    );
    let expires = common::now_secs() + 3;
    let soon = rfc3339(expires);
    let k = s
        .ok("POST", "/api-keys", &admin, Some(json!({"name": "brief", "roles": ["viewer"], "expires_at": soon})), 201)
        .await;
    let brief = k["key"].as_str().unwrap().to_owned();
    let r = s.send(s.request("GET", "/fn/shop/key").header("x-api-key", &brief)).await;
    assert_eq!(r.status, 200, "valid until it expires: {}", r.text);
    // Until the expiry has passed (whole seconds) by a margin.
    let until = std::time::UNIX_EPOCH + std::time::Duration::from_millis(expires * 1000 + 300);
    if let Ok(d) = until.duration_since(std::time::SystemTime::now()) {
        tokio::time::sleep(d).await;
    }
    let r = s.send(s.request("GET", "/fn/shop/key").header("x-api-key", &brief)).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "an expired key: {}", r.text);
}

/// RFC 3339 (UTC) of a Unix time, without a date crate.
fn rfc3339(t: u64) -> String {
    let (days, rem) = (t / 86_400, t % 86_400);
    // Civil-from-days (Howard Hinnant).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Successful calls are recorded at the route's (else the function's)
/// sample rate, invokes at the function's; failures always.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_sampling() {
    let s = Server::new(&[]).await;
    let t = s.token("shop", &["admin"]);
    let code = r#"export default {
  async fetch(request) { if (new URL(request.url).searchParams.has("fail")) throw new Error("no"); return new Response("ok"); },
  async run() { return "ran"; },
};"#;
    let r = s
        .call("POST", "/functions", Some(&t), Some(&json!({"name": "quiet", "code": code, "success_sample_rate": 0.0})))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.create_function(&t, "loud", code).await;
    route(&s, &t, json!({"path": "/quiet", "function": "quiet", "auth": "public"})).await;
    route(
        &s,
        &t,
        json!({"path": "/loud-but-sampled", "function": "loud", "auth": "public", "success_sample_rate": 0.0}),
    )
    .await;
    route(&s, &t, json!({"path": "/loud", "function": "loud", "auth": "public"})).await;
    for path in ["/fn/shop/quiet", "/fn/shop/quiet", "/fn/shop/loud-but-sampled", "/fn/shop/loud"] {
        assert_eq!(s.send(s.request("GET", path)).await.status, 200, "{path}");
    }
    // A failure is always kept; records are written in order, so once it
    // shows, the successes before it have been decided.
    let r = s.send(s.request("GET", "/fn/shop/quiet?fail")).await;
    assert_eq!(r.status, 500);
    let failed = r.body["error"]["details"]["execution_id"].as_str().unwrap().to_owned();
    s.wait_execution(&t, &failed).await;
    let list = s.ok("GET", "/executions?trigger=http", &t, None, 200).await;
    let got: Vec<(&str, &str)> = list["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["function"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [("quiet", "error"), ("loud", "ok")], "only the failure and the fully sampled route are kept");
    // The invoke API samples successes as the function says and tells the
    // caller whether the id can be looked up; a fully sampled function's
    // invoke is fetchable at once.
    let out = s.ok("POST", "/functions/quiet/invoke", &t, Some(json!({})), 200).await;
    assert_eq!((out["output"].as_str(), out["recorded"].as_bool()), (Some("ran"), Some(false)), "{out}");
    let path = format!("/executions/{}", out["execution_id"].as_str().unwrap());
    assert_eq!(s.call("GET", &path, Some(&t), None).await.status, 404, "an unsampled success has no record");
    let out = s.ok("POST", "/functions/loud/invoke", &t, Some(json!({})), 200).await;
    assert_eq!(out["recorded"], true, "{out}");
    let e = s.ok("GET", &format!("/executions/{}", out["execution_id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!(e["output"], "ran");
}

/// The function's `request.url` carries the host the client asked for, over
/// HTTP/1.1 (Host) and HTTP/2 (:authority) alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_url_has_the_requested_host_over_http2() {
    let s = Server::new(&[]).await;
    let t = s.token("shop", &["admin"]);
    s.create_function(&t, "url", "export default { async fetch(request) { return new Response(request.url); } };")
        .await;
    route(&s, &t, json!({"path": "/url", "function": "url", "auth": "public"})).await;
    let want = format!("http://{}/fn/shop/url?x=1", s.addr);
    let h1 = s.http.get(s.url("/fn/shop/url?x=1")).send().await.unwrap();
    assert_eq!(h1.text().await.unwrap(), want, "HTTP/1.1");
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let resp = h2.get(s.url("/fn/shop/url?x=1")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.text().await.unwrap(), want, "HTTP/2");
}

/// A route with `strip_prefix` shows the function the URL a client of its
/// own domain would send (no `/fn/{tenant}`), so a Worker that routes on
/// `url.pathname` runs unchanged; the URL as received is `ctx.originalUrl`.
/// Other routes keep the full URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strip_prefix_presents_the_path_below_the_tenant() {
    let s = Server::new(&[]).await;
    let t = s.token("shop", &["admin"]);
    let worker = r#"export default {
      async fetch(request, env, ctx) {
        const url = new URL(request.url);
        if (url.pathname === "/api/orders/42") return Response.json({ url: request.url, original: ctx.originalUrl ?? null });
        return new Response("not found: " + url.pathname, { status: 404 });
      },
    };"#;
    s.create_function(&t, "worker", worker).await;
    let r =
        route(&s, &t, json!({"path": "/api/*", "function": "worker", "auth": "public", "strip_prefix": true})).await;
    assert_eq!(r["strip_prefix"], true);
    let plain = route(&s, &t, json!({"path": "/full/*", "function": "worker", "auth": "public"})).await;
    assert_eq!(plain["strip_prefix"], false, "the default keeps the full URL");

    let resp = s.http.get(s.url("/fn/shop/api/orders/42?x=1")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["url"], format!("http://{}/api/orders/42?x=1", s.addr));
    assert_eq!(body["original"], format!("http://{}/fn/shop/api/orders/42?x=1", s.addr));

    let resp = s.http.get(s.url("/fn/shop/full/api/orders/42")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.text().await.unwrap(), "not found: /fn/shop/full/api/orders/42");

    let bad = s
        .call(
            "POST",
            "/routes",
            Some(&t),
            Some(&json!({"path": "/x", "function": "worker", "auth": "public", "strip_prefix": "yes"})),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_request"), "{}", bad.text);
    assert!(bad.text.contains("strip_prefix"), "{}", bad.text);
}

/// A fetch handler that returns a stream body streams it: the client gets
/// each chunk as the function writes it (server-sent events), the record
/// counts the bytes; a function that fails mid-stream cuts the connection
/// instead of ending the body cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_bodies_reach_the_client_as_written() {
    let s = Server::new(&[]).await;
    let t = s.token("shop", &["admin"]);
    let sse = r#"export default {
      async fetch(request) {
        const fail = new URL(request.url).searchParams.has("fail");
        const enc = new TextEncoder();
        let n = 0;
        const body = new ReadableStream({
          async pull(c) {
            n++;
            if (n > 3) return c.close();
            if (n > 1) await new Promise(r => setTimeout(r, 700));
            if (fail && n === 3) throw new Error("the feed broke");
            c.enqueue(enc.encode(`data: ${n}\n\n`));
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
      },
    };"#;
    s.create_function(&t, "sse", sse).await;
    route(&s, &t, json!({"path": "/events", "function": "sse", "auth": "public"})).await;

    let mut resp = s.http.get(s.url("/fn/shop/events")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut chunks = Vec::new();
    while let Some(c) = resp.chunk().await.unwrap() {
        chunks.push((std::time::Instant::now(), String::from_utf8(c.to_vec()).unwrap()));
    }
    let text: String = chunks.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(text, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
    // Written 1.4 s apart: had the body been buffered, they would arrive together.
    let spread = chunks.last().unwrap().0 - chunks[0].0;
    assert!(spread >= std::time::Duration::from_millis(1000), "chunks arrived within {spread:?}: {chunks:?}");

    // The record says it streamed, and how much.
    let list = common::eventually(std::time::Duration::from_secs(10), "the streamed execution", || async {
        let l = s.ok("GET", "/executions?function=sse", &t, None, 200).await;
        l["executions"].as_array().filter(|a| !a.is_empty()).cloned()
    })
    .await;
    let e = s.ok("GET", &format!("/executions/{}", list[0]["id"].as_str().unwrap()), &t, None, 200).await;
    assert_eq!(e["output"], json!({"status": 200, "body_bytes": 27, "streamed": true}), "{e}");

    // Failing mid-stream: the first chunks arrive, then the body errors.
    let mut resp = s.http.get(s.url("/fn/shop/events?fail")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut got = String::new();
    let end = loop {
        match resp.chunk().await {
            Ok(Some(c)) => got.push_str(std::str::from_utf8(&c).unwrap()),
            other => break other,
        }
    };
    assert_eq!(got, "data: 1\n\ndata: 2\n\n");
    assert!(end.is_err(), "a failed stream must not end cleanly: {end:?}");
}
