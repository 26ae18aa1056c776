//! Every in-function API, through the real runtime: console, encoding,
//! base64, structuredClone, URL, Headers, Request/Response, timers, crypto,
//! env, ctx (with a live observer), env.KV, env.EVENTS and every handler kind.
//! Each test asserts exact values.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use hmac::{Hmac, Mac};
use quasm_runtime::{
    HandlerKind, HttpRequest, InvocationObserver, InvocationResult, InvokeRequest, KvStore, LogEntry, LogLevel,
    MemoryEvents, MemoryKv, Services, Status,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

// ---- helpers -----------------------------------------------------------------

/// Runs the `run` handler of `src` and returns its output, failing on any non-ok status.
fn ok(src: &str, input: Value) -> Value {
    let r = run(src, input);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    r.output.expect("a run handler has an output")
}

/// Invokes a fresh version of `src` with `req` on the default runtime.
fn call(src: &str, req: InvokeRequest) -> InvocationResult {
    let rt = runtime();
    let s = spec(rt, src);
    invoke(rt, &s, req)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> InvokeRequest {
    InvokeRequest {
        kind: Some(HandlerKind::Fetch),
        request: Some(HttpRequest {
            method: method.into(),
            url: url.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.to_vec(),
        }),
        ctx: ctx(),
        ..Default::default()
    }
}

fn header<'a>(r: &'a quasm_runtime::HttpResponse, name: &str) -> Vec<&'a str> {
    r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Services with a shared in-memory KV the test can inspect.
fn kv_services(kv: &Arc<MemoryKv>) -> Services {
    Services { kv: kv.clone(), events: Arc::new(MemoryEvents::default()) }
}

fn kv_get(kv: &MemoryKv, tenant: &str, key: &str) -> Option<Vec<u8>> {
    block(kv.get(tenant, key)).unwrap()
}

// ---- console -------------------------------------------------------------------

#[test]
fn console_levels_formatting_and_timestamps() {
    let src = r#"export default { run() {
        console.debug('d'); console.log('l'); console.info('i'); console.warn('w'); console.error('e');
        console.log({ a: 1, b: 'x', c: [1, 2, { d: null }], m: new Map([['k', 1]]), s: new Set([true]) });
        console.log('%s has %d items costing %f (%j) 100%%', 'cart', 3, 9.5, { ok: true });
        console.log('multi', 1, true, undefined, null, 5n);
        const o = { name: 'o' }; o.self = o; console.log(o);
        console.log({ a: { b: { c: { d: { e: 1 } } } } });
        console.log(new Uint8Array([1, 2]), [1, , 3], new Date(0), function named() {}, Symbol('s'));
        console.log(new Headers({ 'X-A': '1' }));
        console.error(new TypeError('bad thing'));
        console.group('grp'); console.log('inside'); console.groupEnd(); console.log('outside');
        console.count(); console.count(); console.count('x');
        console.assert(1 === 2, 'math is broken');
        return 'ok';
    } }"#;
    let before = now_ms();
    let r = run(src, json!(null));
    let after = now_ms();
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert!(!r.logs_truncated);
    let got: Vec<(LogLevel, &str)> = r.logs.iter().map(|l| (l.level, l.message.as_str())).collect();
    let want: Vec<(LogLevel, &str)> = vec![
        (LogLevel::Debug, "d"),
        (LogLevel::Info, "l"),
        (LogLevel::Info, "i"),
        (LogLevel::Warn, "w"),
        (LogLevel::Error, "e"),
        (LogLevel::Info, "{ a: 1, b: 'x', c: [ 1, 2, { d: null } ], m: Map(1) { 'k' => 1 }, s: Set(1) { true } }"),
        (LogLevel::Info, "cart has 3 items costing 9.5 ({\"ok\":true}) 100%"),
        (LogLevel::Info, "multi 1 true undefined null 5n"),
        (LogLevel::Info, "{ name: 'o', self: [Circular] }"),
        (LogLevel::Info, "{ a: { b: { c: { d: [Object] } } } }"),
        (
            LogLevel::Info,
            "Uint8Array(2) [ 1, 2 ] [ 1, <1 empty item>, 3 ] 1970-01-01T00:00:00.000Z [Function: named] Symbol(s)",
        ),
        (LogLevel::Info, "Headers { 'x-a': '1' }"),
    ];
    assert_eq!(got[..want.len()], want[..]);
    let err = &r.logs[want.len()];
    assert_eq!(err.level, LogLevel::Error);
    assert!(err.message.starts_with("TypeError: bad thing\n"), "{}", err.message);
    assert!(err.message.contains("fn.js:"), "the stack points at user code: {}", err.message);
    assert!(!err.message.contains("prelude"), "{}", err.message);
    let rest: Vec<(LogLevel, &str)> = got[want.len() + 1..].to_vec();
    assert_eq!(
        rest,
        vec![
            (LogLevel::Info, "grp"),
            (LogLevel::Info, "  inside"),
            (LogLevel::Info, "outside"),
            (LogLevel::Info, "default: 1"),
            (LogLevel::Info, "default: 2"),
            (LogLevel::Info, "x: 1"),
            (LogLevel::Error, "Assertion failed: math is broken"),
        ]
    );
    for l in &r.logs {
        assert!((before..=after).contains(&l.time_ms), "time_ms {} not in {before}..={after}", l.time_ms);
    }
    assert!(r.logs.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
}

// ---- TextEncoder / TextDecoder -----------------------------------------------

#[test]
fn text_encoder_and_decoder() {
    let src = r#"export default { run() {
        const te = new TextEncoder(), td = new TextDecoder();
        const b = te.encode('héllo €😀');
        let fatal;
        try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0x68, 0xff, 0x69])) }
        catch (e) { fatal = [e.name, e.message, e instanceof TypeError] }
        let label;
        try { new TextDecoder('latin1') } catch (e) { label = [e.name, e.message] }
        const sd = new TextDecoder();
        return {
            encoding: [te.encoding, td.encoding, td.fatal, new TextDecoder('UTF8', { fatal: true }).fatal],
            isU8: b instanceof Uint8Array,
            bytes: Array.from(b),
            round: td.decode(b),
            fromBuffer: td.decode(b.buffer),
            lossy: td.decode(new Uint8Array([0x68, 0xff, 0x69])),
            bom: td.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])),
            keptBom: new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])).length,
            stream: sd.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + sd.decode(new Uint8Array([0xac])),
            into: te.encodeInto('abc€', new Uint8Array(4)),
            loneSurrogate: Array.from(te.encode('\ud800')),
            empty: [te.encode().length, td.decode()],
            fatal, label,
        };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "encoding": ["utf-8", "utf-8", false, true],
            "isU8": true,
            "bytes": [0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0x20, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80],
            "round": "héllo €😀",
            "fromBuffer": "héllo €😀",
            "lossy": "h\u{fffd}i",
            "bom": "A",
            "keptBom": 2,
            "stream": "€",
            "into": {"read": 3, "written": 3},
            "loneSurrogate": [0xef, 0xbf, 0xbd],
            "empty": [0, ""],
            "fatal": ["TypeError", "The encoded data was not valid for encoding utf-8", true],
            "label": ["RangeError", "TextDecoder: the encoding \"latin1\" is not supported (Quasm supports utf-8 only)"],
        })
    );
}

// ---- atob / btoa -----------------------------------------------------------------

#[test]
fn atob_and_btoa() {
    let src = r#"export default { run() {
        const err = f => { try { f(); return null } catch (e) { return [e.name, e instanceof DOMException, e.code] } };
        return {
            b: btoa('hello'), a: atob('aGVsbG8='),
            bin: btoa(String.fromCharCode(0, 255, 128)),
            binBack: Array.from(atob('AP+A'), c => c.charCodeAt(0)),
            whitespace: atob(' aGVs\nbG8= '), noPad: atob('aGk'), empty: [btoa(''), atob('')],
            btoaErr: err(() => btoa('€')),
            atobErr: err(() => atob('a')),
            atobBadChar: err(() => atob('ab!d')),
        };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "b": "aGVsbG8=", "a": "hello", "bin": "AP+A", "binBack": [0, 255, 128],
            "whitespace": "hello", "noPad": "hi", "empty": ["", ""],
            "btoaErr": ["InvalidCharacterError", true, 5],
            "atobErr": ["InvalidCharacterError", true, 5],
            "atobBadChar": ["InvalidCharacterError", true, 5],
        })
    );
}

// ---- structuredClone ---------------------------------------------------------------

