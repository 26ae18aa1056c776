//! Outbound `fetch()` from user JS, and the SSRF defences around it.
//!
//! Only a hyper server on 127.0.0.1 started by each test ever receives
//! packets: every other destination (private, link-local, loopback under the
//! default policy, a redirect to any of those) must be refused before a
//! connection is made, which the tests show by the server's hit counter and
//! by finishing at once.

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use quasm_runtime::{FunctionSpec, HandlerKind, HostRules, HttpRequest, InvocationResult, Runtime, Status};
use serde_json::{json, Value};

// ---- the local server ------------------------------------------------------------

struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Starts the server on its own thread and runtime, so it keeps serving
/// across the per-invocation runtimes of `common::block`.
fn serve() -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        handle(req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    let port = rx.recv_timeout(Duration::from_secs(5)).expect("test server starts");
    Server { port, hits }
}

const JSON_BODY: &str = r#"{"message":"hello","items":[1,2,3]}"#;

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let b = Response::builder();
    let redirect = |to: &str| Response::builder().status(302).header("location", to).body(Full::default());
    let resp = match req.uri().path() {
        "/json" => b
            .header("content-type", "application/json")
            .header("x-served-by", "quasm-test")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(Full::new(Bytes::from(JSON_BODY))),
        // The request as JSON: method, headers (repeated names joined), body.
        "/echo" => {
            let method = req.method().to_string();
            let mut headers: BTreeMap<String, String> = BTreeMap::new();
            for (k, v) in req.headers() {
                let v = v.to_str().unwrap_or("<binary>").to_owned();
                headers.entry(k.as_str().to_owned()).and_modify(|e| *e = format!("{e}, {v}")).or_insert(v);
            }
            let query = req.uri().query().unwrap_or("").to_owned();
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let out = json!({
                "method": method, "query": query, "headers": headers,
                "body": String::from_utf8_lossy(&body), "bytes": body.to_vec(),
            });
            b.header("content-type", "application/json").body(Full::new(Bytes::from(out.to_string())))
        }
        "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data"),
        "/to-private" => redirect("http://10.0.0.1/"),
        "/hop" => redirect("/json"),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            b.body(Full::new(Bytes::from_static(b"late")))
        }
        "/big" => b.body(Full::new(Bytes::from(vec![b'x'; 5000]))),
        "/" => b.body(Full::new(Bytes::from_static(b"root"))),
        _ => b.status(404).body(Full::new(Bytes::from_static(b"not found"))),
    };
    Ok(resp.unwrap())
}

// ---- helpers ------------------------------------------------------------------------

/// Fetches `input.url` with `input.init` and reports the outcome as data; a
/// rejected fetch is caught and described.
const PROBE: &str = r#"export default { async run({ url, init }) {
    try {
        const r = await fetch(url, init);
        const text = await r.text();
        let json = null; try { json = JSON.parse(text) } catch {}
        return { ok: true, status: r.status, statusText: r.statusText, okFlag: r.ok, url: r.url, redirected: r.redirected,
                 headers: [...r.headers], cookies: r.headers.getSetCookie(), text, json };
    } catch (e) {
        return { ok: false, name: e.name, isTypeError: e instanceof TypeError, message: e.message };
    }
} }"#;

fn probe_on(rt: &Runtime, spec: &FunctionSpec, url: &str, init: Value) -> (Value, InvocationResult) {
    let started = Instant::now();
    let r = invoke(rt, spec, request(json!({"url": url, "init": init})));
    assert!(started.elapsed() < Duration::from_secs(1), "{url} took {:?}", started.elapsed());
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    (r.output.clone().unwrap(), r)
}

fn probe(rt: &Runtime, url: &str, init: Value) -> Value {
    probe_on(rt, &spec(rt, PROBE), url, init).0
}

/// Asserts `out` is a caught TypeError whose message is exactly `message`.
fn assert_refused(out: &Value, message: &str) {
    assert_eq!(out["ok"], json!(false), "{out}");
    assert_eq!(out["name"], json!("TypeError"), "{out}");
    assert_eq!(out["isTypeError"], json!(true), "{out}");
    assert_eq!(out["message"], json!(message), "{out}");
}

/// Both runtimes keep serving after a refusal: the default one runs code,
/// the loopback one still reaches the local server.
fn assert_still_serving(server: &Server) {
    assert_healthy();
    let out = probe(runtime_allowing_loopback(), &server.url("/json"), Value::Null);
    assert_eq!((out["ok"].clone(), out["status"].clone()), (json!(true), json!(200)), "{out}");
}

// ---- the default policy refuses every internal address --------------------------------

