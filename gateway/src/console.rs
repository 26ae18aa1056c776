//! The web console (`ui/`): its built files, embedded in the binary, served
//! at `/` and at every route of the single-page app (which fall back to
//! `index.html`). Hashed assets are cached for a year; every file is sent
//! pre-compressed (brotli or gzip, written by the UI build) when the client
//! accepts it. A binary built before the console was built answers `/` with
//! how to build it.

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};

use crate::problem::{full, Problem, Resp};

#[derive(rust_embed::RustEmbed)]
#[folder = "../ui/dist/"]
#[allow_missing = true]
struct Dist;

/// The first path segments of the app's own pages (see ui/src/App.tsx):
/// they answer `index.html`; any other unknown path stays a JSON 404, as
/// API clients expect.
const PAGES: [&str; 9] =
    ["", "functions", "executions", "dead-letters", "alerts", "webhooks", "api-keys", "audit", "settings"];

/// Assets whose names carry a content hash: never change, cache forever.
const HASHED: &str = "assets/";

/// Worker scripts are same-origin files; Monaco injects style elements.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Quasm console not built</title>\
<body style=\"font:16px system-ui;max-width:40rem;margin:4rem auto;line-height:1.5\">\
<h1>The Quasm console is not built into this binary</h1>\
<p>Build it, then rebuild <code>quasm</code>:</p>\
<pre>cd ui &amp;&amp; npm ci &amp;&amp; npm run build\ncd .. &amp;&amp; cargo build</pre>\
<p>(<code>scripts/start.sh</code> does both.) The admin API at <code>/api/v1</code> works without it.</p>";

/// Answers a GET or HEAD outside the API, the function routes and the probes.
pub(crate) fn serve(method: &Method, path: &str, headers: &HeaderMap) -> Resp {
    if method != Method::GET && method != Method::HEAD {
        return Problem::not_found(format!("nothing at {path}")).into_response();
    }
    let name = path.trim_start_matches('/');
    let (name, file) = match Dist::get(name).filter(|_| !name.is_empty()) {
        Some(f) => (name, f),
        // A missing hashed asset is a 404, not the app: a stale page asking
        // for an old chunk must fail loudly rather than parse HTML as JS.
        None if name.starts_with(HASHED) => {
            return Problem::not_found(format!("no console asset {path}")).into_response()
        }
        None if !PAGES.contains(&name.split('/').next().unwrap_or_default()) => {
            return Problem::not_found(format!("nothing at {path}")).into_response()
        }
        None => match Dist::get("index.html") {
            Some(f) => ("index.html", f),
            None => return page(StatusCode::OK, NOT_BUILT),
        },
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, content_type(name))
        .header(header::ETAG, &etag)
        .header(header::VARY, "accept-encoding")
        .header(header::CACHE_CONTROL, cache_control(name))
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer");
    if name == "index.html" {
        resp = resp.header("content-security-policy", CSP).header("x-frame-options", "DENY");
    }
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        return resp.status(StatusCode::NOT_MODIFIED).body(full(Vec::new())).expect("valid response");
    }
    let accepts = |enc: &str| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|e| e.split(';').next().is_some_and(|e| e.trim() == enc))
    };
    let mut body = file.data;
    for (enc, ext) in [("br", "br"), ("gzip", "gz")] {
        if accepts(enc) {
            if let Some(c) = Dist::get(&format!("{name}.{ext}")) {
                resp = resp.header(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
                body = c.data;
                break;
            }
        }
    }
    let body = if method == Method::HEAD { Vec::new() } else { body.into_owned() };
    resp.body(full(body)).expect("valid response")
}

fn page(status: StatusCode, html: &'static str) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(full(html))
        .expect("valid response")
}

fn cache_control(name: &str) -> &'static str {
    if name.starts_with(HASHED) {
        "public, max-age=31536000, immutable"
    } else {
        // index.html and unhashed files: revalidate (cheap with the ETag).
        "no-cache"
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("ttf") => "font/ttf",
        Some("woff2") => "font/woff2",
        Some("ts") => "text/plain; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