#[test]
fn structured_clone_types_cycles_and_errors() {
    let src = r#"export default { run() {
        const m = new Map([['k', { v: 1 }], [1, 'one']]);
        const s = new Set([1, 'two']);
        const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
        const o = { m, s, d, arr: [1, { x: 2 }], u8: new Uint8Array([1, 2, 3]), re: /a+b/gi, big: 12n, nested: { deep: [true] } };
        o.self = o; o.arr.push(o.arr); o.alias = o.nested;
        const c = structuredClone(o);
        const err = v => { try { structuredClone(v); return null } catch (e) { return [e.name, e.code, e instanceof DOMException, e.message] } };
        return {
            distinct: c !== o && c.m !== m && c.s !== s && c.d !== d && c.u8 !== o.u8 && c.nested !== o.nested,
            map: [c.m instanceof Map, c.m.size, c.m.get('k'), c.m.get(1), c.m.get('k') !== m.get('k')],
            set: [c.s instanceof Set, [...c.s]],
            date: [c.d instanceof Date, c.d.toISOString()],
            cycles: [c.self === c, c.arr[2] === c.arr, c.alias === c.nested],
            u8: [c.u8 instanceof Uint8Array, Array.from(c.u8), c.u8.buffer !== o.u8.buffer],
            re: [c.re instanceof RegExp, c.re.source, c.re.flags],
            big: typeof c.big === 'bigint' && c.big === 12n,
            plain: [c.arr[1], c.nested],
            fn: err({ f() {} }),
            topFn: err(() => 1),
            sym: err(Symbol('s'))?.[0],
            weak: err(new WeakMap())?.[0],
            headers: err(new Headers())?.[0],
        };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "distinct": true,
            "map": [true, 2, {"v": 1}, "one", true],
            "set": [true, [1, "two"]],
            "date": [true, "2024-01-02T03:04:05.006Z"],
            "cycles": [true, true, true],
            "u8": [true, [1, 2, 3], true],
            "re": [true, "a+b", "gi"],
            "big": true,
            "plain": [{"x": 2}, {"deep": [true]}],
            "fn": ["DataCloneError", 25, true, "[Function: f] could not be cloned."],
            "topFn": ["DataCloneError", 25, true, "[Function (anonymous)] could not be cloned."],
            "sym": "DataCloneError",
            "weak": "DataCloneError",
            "headers": "DataCloneError",
        })
    );
}

// ---- URL / URLSearchParams -----------------------------------------------------

#[test]
fn url_parsing_relative_resolution_and_errors() {
    let src = r#"export default { run() {
        const parts = u => ({ href: u.href, origin: u.origin, protocol: u.protocol, username: u.username,
            password: u.password, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname,
            search: u.search, hash: u.hash });
        const err = f => { try { f(); return null } catch (e) { return [e.name, e instanceof TypeError, e.message] } };
        return {
            full: parts(new URL('https://user:pw@Example.COM:8080/a/b/../c?x=1&y=two#frag')),
            defaultPort: new URL('https://example.com:443/').href,
            idn: new URL('https://bücher.de/').hostname,
            relative: new URL('../d?q=1', 'https://example.com/a/b/c').href,
            rootRelative: new URL('/x', new URL('https://example.com/a/b')).href,
            schemeRelative: new URL('//other.org/p', 'https://example.com/').href,
            queryOnly: new URL('?z=1', 'https://example.com/p?q=0#h').href,
            str: [String(new URL('http://a.b')), JSON.stringify({ u: new URL('http://a.b/c') })],
            canParse: [URL.canParse('https://ok.example'), URL.canParse('/p'), URL.canParse('/p', 'https://a.b')],
            parse: [URL.parse('nope'), URL.parse('/p', 'https://a.b').href],
            invalid: err(() => new URL('not a url')),
            noBase: err(() => new URL('/path')),
            badHost: err(() => new URL('http://exa mple.com/')),
            badBase: err(() => new URL('x', 'also not a url')),
        };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "full": {
                "href": "https://user:pw@example.com:8080/a/c?x=1&y=two#frag",
                "origin": "https://example.com:8080", "protocol": "https:", "username": "user",
                "password": "pw", "host": "example.com:8080", "hostname": "example.com", "port": "8080",
                "pathname": "/a/c", "search": "?x=1&y=two", "hash": "#frag",
            },
            "defaultPort": "https://example.com/",
            "idn": "xn--bcher-kva.de",
            "relative": "https://example.com/a/d?q=1",
            "rootRelative": "https://example.com/x",
            "schemeRelative": "https://other.org/p",
            "queryOnly": "https://example.com/p?z=1",
            "str": ["http://a.b/", "{\"u\":\"http://a.b/c\"}"],
            "canParse": [true, false, true],
            "parse": [null, "https://a.b/p"],
            "invalid": ["TypeError", true, "Invalid URL: not a url"],
            "noBase": ["TypeError", true, "Invalid URL: /path"],
            "badHost": ["TypeError", true, "Invalid URL: http://exa mple.com/"],
            "badBase": ["TypeError", true, "Invalid URL: x"],
        })
    );
}

#[test]
fn url_setters() {
    let src = r#"export default { run() {
        const u = new URL('http://example.com/');
        const steps = [];
        u.protocol = 'https'; steps.push(u.href);
        u.port = '8443'; steps.push(u.href);
        u.hostname = 'api.example.com'; steps.push(u.href);
        u.pathname = '/x y/ü'; steps.push(u.href);
        u.search = 'a=1&b=2'; steps.push(u.href);
        u.hash = 'h'; steps.push(u.href);
        u.username = 'me'; u.password = 'p@ss'; steps.push(u.href);
        u.port = 'abc'; steps.push(u.port);          // invalid: ignored
        u.port = ''; steps.push(u.host);
        u.host = 'other.org:81'; steps.push(u.host);
        u.protocol = 'ftp!'; steps.push(u.protocol); // invalid: ignored
        u.search = ''; u.hash = ''; steps.push(u.href);
        let hrefErr;
        try { u.href = 'not a url' } catch (e) { hrefErr = [e.name, e.message] }
        u.href = 'https://new.example/path?k=v'; steps.push(u.pathname, u.search);
        return { steps, hrefErr };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "steps": [
                "https://example.com/",
                "https://example.com:8443/",
                "https://api.example.com:8443/",
                "https://api.example.com:8443/x%20y/%C3%BC",
                "https://api.example.com:8443/x%20y/%C3%BC?a=1&b=2",
                "https://api.example.com:8443/x%20y/%C3%BC?a=1&b=2#h",
                "https://me:p%40ss@api.example.com:8443/x%20y/%C3%BC?a=1&b=2#h",
                "8443",
                "api.example.com",
                "other.org:81",
                "https:",
                "https://me:p%40ss@other.org:81/x%20y/%C3%BC",
                "/path", "?k=v",
            ],
            "hrefErr": ["TypeError", "Invalid URL: not a url"],
        })
    );
}

#[test]
fn url_search_params_and_live_update() {
    let src = r#"export default { run() {
        const u = new URL('https://example.com/s?a=1&b=2&a=3');
        const p = u.searchParams;
        const out = { same: u.searchParams === p, initial: [p.get('a'), p.getAll('a'), p.has('b'), p.has('a', '3'), p.size] };
        p.append('c', 'x y&z'); out.afterAppend = u.href;
        p.delete('a'); p.set('b', 'é'); out.afterEdit = [u.href, u.search];
        u.search = '?z=9&z=8'; out.afterSearch = [p.get('z'), p.getAll('z'), p.get('b'), p.size];
        u.href = 'https://example.com/?k=v'; out.afterHref = [p.get('k'), [...p]];
        p.delete('k'); out.emptied = [u.href, u.search];
        p.append('b', '2'); p.append('a', '1'); p.sort(); out.sorted = u.href;
        const q = new URLSearchParams('?x=1+2&y=%26&empty=&flag');
        out.parsed = [...q];
        out.fromObj = new URLSearchParams({ n: 'v w', 'k&': '=' }).toString();
        out.fromPairs = new URLSearchParams([['a', '1'], ['a', '2']]).getAll('a');
        out.keys = [...new URLSearchParams('b=1&a=2').keys()];
        return out;
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "same": true,
            "initial": ["1", ["1", "3"], true, true, 3],
            "afterAppend": "https://example.com/s?a=1&b=2&a=3&c=x+y%26z",
            "afterEdit": ["https://example.com/s?b=%C3%A9&c=x+y%26z", "?b=%C3%A9&c=x+y%26z"],
            "afterSearch": ["9", ["9", "8"], null, 2],
            "afterHref": ["v", [["k", "v"]]],
            "emptied": ["https://example.com/", ""],
            "sorted": "https://example.com/?a=1&b=2",
            "parsed": [["x", "1 2"], ["y", "&"], ["empty", ""], ["flag", ""]],
            "fromObj": "n=v+w&k%26=%3D",
            "fromPairs": ["1", "2"],
            "keys": ["b", "a"],
        })
    );
}

// ---- Headers ------------------------------------------------------------------------