#[test]
fn loopback_ip_refused_by_default() {
    let server = serve();
    let url = server.url("/json");
    let out = probe(runtime(), &url, Value::Null);
    assert_refused(&out, &format!("fetch to {url} refused: 127.0.0.1 is a loopback address"));
    assert_eq!(server.hits(), 0, "refused before connecting");
    assert_healthy();
}

#[test]
fn private_ip_refused_by_default() {
    let out = probe(runtime(), "http://10.0.0.1/", Value::Null);
    assert_refused(&out, "fetch to http://10.0.0.1/ refused: 10.0.0.1 is a private address");
    assert!(out["message"].as_str().unwrap().contains("private"));
    assert_healthy();
}

#[test]
fn cloud_metadata_refused_by_default() {
    let out = probe(runtime(), "http://169.254.169.254/latest/meta-data/iam/security-credentials/", Value::Null);
    assert_refused(
        &out,
        "fetch to http://169.254.169.254/latest/meta-data/iam/security-credentials/ refused: \
         169.254.169.254 is a link-local (cloud metadata) address",
    );
    assert!(out["message"].as_str().unwrap().contains("link-local"));
    assert_healthy();
}

#[test]
fn ipv6_loopback_refused_by_default() {
    let server = serve();
    let url = format!("http://[::1]:{}/json", server.port);
    let out = probe(runtime(), &url, Value::Null);
    assert_refused(&out, &format!("fetch to {url} refused: ::1 is a loopback address"));
    assert_eq!(server.hits(), 0);
    assert_healthy();
}

#[test]
fn localhost_name_refused_by_default() {
    let server = serve();
    let url = format!("http://localhost:{}/json", server.port);
    let out = probe(runtime(), &url, Value::Null);
    assert_eq!((out["ok"].clone(), out["name"].clone()), (json!(false), json!("TypeError")), "{out}");
    let msg = out["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("fetch to {url} refused: localhost resolves only to forbidden addresses (")),
        "{msg}"
    );
    assert!(msg.contains("127.0.0.1 loopback"), "{msg}");
    assert_eq!(server.hits(), 0);
    assert_healthy();
}

#[test]
fn other_spellings_of_internal_addresses_refused() {
    let rt = runtime();
    let s = spec(rt, PROBE);
    for (url, reason) in [
        ("http://2130706433/", "127.0.0.1 is a loopback address"),
        ("http://0x7f.1/", "127.0.0.1 is a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254 is a link-local (cloud metadata) address"),
        ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("http://192.168.1.1:8080/admin", "192.168.1.1 is a private address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a unique-local address"),
    ] {
        let (out, _) = probe_on(rt, &s, url, Value::Null);
        let msg = out["message"].as_str().unwrap_or_default();
        assert!(msg.ends_with(&format!("refused: {reason}")), "{url}: {out}");
        assert_eq!(out["name"], json!("TypeError"), "{url}");
    }
    // Only http(s) leaves the sandbox.
    let (out, _) = probe_on(rt, &s, "file:///etc/passwd", Value::Null);
    assert_refused(
        &out,
        "fetch to file:///etc/passwd refused: unsupported scheme \"file:\" (only http: and https: are allowed)",
    );
    assert_healthy();
}

#[test]
fn refused_fetches_count_as_subrequests() {
    let rt = runtime();
    let s = spec(rt, PROBE);
    let (_, r) = probe_on(rt, &s, "http://10.0.0.1/", Value::Null);
    assert_eq!(r.subrequests, 1);
}

// ---- the operator override allows the local server ------------------------------------

#[test]
fn get_json_from_the_local_server() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let url = server.url("/json");
    let src = r#"export default { async run(url) {
        const r = await fetch(url);
        return { status: r.status, statusText: r.statusText, ok: r.ok, url: r.url, redirected: r.redirected, type: r.type,
                 ct: r.headers.get('Content-Type'), servedBy: r.headers.get('x-served-by'), cookies: r.headers.getSetCookie(),
                 body: await r.json(), used: r.bodyUsed };
    } }"#;
    let s = spec(rt, src);
    let r = invoke(rt, &s, request(json!(url)));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!({
            "status": 200, "statusText": "OK", "ok": true, "url": url, "redirected": false, "type": "default",
            "ct": "application/json", "servedBy": "quasm-test", "cookies": ["a=1", "b=2"],
            "body": {"message": "hello", "items": [1, 2, 3]}, "used": true,
        })
    );
    assert_eq!(r.subrequests, 1);
    assert_eq!(server.hits(), 1);

    // Plain text and a 404 are responses, not errors.
    let out = probe(rt, &server.url("/"), Value::Null);
    assert_eq!((out["status"].clone(), out["text"].clone()), (json!(200), json!("root")));
    let out = probe(rt, &server.url("/missing"), Value::Null);
    assert_eq!(
        (out["ok"].clone(), out["status"].clone(), out["statusText"].clone(), out["okFlag"].clone()),
        (json!(true), json!(404), json!("Not Found"), json!(false))
    );
}

