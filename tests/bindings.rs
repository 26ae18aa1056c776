//! Service bindings end to end: a host service on 127.0.0.1 (a hyper
//! server started here) verifies every request's token against Quasm's
//! `/.well-known/jwks.json` with a JWT library and records what it got.
//! Covers the claims and headers (tenant, function, execution, user and
//! permissions as sent), a cron run without a user, a function without the
//! grant, a tenant not allowed, every path escape, redirects, the subrequest
//! cap, the OpenAPI-typed methods and the validation of `bindings`.

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, now_secs, sign_jwt, Env, Server};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

/// What the host service saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: String,
    /// The verified claims, or why verification failed.
    claims: Result<Value, String>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn claims(&self) -> &Value {
        self.claims.as_ref().unwrap_or_else(|e| panic!("token did not verify: {e}"))
    }
}

/// The host service: everything under `/api` answers JSON describing the
/// request, except `/api/redirect-out` (302 to `/admin`, outside the
/// binding), `/api/redirect-in` (302 to `/api/echo`) and
/// `/api/clients/missing` (404).
struct Host {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Where the JWKS lives (set once Quasm is up).
    quasm: Arc<Mutex<String>>,
}

impl Host {
    async fn start() -> Host {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let quasm: Arc<Mutex<String>> = Arc::default();
        let (store, base) = (seen.clone(), quasm.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (store, base) = (store.clone(), base.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (store, base) = (store.clone(), base.clone());
                        async move { Ok::<_, Infallible>(answer(req, store, base).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Host { port, seen, quasm }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn last(&self) -> Seen {
        self.seen().last().cloned().expect("the host service got a request")
    }
}

async fn answer(
    req: Request<Incoming>,
    store: Arc<Mutex<Vec<Seen>>>,
    quasm: Arc<Mutex<String>>,
) -> Response<Full<Bytes>> {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers: Vec<(String, String)> =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    let body = String::from_utf8_lossy(&req.into_body().collect().await.unwrap().to_bytes()).into_owned();
    let token = headers.iter().find(|(k, _)| k == "authorization").and_then(|(_, v)| v.strip_prefix("Bearer "));
    let base = quasm.lock().unwrap().clone();
    let claims = match token {
        Some(t) => verify(&base, t).await,
        None => Err("no bearer token".into()),
    };
    let seen = Seen { method, path: path.clone(), query, headers, body, claims };
    store.lock().unwrap().push(seen.clone());
    let reply = |status: u16, body: Value| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    let redirect = |to: &str| Response::builder().status(302).header("location", to).body(Full::default()).unwrap();
    match path.as_str() {
        "/api/redirect-out" => redirect("/admin"),
        "/api/redirect-in" => redirect("/api/echo?from=redirect"),
        "/api/post-then-get" => {
            Response::builder().status(303).header("location", "/api/echo?after=post").body(Full::default()).unwrap()
        }
        "/api/clients/missing" => reply(404, json!({"error": "no such client"})),
        _ => reply(
            if seen.method == "POST" { 201 } else { 200 },
            json!({
                "method": seen.method, "path": seen.path, "query": seen.query, "body": seen.body,
                "claims": seen.claims.clone().unwrap_or(Value::Null),
            }),
        ),
    }
}

/// Verifies `token` as a host service would: the key from Quasm's JWKS by
/// `kid`, EdDSA only, `iss` quasm and `aud` HOST required.
async fn verify(quasm: &str, token: &str) -> Result<Value, String> {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let text = reqwest::get(format!("{quasm}/.well-known/jwks.json"))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_issuer(&["quasm"]);
    v.set_audience(&["HOST"]);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    jsonwebtoken::decode::<Value>(token, &key, &v).map(|d| d.claims).map_err(|e| e.to_string())
}

const OPENAPI: &str = r#"{
  "openapi": "3.0.3",
  "info": {"title": "host", "version": "1"},
  "paths": {
    "/clients": {
      "get": {"operationId": "list", "tags": ["clients"],
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}},
                       {"name": "tier", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}},
      "post": {"operationId": "create", "tags": ["clients"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}
    },
    "/clients/{id}": {
      "get": {"operationId": "get", "tags": ["clients"],
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}
    }
  }
}"#;

/// Calls the binding as the input says and reports what came back.
const CALLER: &str = r#"export default {
  async run(input, env, ctx) {
    try {
      const r = await env.HOST.fetch(input.path, input.init);
      return { status: r.status, url: r.url, body: await r.json(), user: ctx.user };
    } catch (e) {
      return { error: e.message, name: e.name, user: ctx.user };
    }
  },
  async scheduled(event, env, ctx) {
    await env.HOST.fetch("/cron", { method: "POST", body: JSON.stringify({ user: ctx.user }) });
  },
};"#;

const TYPED: &str = r#"export default {
  async run(input, env) {
    const out = {
      list: await env.HOST.clients.list({ limit: 5, tier: "gold" }),
      create: await env.HOST.clients.create({ body: { name: "Ada" } }),
      get: await env.HOST.clients.get({ id: "c 1" }),
    };
    try { await env.HOST.clients.get({ id: "missing" }); }
    catch (e) { out.missing = { name: e.name, status: e.status, body: e.body, message: e.message }; }
    try { await env.HOST.clients.get({}); } catch (e) { out.noId = e.message; }
    return out;
  },
};"#;

const MANY: &str = r#"export default {
  async run(input, env) {
    for (let i = 0; i < 3; i++) await env.HOST.fetch("/n/" + i);
    return "done";
  },
};"#;