#[test]
fn headers() {
    let src = r#"export default { run() {
        const err = f => { try { f(); return null } catch (e) { return [e.name, e.message] } };
        const h = new Headers({ 'Content-Type': 'text/plain', 'X-Multi': 'a' });
        h.append('x-multi', ' b ');
        h.append('Set-Cookie', 'a=1'); h.append('set-cookie', 'b=2');
        const out = {
            ct: h.get('CONTENT-TYPE'), multi: h.get('X-MULTI'), has: [h.has('Content-type'), h.has('nope')],
            missing: h.get('nope'), cookies: h.getSetCookie(), entries: [...h], keys: [...h.keys()],
        };
        h.set('X-Multi', 'only'); h.delete('set-cookie');
        out.afterSetDelete = [...h.entries()];
        const seen = []; h.forEach((v, k) => seen.push(`${k}=${v}`)); out.forEach = seen;
        out.fromPairs = new Headers([['a', '1'], ['A', '2']]).get('a');
        out.copy = [...new Headers(h)];
        out.badName = err(() => h.append('bad name', 'x'));
        out.badValue = err(() => h.set('x', 'a\nb'));
        out.immutable = err(() => Response.redirect('https://example.com/').headers.set('x', 'y'));
        return out;
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "ct": "text/plain", "multi": "a, b", "has": [true, false], "missing": null,
            "cookies": ["a=1", "b=2"],
            "entries": [["content-type", "text/plain"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-multi", "a, b"]],
            "keys": ["content-type", "set-cookie", "set-cookie", "x-multi"],
            "afterSetDelete": [["content-type", "text/plain"], ["x-multi", "only"]],
            "forEach": ["content-type=text/plain", "x-multi=only"],
            "fromPairs": "1, 2",
            "copy": [["content-type", "text/plain"], ["x-multi", "only"]],
            "badName": ["TypeError", "Invalid header name: \"bad name\""],
            "badValue": ["TypeError", "Invalid header value: \"a\\nb\""],
            "immutable": ["TypeError", "Can't modify immutable headers."],
        })
    );
}

// ---- Request / Response ----------------------------------------------------------

#[test]
fn response_bodies_status_and_json() {
    let src = r#"export default { async run() {
        const err = f => { try { f(); return null } catch (e) { return [e.name, e.message] } };
        const r = new Response('héllo', { status: 201, statusText: 'Created', headers: { 'X-A': '1' } });
        const out = { meta: [r.status, r.statusText, r.ok, r.type, r.url, r.redirected, r.headers.get('content-type'), r.headers.get('x-a'), r.bodyUsed] };
        const c = r.clone();
        out.text = await r.text();
        out.used = [r.bodyUsed, c.bodyUsed];
        try { await r.text() } catch (e) { out.again = [e.name, e.message] }
        out.cloneAfterUse = err(() => r.clone());
        out.cloneText = await c.text();
        const j = Response.json({ a: [1, 2], s: 'é' }, { status: 202, headers: { 'X-J': 'y' } });
        out.json = [j.status, j.headers.get('content-type'), j.headers.get('x-j'), await j.json()];
        const ab = await new Response(new Uint8Array([1, 2, 255])).arrayBuffer();
        out.arrayBuffer = [ab instanceof ArrayBuffer, Array.from(new Uint8Array(ab))];
        out.bytes = Array.from(await new Response(new Uint16Array([258]).buffer).bytes());
        const form = new Response(new URLSearchParams({ q: 'a b' }));
        out.form = [form.headers.get('content-type'), await form.text()];
        const empty = new Response(null, { status: 204 });
        out.empty = [empty.status, empty.body, await empty.text(), empty.bodyUsed];
        out.defaults = [new Response().status, new Response().ok, new Response('x', { status: 404 }).ok];
        out.status600 = err(() => new Response(null, { status: 600 }));
        out.status199 = err(() => new Response(null, { status: 199 }));
        out.status0 = err(() => new Response('x', { status: 0 }));
        out.bodyWith204 = err(() => new Response('x', { status: 204 }));
        const red = Response.redirect('https://example.com/next', 301);
        out.redirect = [red.status, red.headers.get('location')];
        out.badRedirect = err(() => Response.redirect('https://example.com/', 200));
        const e = Response.error();
        out.error = [e.type, e.status, e.ok];
        return out;
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "meta": [201, "Created", true, "default", "", false, "text/plain;charset=UTF-8", "1", false],
            "text": "héllo",
            "used": [true, false],
            "again": ["TypeError", "text: body has already been used; call clone() before reading a body twice"],
            "cloneAfterUse": ["TypeError", "Response.clone: body has already been used"],
            "cloneText": "héllo",
            "json": [202, "application/json", "y", {"a": [1, 2], "s": "é"}],
            "arrayBuffer": [true, [1, 2, 255]],
            "bytes": [2, 1],
            "form": ["application/x-www-form-urlencoded;charset=UTF-8", "q=a+b"],
            "empty": [204, null, "", false],
            "defaults": [200, true, false],
            "status600": ["RangeError", "Response: status must be an integer in the range 200 to 599, got 600"],
            "status199": ["RangeError", "Response: status must be an integer in the range 200 to 599, got 199"],
            "status0": ["RangeError", "Response: status must be an integer in the range 200 to 599, got 0"],
            "bodyWith204": ["TypeError", "Response with null body status 204 cannot have a body"],
            "redirect": [301, "https://example.com/next"],
            "badRedirect": ["RangeError", "Response.redirect: invalid redirect status 200"],
            "error": ["error", 0, false],
        })
    );
}

#[test]
fn request_construction_and_bodies() {
    let src = r#"export default { async run() {
        const err = f => { try { f(); return null } catch (e) { return [e.name, e.message] } };
        const req = new Request('https://example.com/api?q=1', { method: 'post', headers: { 'X-Req': 'yes' }, body: JSON.stringify({ n: 1 }) });
        const out = { meta: [req.method, req.url, req.headers.get('x-req'), req.headers.get('content-type'), req.redirect, req.bodyUsed] };
        out.cloneJson = await req.clone().json();
        out.text = await req.text();
        out.used = req.bodyUsed;
        const bin = new Request('https://example.com/', { method: 'PUT', body: new Uint8Array([0, 128, 255]) });
        out.bin = [bin.headers.get('content-type'), Array.from(new Uint8Array(await bin.arrayBuffer()))];
        const copy = new Request(new Request('https://example.com/x', { method: 'PATCH', body: 'b' }), { headers: { 'X-New': '1' } });
        out.copy = [copy.method, copy.url, copy.headers.get('x-new'), await copy.text()];
        out.getBody = err(() => new Request('https://example.com/', { body: 'x' }));
        out.badMethod = err(() => new Request('https://example.com/', { method: 'CONNECT' }));
        out.badUrl = err(() => new Request('/relative'));
        out.badRedirect = err(() => new Request('https://example.com/', { redirect: 'sometimes' }));
        return out;
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "meta": ["POST", "https://example.com/api?q=1", "yes", "text/plain;charset=UTF-8", "follow", false],
            "cloneJson": {"n": 1},
            "text": "{\"n\":1}",
            "used": true,
            "bin": [null, [0, 128, 255]],
            "copy": ["PATCH", "https://example.com/x", "1", "b"],
            "getBody": ["TypeError", "Request with GET/HEAD method cannot have body."],
            "badMethod": ["TypeError", "Forbidden HTTP method: CONNECT"],
            "badUrl": ["TypeError", "Invalid URL: /relative"],
            "badRedirect": ["TypeError", "Request: invalid redirect mode \"sometimes\" (expected \"follow\", \"error\" or \"manual\")"],
        })
    );
}

// ---- timers and microtasks ---------------------------------------------------------

#[test]
fn set_timeout_ordering_and_clear_timeout() {
    let src = r#"export default { async run() {
        const order = [];
        setTimeout(() => order.push('t30'), 30);
        setTimeout(() => order.push('t10'), 10);
        setTimeout(() => order.push('t0a'), 0);
        setTimeout(() => order.push('t0b'));
        setTimeout((a, b) => order.push(a + b), 5, 'ar', 'gs');
        const c = setTimeout(() => order.push('cleared'), 5);
        clearTimeout(c);
        clearTimeout(undefined); clearTimeout(12345);
        order.push('sync');
        const t0 = performance.now();
        await new Promise(r => setTimeout(r, 60));
        const waited = performance.now() - t0;
        let bad; try { setTimeout('code', 1) } catch (e) { bad = [e.name, e.message] }
        return { order, waitedEnough: waited >= 59, waitedNotTooLong: waited < 500, ids: typeof c, bad };
    } }"#;
    let r = run(src, json!(null));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!({
            "order": ["sync", "t0a", "t0b", "args", "t10", "t30"],
            "waitedEnough": true, "waitedNotTooLong": true, "ids": "number",
            "bad": ["TypeError", "setTimeout: the callback must be a function"],
        })
    );
    assert!(r.duration_us >= 60_000, "{}", r.duration_us);
    assert!(r.cpu_time_us < r.duration_us, "waiting on timers is not CPU time");
}

#[test]
fn set_interval_repeats_until_cleared() {
    let src = r#"export default { async run() {
        const ticks = [];
        await new Promise(res => {
            const id = setInterval(tag => { ticks.push(tag + ticks.length); if (ticks.length === 3) { clearInterval(id); res(); } }, 5, 'i');
        });
        await new Promise(r => setTimeout(r, 30)); // a cleared interval stays quiet
        return ticks;
    } }"#;
    assert_eq!(ok(src, json!(null)), json!(["i0", "i1", "i2"]));
}