#[test]
fn post_sends_body_and_headers() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let src = r#"export default { async run(base) {
        const text = await (await fetch(base + '/echo?x=1', {
            method: 'post',
            headers: { 'Content-Type': 'application/json', 'X-Custom': '42', Authorization: 'Bearer t0k3n' },
            body: JSON.stringify({ a: 1, s: 'é' }),
        })).json();
        const bin = await (await fetch(new Request(base + '/echo', { method: 'PUT', body: new Uint8Array([0, 1, 128, 255]) }))).json();
        const form = await (await fetch(base + '/echo', { method: 'POST', body: new URLSearchParams({ q: 'a b', n: '1' }) })).json();
        const forged = await (await fetch(base + '/echo', { headers: { Host: 'internal.example', 'User-Agent': 'mine' } })).json();
        return { text, bin, form, forged };
    } }"#;
    let s = spec(rt, src);
    let r = invoke(rt, &s, request(json!(server.url(""))));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    let out = r.output.unwrap();
    let host = format!("127.0.0.1:{}", server.port);

    let text = &out["text"];
    assert_eq!(text["method"], json!("POST"));
    assert_eq!(text["query"], json!("x=1"));
    assert_eq!(text["body"], json!(r#"{"a":1,"s":"é"}"#));
    assert_eq!(text["headers"]["content-type"], json!("application/json"));
    assert_eq!(text["headers"]["x-custom"], json!("42"));
    assert_eq!(text["headers"]["authorization"], json!("Bearer t0k3n"));
    assert_eq!(text["headers"]["content-length"], json!("16"));
    assert_eq!(text["headers"]["user-agent"], json!("quasm"));
    assert_eq!(text["headers"]["host"], json!(host));

    assert_eq!(out["bin"]["method"], json!("PUT"));
    assert_eq!(out["bin"]["bytes"], json!([0, 1, 128, 255]));
    assert_eq!(out["bin"]["headers"]["content-length"], json!("4"));

    assert_eq!(out["form"]["body"], json!("q=a+b&n=1"));
    assert_eq!(out["form"]["headers"]["content-type"], json!("application/x-www-form-urlencoded;charset=UTF-8"));

    // A forged Host header cannot steer the request to another vhost.
    assert_eq!(out["forged"]["method"], json!("GET"));
    assert_eq!(out["forged"]["headers"]["host"], json!(host));
    assert_eq!(out["forged"]["headers"]["user-agent"], json!("mine"));
    assert_eq!(r.subrequests, 4);
    assert_eq!(server.hits(), 4);
}

#[test]
fn redirect_hop_is_followed() {
    let server = serve();
    let out = probe(runtime_allowing_loopback(), &server.url("/hop"), Value::Null);
    assert_eq!(out["ok"], json!(true), "{out}");
    assert_eq!(out["status"], json!(200));
    assert_eq!(out["redirected"], json!(true));
    assert_eq!(out["url"], json!(server.url("/json")));
    assert_eq!(out["json"], serde_json::from_str::<Value>(JSON_BODY).unwrap());
    assert_eq!(server.hits(), 2);
}

#[test]
fn redirect_to_cloud_metadata_refused() {
    let server = serve();
    let out = probe(runtime_allowing_loopback(), &server.url("/to-metadata"), Value::Null);
    assert_refused(
        &out,
        "redirect to http://169.254.169.254/latest/meta-data refused: 169.254.169.254 is a link-local (cloud metadata) address",
    );
    assert_eq!(server.hits(), 1, "only the first hop was sent");
    assert_still_serving(&server);
}

#[test]
fn redirect_to_private_address_refused() {
    let server = serve();
    let out = probe(runtime_allowing_loopback(), &server.url("/to-private"), Value::Null);
    assert_refused(&out, "redirect to http://10.0.0.1/ refused: 10.0.0.1 is a private address");
    assert_eq!(server.hits(), 1);
    assert_still_serving(&server);
}

#[test]
fn manual_redirect_returns_the_3xx() {
    let server = serve();
    let url = server.url("/to-metadata");
    let out = probe(runtime_allowing_loopback(), &url, json!({"redirect": "manual"}));
    assert_eq!(out["ok"], json!(true), "{out}");
    assert_eq!(out["status"], json!(302));
    assert_eq!(out["statusText"], json!("Found"));
    assert_eq!(out["okFlag"], json!(false));
    assert_eq!(out["redirected"], json!(false));
    assert_eq!(out["url"], json!(url));
    let location: Vec<&Value> = out["headers"].as_array().unwrap().iter().filter(|h| h[0] == "location").collect();
    assert_eq!(location, vec![&json!(["location", "http://169.254.169.254/latest/meta-data"])]);
    assert_eq!(server.hits(), 1, "the redirect was not followed");
}

#[test]
fn error_redirect_mode_rejects() {
    let server = serve();
    let url = server.url("/hop");
    let out = probe(runtime_allowing_loopback(), &url, json!({"redirect": "error"}));
    assert_refused(&out, &format!("fetch to {url} failed: redirected to /json but redirect mode is \"error\""));
    assert_eq!(server.hits(), 1);
    assert_still_serving(&server);
}

#[test]
fn override_covers_only_127_0_0_1() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let url = format!("http://[::1]:{}/json", server.port);
    assert_refused(&probe(rt, &url, Value::Null), &format!("fetch to {url} refused: ::1 is a loopback address"));
    assert_refused(
        &probe(rt, "http://127.0.0.2/", Value::Null),
        "fetch to http://127.0.0.2/ refused: 127.0.0.2 is a loopback address",
    );
    assert_refused(
        &probe(rt, "http://10.0.0.1/", Value::Null),
        "fetch to http://10.0.0.1/ refused: 10.0.0.1 is a private address",
    );
    assert_eq!(server.hits(), 0);
    // A name that resolves to the allowed address works.
    let out = probe(rt, &format!("http://localhost:{}/json", server.port), Value::Null);
    assert_eq!((out["ok"].clone(), out["status"].clone()), (json!(true), json!(200)), "{out}");
    assert_still_serving(&server);
}

