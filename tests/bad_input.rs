//! Bad input gets a precise 4xx: `{"error": {code, message, details}}`
//! naming the field, the line and column of a syntax error, the limit that
//! was hit; bad credentials get 401 with a specific code.

mod common;

use common::{now_secs, sign_jwt, unsigned_jwt, Reply, Server};
use serde_json::{json, Value};

const CODE: &str = "export default { async run(input) { return input; } };";

fn field(r: &Reply) -> &str {
    r.body["error"]["details"]["field"].as_str().unwrap_or("<no details.field>")
}

/// POSTs a raw body to an API path.
async fn post_raw(s: &Server, token: &str, path: &str, body: &str) -> Reply {
    let rb = s
        .request("POST", &format!("/api/v1{path}"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned());
    s.send(rb).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_input_errors() {
    let s = Server::new(&["--max-body-bytes", "4096"]).await;
    let t = s.token("acme", &["admin"]);
    s.create_function(&t, "f", CODE).await;

    // --- JSON shape.
    let r = post_raw(&s, &t, "/functions", r#"{"name": "x", "code": "#).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.text);
    assert!(r.message().starts_with("malformed JSON"), "{}", r.message());
    let r = post_raw(&s, &t, "/functions", "not json at all").await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.text);
    assert!(r.message().starts_with("malformed JSON"), "{}", r.message());
    let r = post_raw(&s, &t, "/functions", "").await;
    assert_eq!((r.status, r.code(), field(&r)), (400, "invalid_request", "body"), "{}", r.text);
    assert!(r.message().contains("JSON body is required"), "{}", r.message());
    let r = post_raw(&s, &t, "/functions", "[1, 2]").await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.text);
    assert_eq!(r.message(), "the body must be a JSON object");
    // Bytes after the JSON value, and arrays where an object is expected.
    let body = format!("{} this is not JSON", json!({"name": "trail", "code": CODE}));
    let r = post_raw(&s, &t, "/functions", &body).await;
    assert_eq!((r.status, field(&r)), (400, "body"), "{}", r.text);
    assert!(r.message().contains("trailing characters"), "{}", r.message());
    for limits in [json!([1000, 64]), json!([])] {
        let r =
            post_raw(&s, &t, "/functions", &json!({"name": "arr", "code": CODE, "limits": limits}).to_string()).await;
        assert_eq!((r.status, field(&r)), (400, "limits"), "{}", r.text);
        assert!(r.message().contains("expected an object"), "{}", r.message());
    }
    let r = post_raw(&s, &t, "/events/batch", r#"{"events": [["t", {}]]}"#).await;
    assert_eq!((r.status, field(&r)), (400, "events[0]"), "{}", r.text);
    let r = post_raw(&s, &t, "/subscriptions", r#"{"function": "f", "event_type": "x", "backoff": [1, 2]}"#).await;
    assert_eq!((r.status, field(&r)), (400, "backoff"), "{}", r.text);
    assert_eq!(s.ok("GET", "/functions", &t, None, 200).await["functions"].as_array().unwrap().len(), 1);
    let r = post_raw(&s, &t, "/functions", &json!({"name": "x", "code": CODE, "colour": "red"}).to_string()).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.text);
    assert!(r.message().contains("unknown field `colour`"), "{}", r.message());
    assert_eq!(field(&r), "colour", "details.field names the unknown field: {}", r.text);
    let r =
        post_raw(&s, &t, "/functions", &json!({"name": "x", "code": CODE, "limits": {"memory_mb": "x"}}).to_string())
            .await;
    assert_eq!((r.status, r.code(), field(&r)), (400, "invalid_request", "limits.memory_mb"), "{}", r.text);
    let r = post_raw(&s, &t, "/functions", &json!({"name": "x", "code": CODE, "limits": {"cpu": 1}}).to_string()).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.text);
    assert!(r.message().contains("unknown field `cpu`"), "{}", r.message());
    assert_eq!(field(&r), "limits.cpu", "{}", r.text);
    let r = post_raw(&s, &t, "/functions", &json!({"code": CODE}).to_string()).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.text);
    assert!(r.message().contains("missing field `name`"), "{}", r.message());
    let r = post_raw(&s, &t, "/functions", &json!({"name": 5, "code": CODE}).to_string()).await;
    assert_eq!((r.status, field(&r)), (400, "name"), "{}", r.text);

    // --- Body size.
    let big = json!({"name": "big", "code": format!("{CODE}\n//{}", "x".repeat(5000))}).to_string();
    let r = post_raw(&s, &t, "/functions", &big).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"), "{}", r.text);
    assert_eq!(r.body["error"]["details"]["max_bytes"], 4096);
    assert!(r.message().contains("4096"), "{}", r.message());
    // Just under the limit is fine.
    let fits = json!({"name": "fits", "code": format!("{CODE}\n//{}", "x".repeat(3900))}).to_string();
    assert!(fits.len() <= 4096);
    assert_eq!(post_raw(&s, &t, "/functions", &fits).await.status, 201);
    // The same cap on public routes.
    s.ok("POST", "/routes", &t, Some(json!({"path": "/in", "function": "f", "auth": "public"})), 201).await;
    let r = s.send(s.request("POST", "/fn/acme/in").body(vec![b'a'; 5000])).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"), "{}", r.text);

    // --- Names.
    for bad in ["Bad Name", "-x", "_x", "UPPER", "dots.no", "é", "", &"a".repeat(64)] {
        let r = s.call("POST", "/functions", Some(&t), Some(&json!({"name": bad, "code": CODE}))).await;
        assert_eq!((r.status, r.code(), field(&r)), (400, "invalid_request", "name"), "{bad:?}: {}", r.text);
    }
    let longest = "a".repeat(63);
    s.create_function(&t, &longest, CODE).await;
    assert_eq!(s.ok("GET", &format!("/functions/{longest}"), &t, None, 200).await["name"], longest.as_str());

    // --- Other fields.
    let cases: Vec<(Value, &str)> = vec![
        (json!({"name": "g", "code": "   "}), "code"),
        (json!({"name": "g", "code": CODE, "env": {"1BAD": "v"}}), "env.1BAD"),
        (json!({"name": "g", "code": CODE, "env": {"has-dash": "v"}}), "env.has-dash"),
        (json!({"name": "g", "code": CODE, "success_sample_rate": 2.0}), "success_sample_rate"),
        (json!({"name": "g", "code": CODE, "limits": {"timeout_ms": 0}}), "limits.timeout_ms"),
        (json!({"name": "g", "code": CODE, "limits": {"memory_mb": 4096}}), "limits.memory_mb"),
        (json!({"name": "g", "code": CODE, "limits": {"memory_mb": 1}}), "limits.memory_mb"),
        (json!({"name": "g", "code": CODE, "limits": {"timeout_ms": 3_600_000}}), "limits.timeout_ms"),
        (json!({"name": "g", "code": CODE, "tags": [""]}), "tags[0]"),
        (json!({"name": "g", "code": CODE, "isolation": "shared"}), "isolation"),
    ];
    for (body, want) in cases {
        let r = s.call("POST", "/functions", Some(&t), Some(&body)).await;
        assert_eq!((r.status, r.code(), field(&r)), (400, "invalid_request", want), "{body}: {}", r.text);
    }
    let r = s
        .call("POST", "/functions", Some(&t), Some(&json!({"name": "g", "code": CODE, "limits": {"memory_mb": 4096}})))
        .await;
    assert!(r.message().contains("operator maximum 256"), "{}", r.message());
    let r = s.call("PATCH", "/functions/f", Some(&t), Some(&json!({"limits": {"memory_mb": 100000}}))).await;
    assert_eq!((r.status, field(&r)), (400, "limits.memory_mb"), "{}", r.text);
    assert_eq!(s.call("GET", "/functions/g", Some(&t), None).await.status, 404, "no half-created function");

    // --- Syntax errors: line and column of the offending token.
    let bad = "export default {\n  async run() {\n    return 1 +;\n  },\n};\n";
    let r = s.call("POST", "/functions", Some(&t), Some(&json!({"name": "syn", "code": bad}))).await;
    assert_eq!((r.status, r.code()), (400, "syntax_error"), "{}", r.text);
    assert_eq!(r.body["error"]["details"], json!({"line": 3, "column": 15}), "{}", r.text);
    assert!(r.message().contains("SyntaxError"), "{}", r.message());
    let bad2 = "export default {\n  async run() {\n    const o = {\n      a: 1\n      b: 2,\n    };\n  },\n};\n";
    let r = s.call("POST", "/functions/f/versions", Some(&t), Some(&json!({"code": bad2}))).await;
    assert_eq!((r.status, r.code()), (400, "syntax_error"), "{}", r.text);
    assert_eq!(r.body["error"]["details"], json!({"line": 5, "column": 7}), "{}", r.text);
    assert_eq!(s.call("GET", "/functions/syn", Some(&t), None).await.status, 404);
    let vs = s.ok("GET", "/functions/f/versions", &t, None, 200).await;
    assert_eq!(vs["versions"].as_array().unwrap().len(), 1, "a version that does not compile is not stored");

    // --- Conflicts and missing things.
    let r = s.call("POST", "/functions", Some(&t), Some(&json!({"name": "f", "code": CODE}))).await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.text);
    assert!(r.message().contains("\"f\" already exists"), "{}", r.message());
    let r = s.call("POST", "/functions/f/rollback", Some(&t), Some(&json!({"version": 9}))).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    assert!(r.message().contains("f@9"), "{}", r.message());
    assert_eq!(s.ok("GET", "/functions/f", &t, None, 200).await["live_version"], 1, "the live version is unchanged");
    let r = s.call("GET", "/functions/f/versions/9", Some(&t), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.text);
    for (m, p, b) in [
        ("GET", "/functions/nope", None),
        ("PATCH", "/functions/nope", Some(json!({"description": "d"}))),
        ("DELETE", "/functions/nope", None),
        ("POST", "/functions/nope/versions", Some(json!({"code": CODE}))),
        ("POST", "/functions/nope/invoke", Some(json!({}))),
        ("POST", "/functions/nope/invoke", Some(json!({"async": true}))),
        ("POST", "/routes", Some(json!({"path": "/x", "function": "nope", "auth": "public"}))),
        ("GET", "/executions/01890a5d-ac96-774b-bcce-b302099a8057", None),
        ("DELETE", "/routes/999999", None),
        ("DELETE", "/api-keys/0123456789abcdef", None),
    ] {
        let r = s.call(m, p, Some(&t), b.as_ref()).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{m} {p}: {}", r.text);
    }

    // --- Path segments, query strings and other bodies.
    let fields: Vec<(&str, &str, Option<Value>, &str)> = vec![
        ("GET", "/executions/not-a-uuid", None, "id"),
        ("GET", "/functions/f/versions/one", None, "version"),
        ("DELETE", "/routes/abc", None, "id"),
        ("GET", "/executions?status=bogus", None, "status"),
        ("GET", "/executions?trigger=bogus", None, "trigger"),
        ("GET", "/executions?limit=0", None, "limit"),
        ("GET", "/executions?limit=1001", None, "limit"),
        ("GET", "/executions?colour=red", None, "query"),
        ("GET", "/executions?cursor=zzz", None, "query"),
        ("GET", "/audit?limit=x", None, "query"),
        ("POST", "/functions/f/invoke", Some(json!({"handler": "bogus"})), "handler"),
        ("POST", "/functions/f/invoke", Some(json!({"input": 1, "extra": true})), "extra"),
        ("POST", "/functions/f/rollback", Some(json!({"version": "1"})), "version"),
        ("POST", "/routes", Some(json!({"path": "items", "function": "f", "auth": "public"})), "path"),
        ("POST", "/routes", Some(json!({"path": "/a/*/b", "function": "f", "auth": "public"})), "path"),
        (
            "POST",
            "/routes",
            Some(json!({"method": "FETCH", "path": "/m", "function": "f", "auth": "public"})),
            "method",
        ),
        ("POST", "/routes", Some(json!({"path": "/m", "function": "f", "auth": "password"})), "auth"),
        ("POST", "/api-keys", Some(json!({"name": "k", "roles": []})), "roles"),
        ("POST", "/api-keys", Some(json!({"name": "k", "roles": ["god"]})), "roles[0]"),
        ("POST", "/api-keys", Some(json!({"name": " ", "roles": ["viewer"]})), "name"),
        ("PATCH", "/tenant", Some(json!({"retention_days": 0})), "retention_days"),
        ("PATCH", "/tenant", Some(json!({"retention": 5})), "retention"),
    ];
    for (m, p, b, want) in fields {
        let r = s.call(m, p, Some(&t), b.as_ref()).await;
        assert_eq!((r.status, r.code(), field(&r)), (400, "invalid_request", want), "{m} {p} {b:?}: {}", r.text);
    }
    let r = s.call("POST", "/functions/f/rollback", Some(&t), Some(&json!({}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("missing field `version`"), "{}", r.message());

    // --- Methods and endpoints.
    for (m, p, allowed) in [
        ("PUT", "/functions", "GET, POST"),
        ("DELETE", "/functions", "GET, POST"),
        ("POST", "/functions/f", "GET, PATCH, DELETE"),
        ("DELETE", "/functions/f/versions/1", "GET"),
        ("GET", "/functions/f/invoke", "POST"),
        ("GET", "/functions/f/rollback", "POST"),
        ("POST", "/executions", "GET"),
        ("GET", "/routes/1", "DELETE"),
        ("PUT", "/tenant", "GET, PATCH"),
        ("DELETE", "/audit", "GET"),
    ] {
        let r = s.call(m, p, Some(&t), None).await;
        assert_eq!((r.status, r.code()), (405, "method_not_allowed"), "{m} {p}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["allowed"], allowed, "{m} {p}");
        assert_eq!(r.header("allow"), Some(allowed), "{m} {p}: a 405 carries Allow (RFC 9110 §15.5.6)");
    }
    for p in ["/nope", "/functions/f/nope", "/functions/f/versions/1/code", "/", "/v2/functions"] {
        let r = s.call("GET", p, Some(&t), None).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{p}: {}", r.text);
    }
    for p in ["/nope", "/api/v2/functions", "/fn"] {
        let r = s.send(s.request("GET", p)).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{p}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    // The OpenAPI description needs no credentials.
    let r = s.send(s.request("GET", "/api/v1/openapi.json")).await;
    assert_eq!(r.status, 200);
    assert!(r.body["paths"].is_object(), "an OpenAPI document");

    // Nothing above changed `f`.
    let f = s.ok("GET", "/functions/f", &t, None, 200).await;
    assert_eq!((f["live_version"].clone(), f["description"].clone()), (json!(1), json!("")));
}

/// Non-ASCII text before a syntax error: the column counts characters
/// (as editors do), not UTF-8 bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_error_columns_count_characters() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["admin"]);
    // `@` is the 27th character of line 2, its 30th byte.
    let bad = "// é€\nconst s = \"é€\"; const t = @;\nexport default { run() {} };\n";
    let r = s.call("POST", "/functions", Some(&t), Some(&json!({"name": "syn", "code": bad}))).await;
    assert_eq!((r.status, r.code()), (400, "syntax_error"), "{}", r.text);
    assert_eq!(r.body["error"]["details"], json!({"line": 2, "column": 27}), "{}", r.text);
}

/// `POST /check` reports the same syntax error a deploy would, at the same
/// line and column, and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_syntax_errors_without_saving() {
    let s = Server::new(&[]).await;
    let t = s.token("acme", &["developer"]);
    let bad = "// é€\nconst s = \"é€\"; const t = @;\nexport default { run() {} };\n";
    let r = s.ok("POST", "/check", &t, Some(json!({"code": bad})), 200).await;
    assert_eq!(r["ok"], json!(false), "{r}");
    let d = &r["diagnostics"][0];
    assert_eq!(
        (d["severity"].clone(), d["line"].clone(), d["column"].clone()),
        (json!("error"), json!(2), json!(27)),
        "{r}"
    );
    assert!(d["message"].as_str().unwrap().starts_with("SyntaxError"), "{r}");
    let r = s.ok("POST", "/check", &t, Some(json!({"code": "export default { run() { return 1 } }"})), 200).await;
    assert_eq!(r, json!({"ok": true, "diagnostics": []}));
    let r = s.call("POST", "/check", Some(&t), Some(&json!({"code": " "}))).await;
    assert_eq!((r.status, field(&r)), (400, "code"), "{}", r.text);
    let r = s.call("POST", "/check", Some(&t), Some(&json!({"source": "x"}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let viewer = s.token("acme", &["viewer"]);
    let r = s.call("POST", "/check", Some(&viewer), Some(&json!({"code": "x"}))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let fns = s.ok("GET", "/functions", &t, None, 200).await;
    assert_eq!(fns["functions"], json!([]), "a check stores nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_errors() {
    let s = Server::new(&[]).await;
    let good = s.token("acme", &["admin"]);
    let key = s.env.hs256_key();
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    let now = now_secs();
    let claims = |extra: Value| {
        let mut c = json!({"sub": "u1", "tenant": "acme", "roles": ["admin"], "iat": now, "exp": now + 600});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    // Sanity: a token signed here is accepted, so the refusals below are
    // about what each one changes.
    let ok = sign_jwt(&key, &hs, &claims(json!({})));
    assert_eq!(s.call("GET", "/functions", Some(&ok), None).await.status, 200);
    assert_eq!(s.call("GET", "/functions", Some(&good), None).await.status, 200);

    let other_key = [7u8; 32];
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("garbage", "abc".into(), "invalid_token", "malformed token"),
        ("three garbage parts", "a.b.c".into(), "invalid_token", "malformed token"),
        (
            "expired",
            sign_jwt(&key, &hs, &claims(json!({"iat": now - 7200, "exp": now - 3600}))),
            "token_expired",
            "token expired",
        ),
        ("alg none", unsigned_jwt(&claims(json!({}))), "algorithm_not_accepted", "algorithm none is not accepted"),
        (
            "alg none, signed",
            sign_jwt(&key, &json!({"alg": "none"}), &claims(json!({}))),
            "algorithm_not_accepted",
            "none",
        ),
        ("other key", sign_jwt(&other_key, &hs, &claims(json!({}))), "invalid_signature", "signature does not match"),
        (
            "tampered",
            {
                let t = sign_jwt(&key, &hs, &claims(json!({"tenant": "acme"})));
                let parts: Vec<&str> = t.split('.').collect();
                use base64::Engine;
                let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(claims(json!({"tenant": "other"})).to_string());
                format!("{}.{forged}.{}", parts[0], parts[2])
            },
            "invalid_signature",
            "signature",
        ),
        (
            "RS256 header on an HMAC key",
            sign_jwt(&key, &json!({"alg": "RS256"}), &claims(json!({}))),
            "algorithm_not_accepted",
            "RS256",
        ),
        (
            "not yet valid",
            sign_jwt(&key, &hs, &claims(json!({"nbf": now + 3600}))),
            "token_not_yet_valid",
            "not yet valid",
        ),
        ("no exp", sign_jwt(&key, &hs, &claims(json!({"exp": null}))), "missing_claim", "exp"),
        ("no tenant", sign_jwt(&key, &hs, &claims(json!({"tenant": null}))), "missing_claim", "tenant"),
        (
            "bad tenant",
            sign_jwt(&key, &hs, &claims(json!({"tenant": "Not Valid"}))),
            "invalid_tenant",
            "invalid tenant id",
        ),
        ("unknown role", sign_jwt(&key, &hs, &claims(json!({"roles": ["root"]}))), "unknown_role", "unknown role"),
    ];
    for (what, token, code, msg) in cases {
        let r = s.call("GET", "/functions", Some(&token), None).await;
        assert_eq!((r.status, r.code()), (401, code), "{what}: {}", r.text);
        assert!(r.message().contains(msg), "{what}: {}", r.message());
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}");
    }

    // The header itself.
    let headers: Vec<(&str, Option<&str>, &str)> = vec![
        ("none", None, "missing_credentials"),
        ("empty", Some(""), "missing_credentials"),
        ("basic", Some("Basic dXNlcjpwYXNz"), "unsupported_scheme"),
        ("bearer alone", Some("Bearer"), "invalid_authorization_header"),
        ("bare token", Some(good.as_str()), "invalid_authorization_header"),
    ];
    for (what, h, code) in headers {
        let mut rb = s.request("GET", "/api/v1/functions");
        if let Some(h) = h {
            rb = rb.header("authorization", h);
        }
        let r = s.send(rb).await;
        assert_eq!((r.status, r.code()), (401, code), "{what}: {}", r.text);
        assert!(!r.text.contains("dXNlcjpwYXNz") && !r.text.contains(&good), "{what}: the credential is echoed");
    }
    // Unknown and malformed API keys.
    for k in [format!("qk_0123456789abcdef_{}", "a".repeat(64)), "qk_short".into()] {
        let r = s.send(s.request("GET", "/api/v1/functions").header("x-api-key", k.clone())).await;
        assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{k}: {}", r.text);
    }
    // Authentication comes before routing: no endpoint list for strangers.
    let r = s.send(s.request("GET", "/api/v1/nope")).await;
    assert_eq!((r.status, r.code()), (401, "missing_credentials"), "{}", r.text);
    // A token minted with a short life by the CLI is accepted.
    let short = s.env.token_with("acme", &["viewer"], &["--ttl", "5m", "--subject", "ci-bot"]);
    let r = s.call("GET", "/functions", Some(&short), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// With --jwt-issuer/--jwt-audience and a configured HS256 secret, tokens
/// must carry them and be signed with that secret; `quasm token create`
/// with the same settings makes such tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_jwt_secret_issuer_and_audience() {
    let secret = "an-hs256-secret-that-is-long-enough-0123456789";
    let cfg = ["--jwt-hs256-secret", secret, "--jwt-issuer", "https://idp.example", "--jwt-audience", "quasm-api"];
    let s = common::Server::start(&common::Env::new().await, &cfg, &[]).await;
    let good = s.env.token_with("acme", &["viewer"], &cfg);
    let r = s.call("GET", "/functions", Some(&good), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The data directory's own key is not the configured one.
    let plain = s.env.token_with("acme", &["viewer"], &[]);
    let r = s.call("GET", "/functions", Some(&plain), None).await;
    assert_eq!((r.status, r.code()), (401, "invalid_signature"), "{}", r.text);
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    let now = now_secs();
    let base = json!({"sub": "u", "tenant": "acme", "roles": ["viewer"], "exp": now + 600});
    let with = |extra: Value| {
        let mut c = base.clone();
        c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        sign_jwt(secret.as_bytes(), &hs, &c)
    };
    let ok = with(json!({"iss": "https://idp.example", "aud": "quasm-api"}));
    assert_eq!(s.call("GET", "/functions", Some(&ok), None).await.status, 200);
    for (what, token, code) in [
        ("no iss", with(json!({"aud": "quasm-api"})), "missing_claim"),
        ("other iss", with(json!({"iss": "https://evil.example", "aud": "quasm-api"})), "invalid_issuer"),
        ("no aud", with(json!({"iss": "https://idp.example"})), "missing_claim"),
        ("other aud", with(json!({"iss": "https://idp.example", "aud": "other"})), "invalid_audience"),
    ] {
        let r = s.call("GET", "/functions", Some(&token), None).await;
        assert_eq!((r.status, r.code()), (401, code), "{what}: {}", r.text);
    }
}