struct Setup {
    host: Host,
    server: Server,
    env: Arc<Env>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let host = Host::start().await;
    let dir = common::tempdir();
    std::fs::write(dir.path().join("host.json"), OPENAPI).unwrap();
    let env = Env::new().await;
    let server = start(&env, &host, &dir, "acme").await;
    Setup { host, server, env, _dir: dir }
}

/// `quasm serve` with binding HOST for `tenants`.
async fn start(env: &Arc<Env>, host: &Host, dir: &tempfile::TempDir, tenants: &str) -> Server {
    let url = format!("http://127.0.0.1:{}/api", host.port);
    let openapi = dir.path().join("host.json");
    let server = Server::start(
        env,
        &[],
        &[
            ("QUASM_BINDING_HOST_URL", &url),
            ("QUASM_BINDING_HOST_OPENAPI", openapi.to_str().unwrap()),
            ("QUASM_BINDING_HOST_TENANTS", tenants),
            ("QUASM_BINDING_HOST_TIMEOUT_MS", "5000"),
        ],
    )
    .await;
    *host.quasm.lock().unwrap() = server.base.clone();
    server
}

fn user_token(env: &Env) -> String {
    let claims = json!({
        "sub": "ann", "tenant": "acme", "roles": ["developer"], "permissions": ["clients:read", "invoices:write"],
        "iat": now_secs(), "exp": now_secs() + 600,
    });
    sign_jwt(&env.hs256_key(), &json!({"alg": "HS256", "typ": "JWT"}), &claims)
}

async fn create(s: &Server, token: &str, name: &str, code: &str, bindings: Value) -> common::Reply {
    let body = json!({"name": name, "code": code, "bindings": bindings});
    s.call("POST", "/functions", Some(token), Some(&body)).await
}