// ---- per-function host rules ---------------------------------------------------------

#[test]
fn host_deny_rule_refuses() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let mut s = spec(rt, PROBE);
    s.host_rules = Arc::new(HostRules { allow: vec![], deny: vec!["127.0.0.1".into(), "*.internal.example".into()] });
    let url = server.url("/json");
    let (out, _) = probe_on(rt, &s, &url, Value::Null);
    assert_refused(&out, &format!("fetch to {url} refused: host 127.0.0.1 is in this function's denied hosts"));
    let (out, _) = probe_on(rt, &s, "https://db.internal.example/", Value::Null);
    assert_refused(
        &out,
        "fetch to https://db.internal.example/ refused: host db.internal.example is in this function's denied hosts",
    );
    // A redirect hop is held to the same rules.
    let via_name = format!("http://localhost:{}/hop", server.port);
    let mut only_localhost = spec(rt, PROBE);
    only_localhost.host_rules = Arc::new(HostRules { allow: vec!["localhost".into()], deny: vec![] });
    let (out, _) = probe_on(rt, &only_localhost, &via_name, Value::Null);
    assert_eq!(
        (out["ok"].clone(), out["url"].clone()),
        (json!(true), json!(format!("http://localhost:{}/json", server.port)))
    );
    let (out, _) = probe_on(rt, &only_localhost, &server.url("/json"), Value::Null);
    assert_refused(
        &out,
        &format!("fetch to {} refused: host 127.0.0.1 is not in this function's allowed hosts", server.url("/json")),
    );
    assert_eq!(server.hits(), 2, "only the allowed localhost hops reached the server");
    assert_still_serving(&server);
}

#[test]
fn host_allow_rule_refuses_everything_else() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let mut s = spec(rt, PROBE);
    s.host_rules = Arc::new(HostRules { allow: vec!["api.example.com".into()], deny: vec![] });
    let url = server.url("/json");
    let (out, _) = probe_on(rt, &s, &url, Value::Null);
    assert_refused(&out, &format!("fetch to {url} refused: host 127.0.0.1 is not in this function's allowed hosts"));
    assert_eq!(server.hits(), 0);
    // The same rules on another version of the function do not leak.
    let out = probe(rt, &url, Value::Null);
    assert_eq!(out["status"], json!(200), "{out}");
    assert_still_serving(&server);
}

// ---- more of fetch() against the local server ------------------------------------------