#[test]
fn queue_microtask_runs_before_timers_in_fifo_order() {
    let src = r#"export default { async run() {
        const order = [];
        setTimeout(() => order.push('timeout'), 0);
        queueMicrotask(() => { order.push('micro1'); queueMicrotask(() => order.push('nested')); });
        Promise.resolve().then(() => order.push('then'));
        queueMicrotask(() => order.push('micro2'));
        order.push('sync');
        await new Promise(r => setTimeout(r, 5));
        let bad; try { queueMicrotask(1) } catch (e) { bad = e.name }
        return { order, bad };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({ "order": ["sync", "micro1", "then", "micro2", "nested", "timeout"], "bad": "TypeError" })
    );
}

// ---- crypto: random ---------------------------------------------------------------------

fn assert_uuid_v4(u: &str) {
    assert_eq!(u.len(), 36, "{u}");
    for (i, c) in u.char_indices() {
        if [8, 13, 18, 23].contains(&i) {
            assert_eq!(c, '-', "{u}");
        } else {
            assert!(c.is_ascii_hexdigit() && !c.is_ascii_uppercase(), "{u}");
        }
    }
    assert_eq!(&u[14..15], "4", "version nibble: {u}");
    assert!("89ab".contains(&u[19..20]), "variant nibble: {u}");
}

#[test]
fn crypto_get_random_values_and_random_uuid() {
    let src = r#"export default { run() {
        const err = f => { try { f(); return null } catch (e) { return e.name } };
        const a = new Uint8Array(64), ret = crypto.getRandomValues(a);
        const b = crypto.getRandomValues(new Uint8Array(64));
        const u32 = crypto.getRandomValues(new Uint32Array(8));
        const view = new Uint8Array(16), sub = crypto.getRandomValues(view.subarray(4, 8));
        return {
            same: ret === a,
            filled: a.some(x => x !== 0) && u32.some(x => x !== 0),
            differ: a.some((x, i) => x !== b[i]),
            distinctBytes: new Set(a).size > 16,
            subOnly: view.slice(0, 4).every(x => x === 0) && view.slice(8).every(x => x === 0) && sub.length === 4,
            max: crypto.getRandomValues(new Uint8Array(65536)).length,
            quota: err(() => crypto.getRandomValues(new Uint8Array(65537))),
            float: err(() => crypto.getRandomValues(new Float64Array(2))),
            uuids: Array.from({ length: 20 }, () => crypto.randomUUID()),
        };
    } }"#;
    let out = ok(src, json!(null));
    for k in ["same", "filled", "differ", "distinctBytes", "subOnly"] {
        assert_eq!(out[k], json!(true), "{k}: {out}");
    }
    assert_eq!(out["max"], json!(65536));
    assert_eq!(out["quota"], json!("QuotaExceededError"));
    assert_eq!(out["float"], json!("TypeMismatchError"));
    let uuids: Vec<&str> = out["uuids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    uuids.iter().for_each(|u| assert_uuid_v4(u));
    let distinct: std::collections::HashSet<_> = uuids.iter().collect();
    assert_eq!(distinct.len(), 20);
}

// ---- crypto.subtle --------------------------------------------------------------------

#[test]
fn subtle_digest_known_vectors() {
    const ABC: [(&str, &str); 4] = [
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("SHA-384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"),
        (
            "SHA-512",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];
    // The constants are the FIPS 180 examples; check them against sha2 too.
    assert_eq!(hex(&Sha256::digest(b"abc")), ABC[1].1);
    assert_eq!(hex(&Sha384::digest(b"abc")), ABC[2].1);
    assert_eq!(hex(&Sha512::digest(b"abc")), ABC[3].1);
    let long: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();

    let src = r#"export default { async run(longLen) {
        const hex = b => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, '0')).join('');
        const abc = new TextEncoder().encode('abc');
        const long = new Uint8Array(longLen).map((_, i) => i * 7 % 251);
        const out = {
            'SHA-1': hex(await crypto.subtle.digest('SHA-1', abc)),
            'SHA-256': hex(await crypto.subtle.digest('SHA-256', abc)),
            'SHA-384': hex(await crypto.subtle.digest({ name: 'SHA-384' }, abc)),
            'SHA-512': hex(await crypto.subtle.digest('sha-512', abc.buffer)),
            empty: hex(await crypto.subtle.digest('SHA-256', new Uint8Array(0))),
            twoBlocks: hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
            subView: hex(await crypto.subtle.digest('SHA-256', new Uint8Array([0, 97, 98, 99, 0]).subarray(1, 4))),
            long: hex(await crypto.subtle.digest('SHA-512', long)),
            isAB: (await crypto.subtle.digest('SHA-256', abc)) instanceof ArrayBuffer,
        };
        try { await crypto.subtle.digest('MD5', abc) } catch (e) { out.md5 = e.name }
        try { await crypto.subtle.digest('SHA-256', 'abc') } catch (e) { out.str = e.name }
        try { await crypto.subtle.encrypt() } catch (e) { out.encrypt = e.name }
        return out;
    } }"#;
    let out = ok(src, json!(long.len()));
    for (alg, want) in ABC {
        assert_eq!(out[alg], json!(want), "{alg}");
    }
    assert_eq!(out["empty"], json!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_eq!(out["twoBlocks"], json!("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    assert_eq!(out["subView"], json!(ABC[1].1));
    assert_eq!(out["long"], json!(hex(&Sha512::digest(&long))));
    assert_eq!(out["isAB"], json!(true));
    assert_eq!(out["md5"], json!("NotSupportedError"));
    assert_eq!(out["str"], json!("TypeError"));
    // encrypt exists now: called without arguments it is a TypeError, as in Node.
    assert_eq!(out["encrypt"], json!("TypeError"));
}

#[test]
fn subtle_hmac_sign_verify_rfc4231() {
    // RFC 4231, test case 2.
    let (key, data) = (b"Jefe", b"what do ya want for nothing?");
    let want256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    let want384 = "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649";
    let want512 = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                   9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";
    assert_eq!(hex(&hmac_sha256(key, data)), want256);

    let src = r#"export default { async run() {
        const enc = new TextEncoder(), hex = b => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, '0')).join('');
        const msg = enc.encode('what do ya want for nothing?');
        const imp = (hash, usages, extractable = false) => crypto.subtle.importKey('raw', enc.encode('Jefe'), { name: 'HMAC', hash }, extractable, usages);
        const key = await imp('SHA-256', ['sign', 'verify']);
        const sig = await crypto.subtle.sign('HMAC', key, msg);
        const out = {
            key: [key.type, key.extractable, key.algorithm, key.usages, String(key)],
            s256: hex(sig),
            s384: hex(await crypto.subtle.sign({ name: 'HMAC' }, await imp({ name: 'SHA-384' }, ['sign']), msg)),
            s512: hex(await crypto.subtle.sign('HMAC', await imp('SHA-512', ['sign']), msg)),
            verifyOk: await crypto.subtle.verify('HMAC', key, sig, msg),
            verifyTampered: await crypto.subtle.verify('HMAC', key, sig, enc.encode('what do ya want for nothing!')),
            verifyFlippedBit: await crypto.subtle.verify('HMAC', key, new Uint8Array(sig).map((b, i) => i === 31 ? b ^ 1 : b), msg),
            verifyShort: await crypto.subtle.verify('HMAC', key, sig.slice(0, 16), msg),
            exported: hex(await crypto.subtle.exportKey('raw', await imp('SHA-256', ['sign'], true))),
        };
        const name = async p => { try { await p; return null } catch (e) { return e.name } };
        out.signOnlyVerify = await name(crypto.subtle.verify('HMAC', await imp('SHA-256', ['sign']), sig, msg));
        out.notExtractable = await name(crypto.subtle.exportKey('raw', key));
        out.badUsage = await name(imp('SHA-256', ['encrypt']));
        out.badHash = await name(imp('MD5', ['sign']));
        out.noHash = await name(crypto.subtle.importKey('raw', msg, { name: 'HMAC' }, false, ['sign']));
        out.emptyKey = await name(crypto.subtle.importKey('raw', new Uint8Array(0), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']));
        out.notHmac = await name(crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, msg));
        return out;
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "key": ["secret", false, {"name": "HMAC", "hash": {"name": "SHA-256"}, "length": 32}, ["sign", "verify"], "[object CryptoKey]"],
            "s256": want256, "s384": want384, "s512": want512,
            "verifyOk": true, "verifyTampered": false, "verifyFlippedBit": false, "verifyShort": false,
            "exported": hex(key),
            "signOnlyVerify": "InvalidAccessError",
            "notExtractable": "InvalidAccessError",
            "badUsage": "SyntaxError",
            "badHash": "NotSupportedError",
            "noHash": "TypeError",
            "emptyKey": "DataError",
            // RSASSA exists now: an HMAC key for it is the wrong key, as in Node.
            "notHmac": "InvalidAccessError",
        })
    );
}