async fn invoke(s: &Server, token: &str, name: &str, input: Value) -> Value {
    s.ok("POST", &format!("/functions/{name}/invoke"), token, Some(json!({"input": input})), 200).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_carry_tenant_function_and_user_and_verify_with_the_jwks() {
    let Setup { host, server: s, env, .. } = setup().await;
    let admin = s.token("acme", &["admin"]);
    let r = create(&s, &admin, "caller", CALLER, json!(["HOST"])).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["bindings"], json!(["HOST"]));

    let jwks = s.send(s.request("GET", "/.well-known/jwks.json")).await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");
    assert_eq!(jwks.body["keys"][0]["alg"], "EdDSA");

    let user = user_token(&env);
    let init = json!({"method": "POST", "headers": {"x-custom": "1", "authorization": "forged", "quasm-tenant": "zeta"},
                      "body": "hello"});
    let out = invoke(&s, &user, "caller", json!({"path": "/echo?a=1", "init": init})).await;
    assert_eq!(out["status"], "ok", "{out}");
    let o = &out["output"];
    assert_eq!(o["status"], 201, "{o}");
    assert_eq!(o["url"], "", "the function does not learn the host's address");
    assert_eq!(
        o["user"],
        json!({"id": "ann", "roles": ["developer"], "permissions": ["clients:read", "invoices:write"]})
    );

    let seen = host.last();
    assert_eq!((seen.method.as_str(), seen.path.as_str(), seen.query.as_deref()), ("POST", "/api/echo", Some("a=1")));
    assert_eq!(seen.body, "hello");
    assert_eq!(seen.header("x-custom"), Some("1"));
    let c = seen.claims();
    assert_eq!(c["iss"], "quasm");
    assert_eq!(c["aud"], "HOST");
    assert_eq!(c["tenant"], "acme");
    assert_eq!(c["function"], "caller");
    assert_eq!(c["version"], 1);
    assert_eq!(c["trigger"], "invoke");
    assert_eq!(c["execution_id"], out["execution_id"]);
    assert_eq!(c["sub"], "ann");
    assert_eq!(c["roles"], json!(["developer"]));
    assert_eq!(c["permissions"], json!(["clients:read", "invoices:write"]));
    let ttl = c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap();
    assert!(ttl <= 300, "valid at most 5 minutes: {ttl}");
    assert_eq!(seen.header("quasm-tenant"), Some("acme"), "the guest cannot forge it");
    assert_eq!(seen.header("quasm-execution-id"), out["execution_id"].as_str());
    let trace = seen.header("traceparent").unwrap();
    let exec_hex = out["execution_id"].as_str().unwrap().replace('-', "");
    assert!(trace.starts_with(&format!("00-{exec_hex}-")), "{trace}");

    // The execution records who started it, and the API filters by it.
    let exec = s.ok("GET", &format!("/executions/{}", out["execution_id"].as_str().unwrap()), &admin, None, 200).await;
    assert_eq!(exec["started_by"], "ann");
    let mine = s.ok("GET", "/executions?user=ann", &admin, None, 200).await;
    let ids: Vec<&Value> = mine["executions"].as_array().unwrap().iter().map(|e| &e["id"]).collect();
    assert_eq!(ids, [&out["execution_id"]], "{mine}");
    let none = s.ok("GET", "/executions?user=bob", &admin, None, 200).await;
    assert_eq!(none["executions"], json!([]));

    // An API key is a user too: its id and roles, no permissions.
    let key = s.ok("POST", "/api-keys", &admin, Some(json!({"name": "ci", "roles": ["developer"]})), 201).await;
    let key = key["key"].as_str().unwrap();
    let out = invoke(&s, key, "caller", json!({"path": "/echo"})).await;
    assert!(out["output"]["user"]["id"].as_str().unwrap().starts_with("api-key:"), "{out}");
    assert_eq!(host.last().claims()["sub"], out["output"]["user"]["id"]);
    assert_eq!(host.last().claims()["permissions"], json!([]));

    // A redirect that stays below the base is followed; one that leaves it is refused.
    let out = invoke(&s, &user, "caller", json!({"path": "/redirect-in"})).await;
    assert_eq!(out["output"]["body"]["query"], "from=redirect", "{out}");
    // A 303 after a POST is followed with a GET without the body.
    let init = json!({"method": "POST", "headers": {"content-type": "text/plain"}, "body": "once"});
    let out = invoke(&s, &user, "caller", json!({"path": "/post-then-get", "init": init})).await;
    assert_eq!(out["output"]["body"]["method"], "GET", "{out}");
    assert_eq!(out["output"]["body"]["body"], "", "{out}");
    assert_eq!(host.seen().iter().filter(|h| h.method == "POST" && h.body == "once").count(), 1);
    let before = host.seen().len();
    let out = invoke(&s, &user, "caller", json!({"path": "/redirect-out"})).await;
    let e = out["output"]["error"].as_str().unwrap();
    assert!(e.contains("HOST.fetch: redirect to \"/admin\" refused: it leaves the binding's URL"), "{e}");
    assert_eq!(host.seen().len(), before + 1, "/admin was never requested");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_runs_carry_no_user_and_grants_and_tenants_are_enforced() {
    let Setup { host, server: s, .. } = setup().await;
    let admin = s.token("acme", &["admin"]);
    assert_eq!(create(&s, &admin, "caller", CALLER, json!(["HOST"])).await.status, 201);
    let sched = s.ok("POST", "/functions/caller/schedules", &admin, Some(json!({"cron": "* * * * * *"})), 201).await;
    let hit = eventually(Duration::from_secs(20), "a cron call of the binding", || async {
        host.seen().into_iter().find(|h| h.path == "/api/cron")
    })
    .await;
    let id = sched["id"].as_str().map(str::to_owned).unwrap_or_else(|| sched["id"].to_string());
    s.ok("DELETE", &format!("/functions/caller/schedules/{id}"), &admin, None, 204).await;
    assert_eq!(hit.claims()["trigger"], "cron");
    assert!(hit.claims().get("sub").is_none(), "no user: {}", hit.claims());
    assert!(hit.claims().get("permissions").is_none());
    assert_eq!(serde_json::from_str::<Value>(&hit.body).unwrap(), json!({"user": null}), "ctx.user is null");

    // Same tenant, no grant: a clear error naming the binding.
    assert_eq!(create(&s, &admin, "nogrant", CALLER, json!([])).await.status, 201);
    let before = host.seen().len();
    let out = invoke(&s, &admin, "nogrant", json!({"path": "/echo"})).await;
    assert_eq!(
        out["output"]["error"],
        "binding HOST is not granted to function \"nogrant\": add \"HOST\" to the function's \"bindings\""
    );
    // Another tenant may not be granted it, and does not see it at all.
    let zeta = s.token("zeta", &["admin"]);
    let r = create(&s, &zeta, "caller", CALLER, json!(["HOST"])).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["details"]["field"], "bindings[0]", "{}", r.text);
    assert_eq!(r.message(), "bindings[0]: binding HOST is not available to tenant \"zeta\"");
    assert_eq!(create(&s, &zeta, "caller", CALLER, json!([])).await.status, 201);
    let out = invoke(&s, &zeta, "caller", json!({"path": "/echo"})).await;
    assert_eq!(out["output"]["error"], "cannot read property 'fetch' of undefined", "env.HOST is not there: {out}");
    assert_eq!(host.seen().len(), before, "refused calls never reach the host");

    // Granting it later (PATCH) is checked the same way.
    let r = s.call("PATCH", "/functions/nogrant", Some(&admin), Some(&json!({"bindings": ["HOST"]}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let out = invoke(&s, &admin, "nogrant", json!({"path": "/echo"})).await;
    assert_eq!(out["output"]["status"], 200, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_no_longer_allowed_gets_a_clear_error() {
    let Setup { host, server, env, _dir } = setup().await;
    drop(server);
    // Granted while the operator allowed the tenant...
    let s = start(&env, &host, &_dir, "acme,zeta").await;
    let zeta = s.token("zeta", &["admin"]);
    assert_eq!(create(&s, &zeta, "caller", CALLER, json!(["HOST"])).await.status, 201);
    assert_eq!(invoke(&s, &zeta, "caller", json!({"path": "/echo"})).await["output"]["status"], 200);
    s.stop().await;
    // ...then the operator took it away.
    let s = start(&env, &host, &_dir, "acme").await;
    let before = host.seen().len();
    let out = invoke(&s, &zeta, "caller", json!({"path": "/echo"})).await;
    assert_eq!(out["output"]["error"], "binding HOST is not available to tenant \"zeta\"", "{out}");
    assert_eq!(host.seen().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_escape_is_refused_and_the_subrequest_cap_counts_bindings() {
    let Setup { host, server: s, .. } = setup().await;
    let admin = s.token("acme", &["admin"]);
    assert_eq!(create(&s, &admin, "caller", CALLER, json!(["HOST"])).await.status, 201);
    let absolute = format!("http://127.0.0.1:{}/admin", host.port);
    let escapes = [
        ("../admin", "must start with \"/\""),
        (absolute.as_str(), "must start with \"/\""),
        ("//127.0.0.1/admin", "must not start with \"//\""),
        ("/../admin", "\".\" or \"..\" segments"),
        ("/a/../../admin", "\".\" or \"..\" segments"),
        ("/%2e%2e/admin", "\".\" or \"..\" segments"),
        ("/%2E%2e/admin", "\".\" or \"..\" segments"),
        ("/.%2E/admin", "\".\" or \"..\" segments"),
        ("/a%2f..%2f..%2fadmin", "encoded \"/\""),
        ("/a%5c..%5cadmin", "encoded \"/\""),
        ("/\\..\\admin", "backslash"),
        ("/a%00", "control characters"),
    ];
    for (path, why) in escapes {
        let out = invoke(&s, &admin, "caller", json!({"path": path})).await;
        let e = out["output"]["error"].as_str().unwrap_or_else(|| panic!("{path:?} was not refused: {out}"));
        assert!(e.starts_with("HOST.fetch: ") && e.contains(why), "{path:?}: {e}");
    }
    let non_string = invoke(&s, &admin, "caller", json!({"path": 7})).await;
    assert!(non_string["output"]["error"].as_str().unwrap().contains("the path must be a string"), "{non_string}");
    assert!(host.seen().is_empty(), "nothing reached the host: {:?}", host.seen());

    let r = s
        .call(
            "POST",
            "/functions",
            Some(&admin),
            Some(&json!({"name": "many", "code": MANY, "bindings": ["HOST"], "limits": {"max_subrequests": 2}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let out = invoke(&s, &admin, "many", json!(null)).await;
    assert_eq!(out["status"], "limit_exceeded", "{out}");
    assert!(out["error"]["message"].as_str().unwrap().contains("subrequest limit exceeded"), "{out}");
    assert_eq!(host.seen().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_methods_call_the_right_method_path_query_and_body() {
    let Setup { host, server: s, .. } = setup().await;
    let admin = s.token("acme", &["admin"]);
    assert_eq!(create(&s, &admin, "typed", TYPED, json!(["HOST"])).await.status, 201);
    let out = invoke(&s, &admin, "typed", json!(null)).await;
    assert_eq!(out["status"], "ok", "{out}");
    let o = &out["output"];
    assert_eq!(o["list"]["method"], "GET");
    assert_eq!(o["list"]["path"], "/api/clients");
    assert_eq!(o["list"]["query"], "limit=5&tier=gold");
    assert_eq!(o["create"]["method"], "POST");
    assert_eq!(o["create"]["body"], "{\"name\":\"Ada\"}");
    assert_eq!(o["get"]["path"], "/api/clients/c%201");
    assert_eq!(o["missing"]["name"], "BindingHttpError");
    assert_eq!(o["missing"]["status"], 404);
    assert_eq!(o["missing"]["body"], json!({"error": "no such client"}));
    assert_eq!(o["missing"]["message"], "HOST.clients.get: GET /clients/{id} answered 404 Not Found");
    assert_eq!(o["noId"], "HOST.clients.get: the path parameter \"id\" is required");
    let create = host.seen().into_iter().find(|h| h.method == "POST").unwrap();
    assert_eq!(create.header("content-type"), Some("application/json"));
    assert_eq!(create.claims()["function"], "typed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bindings_are_validated_by_field() {
    let Setup { server: s, .. } = setup().await;
    let admin = s.token("acme", &["admin"]);
    for (bindings, field, says) in [
        (json!("HOST"), "bindings", "invalid type"),
        (json!([1]), "bindings", "invalid type"),
        (json!(["NOPE"]), "bindings[0]", "no binding named \"NOPE\" (configured: HOST)"),
        (json!(["HOST", "HOST"]), "bindings[1]", "listed twice"),
    ] {
        let r = create(&s, &admin, "f", CALLER, bindings.clone()).await;
        assert_eq!(r.status, 400, "{bindings}: {}", r.text);
        assert_eq!(r.code(), "invalid_request");
        let named = r.body["error"]["details"]["field"].as_str().unwrap_or_default().to_owned();
        assert!(named == field || r.message().contains(field), "{bindings}: {}", r.text);
        assert!(r.message().contains(says), "{bindings}: {}", r.text);
    }
    assert_eq!(create(&s, &admin, "f", CALLER, json!(["HOST"])).await.status, 201);
    let r = s.call("PATCH", "/functions/f", Some(&admin), Some(&json!({"bindings": ["NOPE"]}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["details"]["field"], "bindings[0]");
}