#[test]
fn parallel_fetches_resolve_independently() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let src = r#"export default { async run(base) {
        const rs = await Promise.all([3, 1, 2].map(i => fetch(base + '/echo?i=' + i).then(r => r.json())));
        return rs.map(r => r.query);
    } }"#;
    let s = spec(rt, src);
    let r = invoke(rt, &s, request(json!(server.url(""))));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(r.output, Some(json!(["i=3", "i=1", "i=2"])));
    assert_eq!((r.subrequests, server.hits()), (3, 3));
}

#[test]
fn abort_signal_timeout_cancels_a_slow_fetch() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let src = r#"export default { async run(base) {
        const t0 = performance.now();
        try { await fetch(base + '/slow', { signal: AbortSignal.timeout(50) }); return 'not aborted' }
        catch (e) { return [e.name, e.message, e instanceof DOMException, performance.now() - t0 >= 50] }
    } }"#;
    let s = spec(rt, src);
    let started = Instant::now();
    let r = invoke(rt, &s, request(json!(server.url(""))));
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(r.output, Some(json!(["TimeoutError", "The operation was aborted due to timeout", true, true])));
    // An already-aborted signal never reaches the network.
    let src = r#"export default { async run(base) {
        const ac = new AbortController(); ac.abort(new Error('changed my mind'));
        try { await fetch(base + '/json', { signal: ac.signal }); return 'sent' } catch (e) { return e.message }
    } }"#;
    let r = invoke(rt, &spec(rt, src), request(json!(server.url(""))));
    assert_eq!(r.output, Some(json!("changed my mind")), "{r:#?}");
    assert_eq!(server.hits(), 1, "only the slow request was sent");
}

#[test]
fn response_size_limit_is_enforced() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let mut s = spec(rt, PROBE);
    s.limits.max_fetch_response_bytes = 1000;
    let url = server.url("/big");
    let (out, _) = probe_on(rt, &s, &url, Value::Null);
    assert_refused(&out, &format!("response body from {url} exceeds 1000 bytes"));
    let (out, _) = probe_on(rt, &s, &server.url("/json"), Value::Null);
    assert_eq!(out["status"], json!(200), "small responses still pass: {out}");
    assert_still_serving(&server);
}

#[test]
fn fetch_handler_proxies_the_incoming_request_upstream() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let src = r#"export default { async fetch(request, env) {
        const url = new URL(request.url);
        const upstream = await fetch(new Request(env.UPSTREAM + '/echo' + url.search, request));
        const headers = new Headers(upstream.headers);
        headers.set('x-proxied-by', 'quasm');
        return new Response(upstream.body, { status: upstream.status, headers });
    } }"#;
    let s = spec(rt, src);
    let mut req = request(Value::Null);
    req.kind = Some(HandlerKind::Fetch);
    req.request = Some(HttpRequest {
        method: "POST".into(),
        url: "https://fn.example.com/in?page=2".into(),
        headers: vec![("Content-Type".into(), "application/octet-stream".into()), ("X-In".into(), "1".into())],
        body: vec![0, 1, 2, 253, 254, 255],
    });
    req.env.insert("UPSTREAM".into(), server.url(""));
    let r = invoke(rt, &s, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    let resp = r.response.unwrap();
    assert_eq!(resp.status, 200);
    assert!(resp.headers.contains(&("x-proxied-by".into(), "quasm".into())), "{:?}", resp.headers);
    let echo: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(echo["method"], json!("POST"));
    assert_eq!(echo["query"], json!("page=2"));
    assert_eq!(echo["bytes"], json!([0, 1, 2, 253, 254, 255]));
    assert_eq!(echo["headers"]["x-in"], json!("1"));
    assert_eq!(echo["headers"]["content-type"], json!("application/octet-stream"));
    assert_eq!(echo["headers"]["host"], json!(format!("127.0.0.1:{}", server.port)), "not fn.example.com");
    assert_eq!(server.hits(), 1);
}

// ---- known bugs ------------------------------------------------------------------------

#[test]
fn host_deny_rule_covers_the_ipv4_mapped_spelling() {
    let server = serve();
    let rt = runtime_allowing_loopback();
    let mut s = spec(rt, PROBE);
    s.host_rules = Arc::new(HostRules { allow: vec![], deny: vec!["127.0.0.1".into()] });
    for url in [
        format!("http://[::ffff:127.0.0.1]:{}/json", server.port),
        format!("http://[::ffff:7f00:1]:{}/json", server.port),
    ] {
        let (out, _) = probe_on(rt, &s, &url, Value::Null);
        assert_eq!(out["ok"], json!(false), "{url}: {out}");
        assert!(out["message"].as_str().unwrap().contains("in this function's denied hosts"), "{url}: {out}");
    }
    assert_eq!(server.hits(), 0, "the denied address was reached");
}