const STRIPE_HANDLER: &str = r#"
const enc = new TextEncoder();
const hex = b => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, '0')).join('');
const TOLERANCE_S = 300;
// Constant-time comparison of two hex strings.
const same = (a, b) => a.length === b.length && [...a].reduce((d, c, i) => d | (c.charCodeAt(0) ^ b.charCodeAt(i)), 0) === 0;
export default {
  async fetch(request, env) {
    if (request.method !== 'POST') return new Response('method not allowed', { status: 405 });
    const header = request.headers.get('Stripe-Signature');
    if (!header) return new Response('missing signature', { status: 400 });
    const parts = {};
    for (const item of header.split(',')) {
      const i = item.indexOf('=');
      (parts[item.slice(0, i).trim()] ??= []).push(item.slice(i + 1));
    }
    const t = Number(parts.t?.[0]), candidates = parts.v1 || [];
    if (!Number.isInteger(t) || !candidates.length) return new Response('malformed signature header', { status: 400 });
    if (Math.abs(Date.now() / 1000 - t) > TOLERANCE_S) return new Response('timestamp outside tolerance', { status: 400 });
    const body = await request.text();
    const key = await crypto.subtle.importKey('raw', enc.encode(env.STRIPE_WEBHOOK_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const expected = hex(await crypto.subtle.sign('HMAC', key, enc.encode(`${t}.${body}`)));
    if (!candidates.some(c => same(c, expected))) return new Response('signature mismatch', { status: 400 });
    const event = JSON.parse(body);
    console.log('verified', event.type);
    return Response.json({ received: true, id: event.id, type: event.type, amount: event.data.object.amount });
  }
};"#;

#[test]
fn stripe_style_webhook_signature() {
    let secret = "whsec_7f3c2a9b8e1d4c6f5a0b9e8d7c6b5a49";
    let body = r#"{"id":"evt_1OaBcD","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_3OaBcD","amount":2000,"currency":"eur","description":"Café ☕ order #42"}}}"#;
    let sign = |t: u64, secret: &str, body: &str| {
        let v1 = hex(&hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes()));
        format!("t={t},v1={v1},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
    };
    let now = now_ms() / 1000;
    let rt = runtime();
    let s = spec(rt, STRIPE_HANDLER);
    let deliver = |sig: &str, body: &str| {
        let mut req = http(
            "POST",
            "https://hooks.example.com/stripe",
            &[("Content-Type", "application/json"), ("Stripe-Signature", sig)],
            body.as_bytes(),
        );
        req.env.insert("STRIPE_WEBHOOK_SECRET".into(), secret.into());
        let r = invoke(rt, &s, req);
        assert_eq!(r.status, Status::Ok, "{r:#?}");
        let resp = r.response.clone().unwrap();
        (resp.status, String::from_utf8(resp.body).unwrap(), r)
    };

    let (status, text, r) = deliver(&sign(now, secret, body), body);
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"received": true, "id": "evt_1OaBcD", "type": "payment_intent.succeeded", "amount": 2000})
    );
    assert_eq!(r.logs[0].message, "verified payment_intent.succeeded");

    let tampered = body.replace("2000", "1");
    assert_eq!(deliver(&sign(now, secret, body), &tampered).0, 400);
    assert_eq!(deliver(&sign(now, secret, body), &tampered).1, "signature mismatch");
    assert_eq!(deliver(&sign(now, "whsec_wrong", body), body).1, "signature mismatch");
    // Correctly signed, but replayed an hour later.
    assert_eq!(deliver(&sign(now - 3600, secret, body), body).1, "timestamp outside tolerance");
    assert_eq!(deliver("garbage", body).1, "malformed signature header");
}

const GITHUB_HANDLER: &str = r#"
export default {
  async fetch(request, env) {
    const header = request.headers.get('x-hub-signature-256') || '';
    if (!header.startsWith('sha256=')) return new Response('no signature', { status: 401 });
    const sig = new Uint8Array((header.slice(7).match(/../g) || []).map(h => parseInt(h, 16)));
    const body = new Uint8Array(await request.arrayBuffer());
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(env.GITHUB_WEBHOOK_SECRET),
      { name: 'HMAC', hash: { name: 'SHA-256' } }, false, ['verify']);
    if (!await crypto.subtle.verify('HMAC', key, sig, body)) return new Response('bad signature', { status: 401 });
    const text = new TextDecoder().decode(body);
    if (request.headers.get('content-type') !== 'application/json') return new Response(text);
    const payload = JSON.parse(text);
    return Response.json({ event: request.headers.get('x-github-event'), ref: payload.ref, commits: payload.commits.length });
  }
};"#;

#[test]
fn github_style_webhook_signature() {
    let rt = runtime();
    let s = spec(rt, GITHUB_HANDLER);
    let deliver = |secret: &str, headers: &[(&str, &str)], body: &[u8]| {
        let mut req = http("POST", "https://hooks.example.com/github", headers, body);
        req.env.insert("GITHUB_WEBHOOK_SECRET".into(), secret.into());
        let r = invoke(rt, &s, req);
        assert_eq!(r.status, Status::Ok, "{r:#?}");
        let resp = r.response.unwrap();
        (resp.status, String::from_utf8(resp.body).unwrap())
    };
    // The example from GitHub's "Validating webhook deliveries" documentation.
    let doc = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(
        deliver("It's a Secret to Everybody", &[("X-Hub-Signature-256", doc)], b"Hello, World!"),
        (200, "Hello, World!".to_owned())
    );
    assert_eq!(deliver("It's a Secret to Everybody", &[("X-Hub-Signature-256", doc)], b"Hello, World?").0, 401);

    let secret = "gh-hook-secret";
    let body = br#"{"ref":"refs/heads/main","commits":[{"id":"a1"},{"id":"b2"}]}"#;
    let sig = format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), body)));
    let headers =
        [("X-Hub-Signature-256", sig.as_str()), ("X-GitHub-Event", "push"), ("Content-Type", "application/json")];
    let (status, text) = deliver(secret, &headers, body);
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"event": "push", "ref": "refs/heads/main", "commits": 2})
    );
    assert_eq!(deliver("other-secret", &headers, body), (401, "bad signature".to_owned()));
    assert_eq!(deliver(secret, &headers[1..], body), (401, "no signature".to_owned()));
}

// ---- env and ctx ---------------------------------------------------------------------

#[test]
fn env_variables() {
    let src = r#"export default { run(input, env) {
        return { key: env.API_KEY, region: env.REGION, missing: env.MISSING ?? null, keys: Object.keys(env).sort(),
                 kv: String(env.KV), events: String(env.EVENTS) };
    } }"#;
    let mut req = request(json!(null));
    req.env.insert("API_KEY".into(), "k-123".into());
    req.env.insert("REGION".into(), "eu-west".into());
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!({"key": "k-123", "region": "eu-west", "missing": null, "keys": ["API_KEY", "EVENTS", "KV", "REGION"],
               "kv": "[object KVNamespace]", "events": "[object Events]"})
    );
    // Nothing configured: only the bindings.
    assert_eq!(
        ok("export default { run(i, env) { return Object.keys(env).sort() } }", json!(null)),
        json!(["EVENTS", "KV"])
    );
}

#[test]
fn ctx_fields() {
    let src = r#"export default { run(input, env, ctx) {
        return { invocationId: ctx.invocationId, tenant: ctx.tenant, functionName: ctx.functionName, version: ctx.version,
                 trigger: ctx.trigger, user: ctx.user, attemptCount: ctx.attemptCount, requestId: ctx.requestId,
                 keys: Object.keys(ctx),
                 methods: [typeof ctx.waitUntil, typeof ctx.progress, typeof ctx.passThroughOnException] };
    } }"#;
    let mut req = request(json!(null));
    req.ctx.invocation_id = "inv-42".into();
    req.ctx.tenant = "globex".into();
    req.ctx.function = "resize-image".into();
    req.ctx.version = 7;
    req.ctx.trigger = "http".into();
    req.ctx.extra.insert("attempt_count".into(), json!(2));
    req.ctx.extra.insert("request_id".into(), json!("r-9"));
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!({
            "invocationId": "inv-42", "tenant": "globex", "functionName": "resize-image", "version": 7, "trigger": "http",
            "user": null, "attemptCount": 2, "requestId": "r-9",
            "keys": ["invocationId", "tenant", "functionName", "version", "trigger", "user", "attemptCount", "requestId"],
            "methods": ["function", "function", "function"],
        })
    );
}

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Log(LogLevel, String),
    Progress(f64, Option<String>),
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(Instant, Seen)>>,
}

impl InvocationObserver for Recorder {
    fn log(&self, entry: &LogEntry) {
        self.events.lock().unwrap().push((Instant::now(), Seen::Log(entry.level, entry.message.clone())));
    }
    fn progress(&self, percent: f64, message: Option<&str>) {
        self.events.lock().unwrap().push((Instant::now(), Seen::Progress(percent, message.map(str::to_owned))));
    }
}

#[test]
fn ctx_progress_and_logs_reach_the_observer_live() {
    let src = r#"export default { async run(input, env, ctx) {
        console.log('starting');
        ctx.progress(0);
        ctx.progress(50, 'half way');
        await new Promise(r => setTimeout(r, 150));
        console.warn('almost');
        ctx.progress(100, 'done');
        const err = v => { try { ctx.progress(v); return null } catch (e) { return [e.name, e.message] } };
        return [err(101), err(-1), err('50')];
    } }"#;
    let recorder = Arc::new(Recorder::default());
    let mut req = request(json!(null));
    req.observer = Some(recorder.clone());
    let r = call(src, req);
    let finished = Instant::now();
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!([
            ["RangeError", "ctx.progress: percent must be a number between 0 and 100, got 101"],
            ["RangeError", "ctx.progress: percent must be a number between 0 and 100, got -1"],
            ["RangeError", "ctx.progress: percent must be a number between 0 and 100, got '50'"],
        ])
    );
    let events = recorder.events.lock().unwrap().clone();
    let seen: Vec<Seen> = events.iter().map(|e| e.1.clone()).collect();
    assert_eq!(
        seen,
        vec![
            Seen::Log(LogLevel::Info, "starting".into()),
            Seen::Progress(0.0, None),
            Seen::Progress(50.0, Some("half way".into())),
            Seen::Log(LogLevel::Warn, "almost".into()),
            Seen::Progress(100.0, Some("done".into())),
        ]
    );
    // Live: the first events arrived while the handler was still waiting.
    let early = finished - events[2].0;
    assert!(early >= Duration::from_millis(120), "delivered only {early:?} before the end");
    assert!(events[3].0 - events[2].0 >= Duration::from_millis(140));
    // The result still carries the same logs.
    let logs: Vec<_> = r.logs.iter().map(|l| (l.level, l.message.as_str())).collect();
    assert_eq!(logs, vec![(LogLevel::Info, "starting"), (LogLevel::Warn, "almost")]);
}

#[test]
fn ctx_wait_until_keeps_the_invocation_alive() {
    let src = r#"export default { run(input, env, ctx) {
        ctx.waitUntil(new Promise(r => setTimeout(r, 50))
            .then(() => env.KV.put('late', 'written after return'))
            .then(() => console.log('background done')));
        ctx.waitUntil(Promise.reject(new Error('background failed')));
        ctx.waitUntil('not a promise');
        console.log('returning');
        return 'fast';
    } }"#;
    let kv = Arc::new(MemoryKv::default());
    let mut req = request(json!(null));
    req.services = kv_services(&kv);
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "a rejected waitUntil is logged, not fatal: {r:#?}");
    assert_eq!(r.output, Some(json!("fast")));
    assert!(r.duration_us >= 50_000, "{}", r.duration_us);
    let msgs: Vec<_> = r.logs.iter().map(|l| (l.level, l.message.as_str())).collect();
    assert_eq!(msgs[0], (LogLevel::Info, "returning"));
    assert_eq!(msgs[1].0, LogLevel::Error);
    assert!(msgs[1].1.starts_with("Uncaught (in waitUntil) Error: background failed"), "{}", msgs[1].1);
    assert_eq!(msgs[2], (LogLevel::Info, "background done"));
    assert_eq!(kv_get(&kv, "acme", "late").as_deref(), Some(&b"written after return"[..]));
}

// ---- env.KV ---------------------------------------------------------------------------

#[test]
fn kv_put_get_text_json_array_buffer_and_delete() {
    let kv = Arc::new(MemoryKv::default());
    let rt = runtime();
    let with_kv = |src: &str| {
        let s = spec(rt, src);
        let mut req = request(json!(null));
        req.services = kv_services(&kv);
        let r = invoke(rt, &s, req);
        assert_eq!(r.status, Status::Ok, "{r:#?}");
        r.output.unwrap()
    };
    let out = with_kv(
        r#"export default { async run(input, env) {
        const KV = env.KV;
        const puts = [
            await KV.put('greeting', 'héllo'),
            await KV.put('config', JSON.stringify({ a: 1, list: [1, 2] })),
            await KV.put('bin', new Uint8Array([0, 1, 254, 255])),
            await KV.put('view', new Uint8Array([9, 8, 7, 6]).subarray(1, 3)),
            await KV.put('buf', new Uint16Array([513]).buffer),
        ];
        const ab = await KV.get('bin', 'arrayBuffer');
        return {
            puts,
            text: [await KV.get('greeting'), await KV.get('greeting', 'text'), await KV.get('greeting', { type: 'text' })],
            json: [await KV.get('config', 'json'), await KV.get('config', { type: 'json' })],
            bin: [ab instanceof ArrayBuffer, Array.from(new Uint8Array(ab))],
            view: Array.from(new Uint8Array(await KV.get('view', 'arrayBuffer'))),
            buf: Array.from(new Uint8Array(await KV.get('buf', { type: 'arrayBuffer' }))),
            missing: [await KV.get('missing'), await KV.get('missing', 'json'), await KV.get('missing', 'arrayBuffer')],
        };
    } }"#,
    );
    assert_eq!(
        out,
        json!({
            "puts": [null, null, null, null, null],
            "text": ["héllo", "héllo", "héllo"],
            "json": [{"a": 1, "list": [1, 2]}, {"a": 1, "list": [1, 2]}],
            "bin": [true, [0, 1, 254, 255]],
            "view": [8, 7],
            "buf": [1, 2],
            "missing": [null, null, null],
        })
    );
    // Stored as bytes under the invocation's tenant.
    assert_eq!(kv_get(&kv, "acme", "greeting"), Some("héllo".as_bytes().to_vec()));
    assert_eq!(kv_get(&kv, "acme", "bin"), Some(vec![0, 1, 254, 255]));

    // A later invocation sees the data, deletes it, and errors are clear.
    let out = with_kv(
        r#"export default { async run(input, env) {
        const err = async p => { try { await p; return null } catch (e) { return [e.name, e.message] } };
        const before = await env.KV.get('greeting');
        await env.KV.delete('greeting');
        await env.KV.delete('never-existed');
        return {
            before, after: await env.KV.get('greeting'), others: await env.KV.get('config', 'json'),
            badType: await err(env.KV.get('config', 'stream')),
            badValue: await err(env.KV.put('k', { an: 'object' })),
            emptyKey: await err(env.KV.get('')),
            longKey: await err(env.KV.put('k'.repeat(513), 'v')),
            metadata: await err(env.KV.put('k', 'v', { metadata: { a: 1 } })),
        };
    } }"#,
    );
    assert_eq!(
        out,
        json!({
            "before": "héllo", "after": null, "others": {"a": 1, "list": [1, 2]},
            "badType": ["TypeError", "KV.get: unsupported type \"stream\" (use \"text\", \"json\" or \"arrayBuffer\"; streams are not available in Quasm)"],
            "badValue": ["TypeError", "KV.put: the value must be a string, ArrayBuffer or ArrayBufferView, got Object"],
            "emptyKey": ["TypeError", "KV: the key must be a non-empty string"],
            "longKey": ["TypeError", "KV key is 513 bytes; the maximum is 512"],
            "metadata": ["TypeError", "KV.put: metadata is not supported in Quasm"],
        })
    );
    assert_eq!(kv_get(&kv, "acme", "greeting"), None);
    assert_eq!(kv_get(&kv, "acme", "k"), None, "rejected puts store nothing");
}

#[test]
fn kv_list_with_prefix_and_cursor_paging() {
    let src = r#"export default { async run(input, env) {
        for (const k of ['user:c', 'zeta', 'user:a', 'admin', 'user:e', 'user:b', 'user:d']) await env.KV.put(k, 'v:' + k);
        const pages = [];
        let cursor;
        do {
            const page = await env.KV.list({ prefix: 'user:', limit: 2, cursor });
            pages.push(page);
            cursor = page.cursor;
        } while (cursor);
        const err = async p => { try { await p; return null } catch (e) { return [e.name, e.message] } };
        return {
            pages,
            all: (await env.KV.list()).keys.map(k => k.name),
            exact: await env.KV.list({ prefix: 'user:', limit: 5 }),
            none: await env.KV.list({ prefix: 'nope' }),
            badLimit: await err(env.KV.list({ limit: 0 })),
        };
    } }"#;
    let mut req = request(json!(null));
    req.services = kv_services(&Arc::new(MemoryKv::default()));
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    let names = |v: &[&str]| v.iter().map(|n| json!({"name": n})).collect::<Vec<_>>();
    assert_eq!(
        r.output.unwrap(),
        json!({
            "pages": [
                {"keys": names(&["user:a", "user:b"]), "list_complete": false, "cursor": "user:b"},
                {"keys": names(&["user:c", "user:d"]), "list_complete": false, "cursor": "user:d"},
                {"keys": names(&["user:e"]), "list_complete": true},
            ],
            "all": ["admin", "user:a", "user:b", "user:c", "user:d", "user:e", "zeta"],
            "exact": {"keys": names(&["user:a", "user:b", "user:c", "user:d", "user:e"]), "list_complete": true},
            "none": {"keys": [], "list_complete": true},
            "badLimit": ["TypeError", "KV.list: limit must be a positive integer"],
        })
    );
}

#[test]
fn kv_expiration_ttl_validation() {
    let src = r#"export default { async run(input, env) {
        const err = async p => { try { await p; return null } catch (e) { return [e.name, e.message] } };
        const out = {
            ok: await err(env.KV.put('ttl', 'v', { expirationTtl: 60 })),
            zero: await err(env.KV.put('a', 'v', { expirationTtl: 0 })),
            negative: await err(env.KV.put('b', 'v', { expirationTtl: -5 })),
            nan: await err(env.KV.put('c', 'v', { expirationTtl: 'soon' })),
            subSecond: await err(env.KV.put('d', 'v', { expirationTtl: 0.5 })),
            pastExpiration: await err(env.KV.put('e', 'v', { expiration: 1000 })),
            futureExpiration: await err(env.KV.put('f', 'v', { expiration: Date.now() / 1000 + 3600 })),
        };
        out.stored = await Promise.all(['ttl', 'a', 'b', 'c', 'd', 'e', 'f'].map(k => env.KV.get(k)));
        return out;
    } }"#;
    let mut req = request(json!(null));
    req.services = kv_services(&Arc::new(MemoryKv::default()));
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    let positive = json!(["TypeError", "KV.put: expirationTtl must be a positive number of seconds"]);
    assert_eq!(
        r.output.unwrap(),
        json!({
            "ok": null, "zero": positive, "negative": positive, "nan": positive,
            "subSecond": ["TypeError", "expirationTtl must be at least 1 second, got 0.5"],
            "pastExpiration": ["TypeError", "KV.put: expiration must be a UNIX time (seconds) in the future"],
            "futureExpiration": null,
            "stored": ["v", null, null, null, null, null, "v"],
        })
    );
}

#[test]
fn kv_is_isolated_per_tenant() {
    let kv = Arc::new(MemoryKv::default());
    let rt = runtime();
    let s = spec(
        rt,
        r#"export default { async run(op, env, ctx) {
        if (op.put) await env.KV.put(op.put, `${ctx.tenant}-data`);
        if (op.del) await env.KV.delete(op.del);
        return { tenant: ctx.tenant, secret: await env.KV.get('secret'), keys: (await env.KV.list()).keys.map(k => k.name) };
    } }"#,
    );
    let as_tenant = |tenant: &str, op: Value| {
        let mut req = request(op);
        req.ctx.tenant = tenant.into();
        req.services = kv_services(&kv);
        let r = invoke(rt, &s, req);
        assert_eq!(r.status, Status::Ok, "{r:#?}");
        r.output.unwrap()
    };
    assert_eq!(
        as_tenant("acme", json!({"put": "secret"})),
        json!({"tenant": "acme", "secret": "acme-data", "keys": ["secret"]})
    );
    assert_eq!(as_tenant("globex", json!({})), json!({"tenant": "globex", "secret": null, "keys": []}));
    assert_eq!(
        as_tenant("globex", json!({"put": "secret"})),
        json!({"tenant": "globex", "secret": "globex-data", "keys": ["secret"]})
    );
    assert_eq!(as_tenant("acme", json!({})), json!({"tenant": "acme", "secret": "acme-data", "keys": ["secret"]}));
    // Deleting in one tenant leaves the other's key alone.
    assert_eq!(as_tenant("globex", json!({"del": "secret"})), json!({"tenant": "globex", "secret": null, "keys": []}));
    assert_eq!(as_tenant("acme", json!({})), json!({"tenant": "acme", "secret": "acme-data", "keys": ["secret"]}));
    // A tenant-like prefix in the key does not reach another tenant either.
    assert_eq!(as_tenant("acme", json!({"put": "globex/secret"}))["keys"], json!(["globex/secret", "secret"]));
    assert_eq!(kv_get(&kv, "globex", "secret"), None);
    assert_eq!(kv_get(&kv, "acme", "secret").as_deref(), Some(&b"acme-data"[..]));
}

// ---- env.EVENTS ------------------------------------------------------------------------

#[test]
fn events_publish_reaches_the_publisher() {
    let src = r#"export default { async run(input, env) {
        const err = async p => { try { await p; return null } catch (e) { return [e.name, e.message] } };
        const a = await env.EVENTS.publish('order.created', { id: 42, items: ['x'], note: 'é' });
        const b = await env.EVENTS.publish('ping');
        const cyclic = {}; cyclic.self = cyclic;
        return {
            a, b,
            empty: await err(env.EVENTS.publish('')),
            fn: await err(env.EVENTS.publish('x', () => 1)),
            cyclic: (await err(env.EVENTS.publish('x', cyclic)))[1].startsWith('EVENTS.publish: the payload is not JSON-serializable'),
        };
    } }"#;
    let events = MemoryEvents::default();
    let mut req = request(json!(null));
    req.ctx.tenant = "initech".into();
    req.services = Services { kv: Arc::new(MemoryKv::default()), events: Arc::new(events.clone()) };
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!({
            "a": {"id": "evt_1"}, "b": {"id": "evt_2"},
            "empty": ["TypeError", "EVENTS.publish: the event type must be a non-empty string"],
            "fn": ["TypeError", "EVENTS.publish: the payload is not JSON-serializable: function"],
            "cyclic": true,
        })
    );
    let published = events.published.lock().clone();
    assert_eq!(published.len(), 2, "rejected publishes never reach the bus");
    assert_eq!(
        (published[0].id.as_str(), published[0].tenant.as_str(), published[0].event_type.as_str()),
        ("evt_1", "initech", "order.created")
    );
    assert_eq!(published[0].payload, json!({"id": 42, "items": ["x"], "note": "é"}));
    assert_eq!((published[1].event_type.as_str(), &published[1].payload), ("ping", &Value::Null));
}

// ---- scheduled / event handlers -------------------------------------------------------

#[test]
fn scheduled_handler_receives_its_event() {
    let src = r#"export default {
        run() { return 'wrong handler' },
        scheduled(event, env, ctx) {
            return { cron: event.cron, scheduledTime: event.scheduledTime, timezone: event.timezone,
                     keys: Object.keys(event).sort(), trigger: ctx.trigger, date: new Date(event.scheduledTime).toISOString() };
        },
    }"#;
    let mut req =
        request(json!({"cron": "*/5 * * * *", "scheduled_time": 1_700_000_000_000u64, "timezone": "Europe/Paris"}));
    req.kind = Some(HandlerKind::Scheduled);
    req.ctx.trigger = "cron".into();
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!({"cron": "*/5 * * * *", "scheduledTime": 1_700_000_000_000u64, "timezone": "Europe/Paris",
               "keys": ["cron", "scheduledTime", "timezone"], "trigger": "cron", "date": "2023-11-14T22:13:20.000Z"})
    );
}

#[test]
fn event_handler_receives_its_event() {
    let src = r#"export default {
        async event(event, env, ctx) {
            console.log('handling', event.type, 'attempt', event.attempt);
            return { id: event.id, type: event.type, payload: event.payload, attempt: event.attempt,
                     publishedAt: event.publishedAt, keys: Object.keys(event).sort(), trigger: ctx.trigger };
        },
    }"#;
    let event = json!({
        "id": "evt_9", "type": "order.created", "payload": {"order_id": 7, "line_items": [{"sku_code": "A1"}]},
        "attempt": 2, "published_at": "2024-01-02T03:04:05Z",
    });
    let mut req = request(event);
    req.kind = Some(HandlerKind::Event);
    req.ctx.trigger = "event".into();
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        r.output.unwrap(),
        json!({
            "id": "evt_9", "type": "order.created",
            "payload": {"order_id": 7, "line_items": [{"sku_code": "A1"}]}, // the payload is the publisher's, untouched
            "attempt": 2, "publishedAt": "2024-01-02T03:04:05Z",
            "keys": ["attempt", "id", "payload", "publishedAt", "type"], "trigger": "event",
        })
    );
    assert_eq!(r.logs[0].message, "handling order.created attempt 2");
}

#[test]
fn default_function_export_receives_the_event_object() {
    let src = "export default function (arg, env, ctx) { return { arg, trigger: ctx.trigger } }";
    let mut req = request(json!({"cron": "0 0 * * *", "scheduled_time": 0}));
    req.kind = Some(HandlerKind::Scheduled);
    let r = call(src, req);
    assert_eq!(
        r.output,
        Some(json!({"arg": {"cron": "0 0 * * *", "scheduledTime": 0}, "trigger": "manual"})),
        "{r:#?}"
    );
}

// ---- fetch handler ----------------------------------------------------------------------

#[test]
fn fetch_handler_binary_round_trip() {
    let src = r#"export default {
        async fetch(request, env, ctx) {
            const url = new URL(request.url);
            const bytes = new Uint8Array(await request.arrayBuffer());
            let immutable;
            try { request.headers.set('x', 'y') } catch (e) { immutable = e.name }
            const info = {
                method: request.method, url: request.url, path: url.pathname, name: url.searchParams.get('name'),
                trace: request.headers.get('X-Trace'), multi: request.headers.get('x-multi'),
                ct: request.headers.get('content-type'), len: bytes.length, used: request.bodyUsed, immutable,
                trigger: ctx.trigger,
            };
            const headers = new Headers({ 'Content-Type': 'application/octet-stream', 'X-Info': JSON.stringify(info) });
            headers.append('Set-Cookie', 'a=1; Path=/'); headers.append('Set-Cookie', 'b=2');
            return new Response(bytes.map(b => 255 - b), { status: 201, statusText: 'Created', headers });
        },
    }"#;
    let body: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
    let mut req = http(
        "PUT",
        "https://fn.example.com/upload/raw?name=blob.bin&v=2",
        &[("Content-Type", "application/octet-stream"), ("X-Trace", "abc"), ("X-Multi", "1"), ("x-multi", "2")],
        &body,
    );
    req.ctx.trigger = "http".into();
    let r = call(src, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(r.output, None);
    let resp = r.response.unwrap();
    assert_eq!((resp.status, resp.status_text.as_str()), (201, "Created"));
    assert_eq!(header(&resp, "content-type"), vec!["application/octet-stream"]);
    assert_eq!(header(&resp, "set-cookie"), vec!["a=1; Path=/", "b=2"]);
    let info: Value = serde_json::from_str(header(&resp, "x-info")[0]).unwrap();
    assert_eq!(
        info,
        json!({
            "method": "PUT", "url": "https://fn.example.com/upload/raw?name=blob.bin&v=2", "path": "/upload/raw",
            "name": "blob.bin", "trace": "abc", "multi": "1, 2", "ct": "application/octet-stream", "len": 512,
            "used": true, "immutable": "TypeError", "trigger": "http",
        })
    );
    let want: Vec<u8> = body.iter().map(|b| 255 - b).collect();
    assert_eq!(resp.body, want);
}

#[test]
fn fetch_handler_get_json_and_empty_bodies() {
    let src = r#"export default {
        async fetch(request) {
            const body = await request.text();
            if (request.method === 'HEAD') return new Response(null, { status: 204, headers: { 'X-Head': '1' } });
            return Response.json({ method: request.method, body, hasBody: request.body !== null, q: new URL(request.url).search });
        },
    }"#;
    // A GET carries no body even if the host was given bytes.
    let r = call(src, http("GET", "https://fn.example.com/?a=1", &[], b"ignored"));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    let resp = r.response.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(header(&resp, "content-type"), vec!["application/json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&resp.body).unwrap(),
        json!({"method": "GET", "body": "", "hasBody": false, "q": "?a=1"})
    );
    let r = call(src, http("HEAD", "https://fn.example.com/", &[], b""));
    let resp = r.response.unwrap();
    assert_eq!((resp.status, resp.body.len()), (204, 0));
    assert_eq!(header(&resp, "x-head"), vec!["1"]);
    let r = call(src, http("DELETE", "https://fn.example.com/x", &[], b"{\"why\":1}"));
    assert_eq!(
        serde_json::from_slice::<Value>(&r.response.unwrap().body).unwrap(),
        json!({"method": "DELETE", "body": "{\"why\":1}", "hasBody": true, "q": ""})
    );
}

#[test]
fn fetch_handler_returning_a_non_response_is_a_clear_error() {
    for (ret, got) in [
        ("({ status: 200, body: 'hi' })", "Object"),
        ("'hello'", "string"),
        ("undefined", "undefined"),
        ("null", "null"),
        ("Promise.resolve(42)", "number"),
    ] {
        let src = format!("export default {{ async fetch() {{ return {ret} }} }}");
        let r = call(&src, http("GET", "https://fn.example.com/", &[], b""));
        assert_eq!(r.status, Status::Error, "{ret}: {r:#?}");
        assert!(r.response.is_none());
        let e = r.error.unwrap();
        assert_eq!(
            (e.name.as_str(), e.message.as_str()),
            ("TypeError", format!("fetch handler must return a Response, got {got}").as_str()),
            "{ret}"
        );
    }
    let r = call("export default { fetch() { return Response.error() } }", http("GET", "https://x.test/", &[], b""));
    assert_eq!(r.error.unwrap().message, "fetch handler returned Response.error()");
    let r = call(
        "export default { async fetch() { const r = new Response('x'); await r.text(); return r } }",
        http("GET", "https://x.test/", &[], b""),
    );
    assert_eq!(r.error.unwrap().message, "fetch handler returned a Response whose body has already been used");
    assert_healthy();
}

#[test]
fn fetch_handler_may_return_redirects_and_json() {
    let src = r#"export default { fetch(request) {
        const url = new URL(request.url);
        if (url.pathname === '/old') return Response.redirect(new URL('/new', url), 308);
        return Response.json({ path: url.pathname }, { status: 404, statusText: 'Nope', headers: { 'Cache-Control': 'no-store' } });
    } }"#;
    let r = call(src, http("GET", "https://fn.example.com/old?x=1", &[], b""));
    let resp = r.response.unwrap();
    assert_eq!(resp.status, 308);
    assert_eq!(header(&resp, "location"), vec!["https://fn.example.com/new"]);
    assert!(resp.body.is_empty());
    let r = call(src, http("GET", "https://fn.example.com/gone", &[], b""));
    let resp = r.response.unwrap();
    assert_eq!((resp.status, resp.status_text.as_str()), (404, "Nope"));
    assert_eq!(header(&resp, "cache-control"), vec!["no-store"]);
    assert_eq!(header(&resp, "content-type"), vec!["application/json"]);
    assert_eq!(resp.body, br#"{"path":"/gone"}"#);
}

#[test]
fn fetch_handler_response_meta_is_escaped_natively() {
    // The shim writes the Response's meta JSON itself: quotes, backslashes,
    // tabs and non-ASCII text must survive, and a Response built without
    // headers still carries its default content type.
    let src = r#"export default { fetch(request) {
        if (request.url.endsWith('/plain')) return new Response('ok');
        return new Response(null, { status: 299, statusText: 'W\u00e9ird "q" \\ \t', headers: [['x-v', 'a"b\\c\u00fc\td']] });
    } }"#;
    let r = call(src, http("GET", "https://fn.example.com/plain", &[], b""));
    let resp = r.response.unwrap();
    assert_eq!((resp.status, resp.status_text.as_str()), (200, ""));
    assert_eq!(resp.headers, vec![("content-type".to_string(), "text/plain;charset=UTF-8".to_string())]);
    assert_eq!(resp.body, b"ok");
    let r = call(src, http("GET", "https://fn.example.com/odd", &[], b""));
    let resp = r.response.unwrap();
    assert_eq!((resp.status, resp.status_text.as_str()), (299, "W\u{e9}ird \"q\" \\ \t"));
    assert_eq!(header(&resp, "x-v"), vec!["a\"b\\c\u{fc}\td"]);
}

// ---- known bugs ------------------------------------------------------------------------

#[test]
fn queue_microtask_that_throws_does_not_break_the_handler() {
    for src in [
        "export default { run() { queueMicrotask(() => { throw new Error('m') }); return 1 } }",
        "export default { async run() { queueMicrotask(() => { throw new Error('m') }); await null; return 1 } }",
    ] {
        let r = run(src, json!(null));
        assert_eq!(r.status, Status::Ok, "{src}: {r:#?}");
        assert_eq!(r.output, Some(json!(1)), "{src}");
        // Reported like an exception in a timer callback ("Uncaught Error: ...").
        assert!(
            r.logs.iter().any(|l| l.level == LogLevel::Error && l.message.contains("Error: m")),
            "{src}: the exception is not silently dropped: {:?}",
            r.logs
        );
    }
}

#[test]
fn text_decoder_replacement_follows_the_encoding_standard() {
    let src = r#"export default { run() {
        const d = a => Array.from(new TextDecoder().decode(new Uint8Array(a)), c => c.codePointAt(0).toString(16));
        return [d([0xc0, 0x80]), d([0xed, 0xa0, 0x80]), d([0xf4, 0x90, 0x80, 0x80]), d([0xff, 0x80, 0x41]),
                d([0xe2, 0x82, 0x41]), d([0xf0, 0x9f, 0x98, 0x41])];
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!([
            ["fffd", "fffd"],
            ["fffd", "fffd", "fffd"],
            ["fffd", "fffd", "fffd", "fffd"],
            ["fffd", "fffd", "41"],
            ["fffd", "41"], // a truncated sequence is one maximal subpart
            ["fffd", "41"],
        ])
    );
}
