//! Worker scripts as people copy them (issue 16), through the real sandbox:
//! V8-style errors, service-worker syntax, node:buffer, FormData and Blob,
//! streams as bodies, and WebCrypto checked against aws-lc-rs in the test.

mod common;

use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use aws_lc_rs::{aead, encoding::AsDer, rand::SystemRandom, rsa};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::*;
use quasm_runtime::{HandlerKind, HttpRequest, InvocationResult, InvokeRequest, KvStore, Status};
use serde_json::{json, Value};

fn ok(src: &str, input: Value) -> Value {
    let r = run(src, input);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    r.output.expect("a run handler has an output")
}

fn call(src: &str, req: InvokeRequest) -> InvocationResult {
    let rt = runtime();
    let s = spec(rt, src);
    invoke(rt, &s, req)
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

fn body_text(r: &InvocationResult) -> String {
    String::from_utf8(r.response.as_ref().expect("a response").body.clone()).unwrap()
}

// ---- honest errors ------------------------------------------------------------------

#[test]
fn error_stacks_start_with_name_and_message_and_missing_methods_are_named() {
    let src = r#"export default { async run() {
        const request = { url: 'https://x.test/' };
        const msg = f => { try { f(); } catch (e) { return [e.name, e.message, e.stack.split('\n')[0], /^    at /.test(e.stack.split('\n')[1])]; } };
        return {
            missing: msg(() => request.formData()),
            nested: msg(() => request.url.toUpperCase().nope(1, 2)),
            local: msg(() => { const handler = undefined; handler(); }),
            thrown: msg(() => { throw new TypeError('boom'); }),
            custom: msg(() => { class AppError extends Error { get name() { return 'AppError'; } } throw new AppError('bad input'); }),
            noMessage: new Error().stack.split('\n')[0],
            engine: msg(() => null.x),
        };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "missing": ["TypeError", "request.formData is not a function", "TypeError: request.formData is not a function", true],
            "nested": ["TypeError", "(intermediate value).nope is not a function", "TypeError: (intermediate value).nope is not a function", true],
            "local": ["TypeError", "handler is not a function", "TypeError: handler is not a function", true],
            "thrown": ["TypeError", "boom", "TypeError: boom", true],
            "custom": ["AppError", "bad input", "AppError: bad input", true],
            "noMessage": "Error",
            "engine": ["TypeError", "cannot read property 'x' of null", "TypeError: cannot read property 'x' of null", true],
        })
    );
    // What the platform records for an uncaught error.
    let r = run("export default { run(input) { return input.items.map(i => i.price) } }", json!({"items": 3}));
    assert_eq!(r.status, Status::Error);
    let e = r.error.unwrap();
    assert_eq!((e.name.as_str(), e.message.as_str()), ("TypeError", "input.items.map is not a function"));
    assert!(e.stack.starts_with("TypeError: input.items.map is not a function\n    at run (fn.js:1:"), "{}", e.stack);
}

// ---- service-worker syntax ------------------------------------------------------------

const SW_SCRIPT: &str = r#"
addEventListener('fetch', event => {
  event.waitUntil(Promise.resolve().then(() => console.log('after', event.request.method)));
  event.passThroughOnException();
  event.respondWith(handle(event.request));
});
addEventListener('scheduled', event => {
  event.waitUntil(KV.put('last-cron', event.cron));
});
async function handle(request) {
  const url = new URL(request.url);
  if (url.pathname === '/kv') return new Response(await KV.get('last-cron'));
  return new Response(`hello ${GREETING} from ${url.pathname}`, { headers: { 'x-sw': '1' } });
}
"#;

#[test]
fn service_worker_scripts_handle_fetch_and_scheduled_events() {
    let rt = runtime();
    let s = spec(rt, SW_SCRIPT);
    let mut req = http("GET", "https://app.test/hi", &[], b"");
    req.env.insert("GREETING".into(), "world".into());
    let r = invoke(rt, &s, req);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(body_text(&r), "hello world from /hi");
    assert!(r.response.as_ref().unwrap().headers.contains(&("x-sw".into(), "1".into())));
    assert_eq!(r.logs.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(), ["after GET"]);

    // The scheduled listener's waitUntil completes before the run ends.
    let mut cron = request(json!({"cron": "*/5 * * * *", "scheduled_time": 1_700_000_000_000u64}));
    cron.kind = Some(HandlerKind::Scheduled);
    let kv = std::sync::Arc::new(quasm_runtime::MemoryKv::default());
    cron.services =
        quasm_runtime::Services { kv: kv.clone(), events: std::sync::Arc::new(quasm_runtime::MemoryEvents::default()) };
    let r = invoke(rt, &s, cron);
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(block(kv.get("acme", "last-cron")).unwrap(), Some(b"*/5 * * * *".to_vec()));

    // Kinds without a listener, and a listener that never responds, fail clearly.
    let r = invoke(rt, &s, request(json!(null)));
    assert_eq!(r.status, Status::Error);
    assert_eq!(
        r.error.unwrap().message,
        "function has no \"run\" handler (no addEventListener(\"run\", ...) listener)"
    );
    let r = call("addEventListener('fetch', e => {})", http("GET", "https://app.test/", &[], b""));
    assert_eq!(r.error.unwrap().message, "no \"fetch\" listener called event.respondWith(): a fetch listener must respond with a Response or a promise of one");
}

// ---- node:buffer ---------------------------------------------------------------------------

#[test]
fn buffer_imports_from_node_buffer_and_buffer() {
    let src = r#"import { Buffer } from 'node:buffer';
    import buffer from 'buffer';
    export default { run(input) {
        const b = Buffer.from(input.text);
        return {
            base64: b.toString('base64'), hex: b.toString('hex'), back: Buffer.from(b.toString('base64'), 'base64').toString(),
            same: buffer.Buffer === Buffer, isU8: b instanceof Uint8Array, len: Buffer.byteLength(input.text),
            concat: Buffer.concat([Buffer.from('ab'), Buffer.from([99])]).toString(),
            cmp: [Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.from('x').equals(Buffer.from('x'))],
            basic: Buffer.from('user:pass').toString('base64'),
        };
    } }"#;
    assert_eq!(
        ok(src, json!({"text": "héllo"})),
        json!({"base64": "aMOpbGxv", "hex": "68c3a96c6c6f", "back": "héllo", "same": true, "isU8": true, "len": 6,
               "concat": "abc", "cmp": [-1, true], "basic": "dXNlcjpwYXNz"})
    );
}

#[test]
fn other_imports_fail_naming_the_module() {
    // Imports resolve when the function is compiled, so a deploy fails early.
    for (spec_name, want) in [
        ("node:fs", "Error: Cannot find module 'node:fs': Quasm provides node:buffer only"),
        ("lodash", "Error: Cannot find module 'lodash': a Quasm function is one ES module"),
        ("./util.js", "Error: Cannot find module 'util.js'"),
    ] {
        let e = runtime()
            .compile(&format!("import x from '{spec_name}'; export default {{ run() {{ return x }} }}"), "fn.js")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(want), "{spec_name}: {e}");
    }
    assert_healthy();
}

// ---- FormData, Blob ---------------------------------------------------------------------------

#[test]
fn form_data_from_multipart_and_urlencoded_requests() {
    let src = r#"export default { async fetch(request) {
        const form = await request.formData();
        const out = [];
        for (const [k, v] of form) out.push(typeof v === 'string' ? [k, v] : [k, v.name, v.type, await v.text()]);
        return Response.json(out);
    } }"#;
    let multipart = "--b0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nCafé\r\n\
        --b0undary\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n\
        --b0undary--\r\n";
    let r = call(
        src,
        http(
            "POST",
            "https://app.test/",
            &[("content-type", "multipart/form-data; boundary=b0undary")],
            multipart.as_bytes(),
        ),
    );
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(
        serde_json::from_str::<Value>(&body_text(&r)).unwrap(),
        json!([["title", "Café"], ["upload", "notes.txt", "text/plain", "line 1\r\nline 2"]])
    );
    let r = call(
        src,
        http("POST", "https://app.test/", &[("content-type", "application/x-www-form-urlencoded")], b"a=1&b=x+y%21"),
    );
    assert_eq!(serde_json::from_str::<Value>(&body_text(&r)).unwrap(), json!([["a", "1"], ["b", "x y!"]]));
    let r = call(src, http("POST", "https://app.test/", &[("content-type", "application/json")], b"{}"));
    assert_eq!(r.status, Status::Error);
    assert_eq!(
        r.error.unwrap().message,
        "Content-Type was not one of \"multipart/form-data\" or \"application/x-www-form-urlencoded\"."
    );
}

#[test]
fn form_data_and_blob_response_bodies() {
    let src = r#"export default { fetch() {
        const form = new FormData();
        form.append('name', 'quasm');
        form.append('file', new Blob(['{"a":1}'], { type: 'application/json' }), 'a.json');
        return new Response(form);
    } }"#;
    let r = call(src, http("GET", "https://app.test/", &[], b""));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    let resp = r.response.as_ref().unwrap();
    let ct = &resp.headers.iter().find(|(k, _)| k == "content-type").unwrap().1;
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect("a multipart type");
    assert_eq!(
        body_text(&r),
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nquasm\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.json\"\r\nContent-Type: application/json\r\n\r\n{{\"a\":1}}\r\n\
                 --{boundary}--\r\n")
    );
    let r = call(
        "export default { fetch() { return new Response(new Blob(['<b>hi</b>'], { type: 'text/html' })) } }",
        http("GET", "https://app.test/", &[], b""),
    );
    assert_eq!(r.response.as_ref().unwrap().headers, vec![("content-type".to_string(), "text/html".to_string())]);
    assert_eq!(body_text(&r), "<b>hi</b>");
}

// ---- streams -------------------------------------------------------------------------------------

#[test]
fn streamed_responses_and_request_bodies() {
    // Server-sent events written through a TransformStream after the Response is returned.
    let sse = r#"export default { fetch(request, env, ctx) {
        const { readable, writable } = new TransformStream();
        const writer = writable.getWriter(), enc = new TextEncoder();
        ctx.waitUntil((async () => {
            for (let i = 1; i <= 3; i++) { await new Promise(r => setTimeout(r, 5)); await writer.write(enc.encode(`data: ${i}\n\n`)); }
            await writer.close();
        })());
        return new Response(readable, { headers: { 'content-type': 'text/event-stream' } });
    } }"#;
    let r = call(sse, http("GET", "https://app.test/events", &[], b""));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(body_text(&r), "data: 1\n\ndata: 2\n\ndata: 3\n\n");
    // The request body as a stream, through TextDecoderStream, and a pipe back out.
    let echo = r#"export default { async fetch(request) {
        let text = '';
        for await (const chunk of request.clone().body.pipeThrough(new TextDecoderStream())) text += chunk;
        const upper = request.body.pipeThrough(new TextDecoderStream())
            .pipeThrough(new TransformStream({ transform(s, c) { c.enqueue(s.toUpperCase()) } }))
            .pipeThrough(new TextEncoderStream());
        return new Response(upper, { headers: { 'x-seen': String(text.length) } });
    } }"#;
    let r = call(echo, http("POST", "https://app.test/", &[], "héllo".as_bytes()));
    assert_eq!(r.status, Status::Ok, "{r:#?}");
    assert_eq!(body_text(&r), "HÉLLO");
    assert!(r.response.as_ref().unwrap().headers.contains(&("x-seen".into(), "5".into())));
    // A stream that yields strings is refused, with the reason.
    let r = call(
        "export default { fetch() { return new Response(ReadableStream.from(['text'])) } }",
        http("GET", "https://app.test/", &[], b""),
    );
    assert_eq!(r.status, Status::Error);
    assert_eq!(r.error.unwrap().message, "A body stream must yield Uint8Array chunks, got string");
}

// ---- WebCrypto -------------------------------------------------------------------------------------

/// Signs a JWT in the guest with `alg` from a PKCS#8 key, as scripts calling
/// Google or Salesforce APIs do.
const JWT_SIGNER: &str = r#"
const b64url = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const der = b64 => Uint8Array.from(atob(b64), c => c.charCodeAt(0));
const ALGS = {
  RS256: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }],
  PS256: [{ name: 'RSA-PSS', hash: 'SHA-256' }, { name: 'RSA-PSS', saltLength: 32 }],
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  ES384: [{ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};
export default { async run({ alg, pkcs8 }) {
  const [imp, sig] = ALGS[alg];
  const key = await crypto.subtle.importKey('pkcs8', der(pkcs8), imp, false, ['sign']);
  const head = b64url(new TextEncoder().encode(JSON.stringify({ alg, typ: 'JWT' })));
  const body = b64url(new TextEncoder().encode(JSON.stringify({ iss: 'svc@quasm.test', aud: 'https://oauth2.test/token' })));
  const signature = await crypto.subtle.sign(sig, key, new TextEncoder().encode(`${head}.${body}`));
  return { jwt: `${head}.${body}.${b64url(signature)}`, algorithm: key.algorithm, type: key.type, extractable: key.extractable };
} };
"#;

fn verify_jwt(jwt: &str, alg: &'static dyn signature::VerificationAlgorithm, public: &[u8]) -> bool {
    let (signed, sig) = jwt.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    signature::UnparsedPublicKey::new(alg, public).verify(signed.as_bytes(), &sig).is_ok()
}

#[test]
fn jwts_signed_in_the_guest_verify_in_rust() {
    let rng = SystemRandom::new();
    let rsa = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap();
    let rsa_pkcs8 = STANDARD.encode(rsa.as_der().unwrap().as_ref());
    let rsa_public = rsa.public_key().as_ref().to_vec();
    let p256 = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let p384 = EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap();
    let ed = Ed25519KeyPair::generate().unwrap();
    let _ = &rng;
    let cases: Vec<(&str, String, &'static dyn signature::VerificationAlgorithm, Vec<u8>)> = vec![
        ("RS256", rsa_pkcs8.clone(), &signature::RSA_PKCS1_2048_8192_SHA256, rsa_public.clone()),
        ("PS256", rsa_pkcs8, &signature::RSA_PSS_2048_8192_SHA256, rsa_public),
        (
            "ES256",
            STANDARD.encode(p256.to_pkcs8v1().unwrap().as_ref()),
            &signature::ECDSA_P256_SHA256_FIXED,
            p256.public_key().as_ref().to_vec(),
        ),
        (
            "ES384",
            STANDARD.encode(p384.to_pkcs8v1().unwrap().as_ref()),
            &signature::ECDSA_P384_SHA384_FIXED,
            p384.public_key().as_ref().to_vec(),
        ),
        (
            "EdDSA",
            STANDARD.encode(ed.to_pkcs8v1().unwrap().as_ref()),
            &signature::ED25519,
            ed.public_key().as_ref().to_vec(),
        ),
    ];
    for (alg, pkcs8, verify_alg, public) in cases {
        let out = ok(JWT_SIGNER, json!({"alg": alg, "pkcs8": pkcs8}));
        let jwt = out["jwt"].as_str().unwrap();
        assert!(verify_jwt(jwt, verify_alg, &public), "{alg}: {jwt}");
        let (head, rest) = jwt.split_once('.').unwrap();
        let forged = format!("{head}.{}{}", if rest.starts_with('e') { "f" } else { "e" }, &rest[1..]);
        assert!(!verify_jwt(&forged, verify_alg, &public), "{alg} tampered");
        assert_eq!((out["type"].as_str(), out["extractable"].as_bool()), (Some("private"), Some(false)), "{alg}");
    }
    let out = ok(
        JWT_SIGNER,
        json!({"alg": "RS256", "pkcs8": STANDARD.encode(rsa::KeyPair::generate(rsa::KeySize::Rsa2048).unwrap().as_der().unwrap().as_ref())}),
    );
    assert_eq!(
        out["algorithm"],
        json!({"name": "RSASSA-PKCS1-v1_5", "modulusLength": 2048, "publicExponent": {"0": 1, "1": 0, "2": 1}, "hash": {"name": "SHA-256"}})
    );
}

#[test]
fn generated_keys_export_and_verify_outside() {
    let src = r#"export default { async run() {
        const b64 = b => btoa(String.fromCharCode(...new Uint8Array(b)));
        const data = new TextEncoder().encode('signed in the sandbox');
        const ec = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
        const ed = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
        const jwk = await crypto.subtle.exportKey('jwk', ec.publicKey);
        const reimported = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
        const ecSig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, data);
        return {
            ecRaw: b64(await crypto.subtle.exportKey('raw', ec.publicKey)), ecSig: b64(ecSig),
            edRaw: b64(await crypto.subtle.exportKey('raw', ed.publicKey)), edSig: b64(await crypto.subtle.sign('Ed25519', ed.privateKey, data)),
            jwk: [jwk.kty, jwk.crv, jwk.ext, jwk.key_ops],
            selfVerify: await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, reimported, ecSig, data),
            usages: [ec.publicKey.usages, ec.privateKey.usages],
        };
    } }"#;
    let out = ok(src, json!(null));
    let d = |k: &str| STANDARD.decode(out[k].as_str().unwrap()).unwrap();
    let data = b"signed in the sandbox";
    assert!(signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, d("ecRaw"))
        .verify(data, &d("ecSig"))
        .is_ok());
    assert!(signature::UnparsedPublicKey::new(&signature::ED25519, d("edRaw")).verify(data, &d("edSig")).is_ok());
    assert_eq!(out["jwk"], json!(["EC", "P-256", true, ["verify"]]));
    assert_eq!(out["selfVerify"], json!(true));
    assert_eq!(out["usages"], json!([["verify"], ["sign"]]));
}

#[test]
fn aes_and_key_derivation_match_reference_values() {
    let key = [7u8; 32];
    let iv = [9u8; 12];
    let src = r#"export default { async run({ key, iv }) {
        const b = s => Uint8Array.from(atob(s), c => c.charCodeAt(0)), b64 = x => btoa(String.fromCharCode(...new Uint8Array(x)));
        const hex = x => Array.from(new Uint8Array(x), v => v.toString(16).padStart(2, '0')).join('');
        const enc = new TextEncoder();
        const k = await crypto.subtle.importKey('raw', b(key), 'AES-GCM', false, ['encrypt', 'decrypt']);
        const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: b(iv), additionalData: enc.encode('aad') }, k, enc.encode('secret message'));
        const back = new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: b(iv), additionalData: enc.encode('aad') }, k, ct));
        let tamper;
        try { await crypto.subtle.decrypt({ name: 'AES-GCM', iv: b(iv) }, k, ct); } catch (e) { tamper = e.name; }
        const cbcKey = await crypto.subtle.importKey('raw', b(key).slice(0, 16), { name: 'AES-CBC' }, true, ['encrypt', 'decrypt']);
        const cbc = await crypto.subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, cbcKey, enc.encode('sixteen bytes!!!'));
        const cbcBack = new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, cbcKey, cbc));
        const pw = await crypto.subtle.importKey('raw', enc.encode('password'), 'PBKDF2', false, ['deriveBits']);
        const pbkdf2 = hex(await crypto.subtle.deriveBits({ name: 'PBKDF2', salt: enc.encode('salt'), iterations: 2, hash: 'SHA-1' }, pw, 160));
        // RFC 5869, test case 1.
        const ikm = await crypto.subtle.importKey('raw', new Uint8Array(22).fill(0x0b), 'HKDF', false, ['deriveBits', 'deriveKey']);
        const salt = Uint8Array.from({ length: 13 }, (_, i) => i), info = Uint8Array.from({ length: 10 }, (_, i) => 0xf0 + i);
        const hkdf = hex(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, ikm, 336));
        const a = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, false, ['deriveBits']);
        const c = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, false, ['deriveBits']);
        const ab = hex(await crypto.subtle.deriveBits({ name: 'ECDH', public: c.publicKey }, a.privateKey, 384));
        const cb = hex(await crypto.subtle.deriveBits({ name: 'ECDH', public: a.publicKey }, c.privateKey, 384));
        const x1 = await crypto.subtle.generateKey('X25519', false, ['deriveBits']), x2 = await crypto.subtle.generateKey('X25519', false, ['deriveBits']);
        const xa = hex(await crypto.subtle.deriveBits({ name: 'X25519', public: x2.publicKey }, x1.privateKey, 256));
        const xb = hex(await crypto.subtle.deriveBits({ name: 'X25519', public: x1.publicKey }, x2.privateKey, 256));
        const derived = await crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info }, ikm, { name: 'AES-GCM', length: 256 }, true, ['encrypt']);
        return { ct: b64(ct), back, tamper, cbcLen: cbc.byteLength, cbcBack, pbkdf2, hkdf, ecdh: [ab.length, ab === cb], x25519: [xa.length, xa === xb],
                 derived: [derived.algorithm, (await crypto.subtle.exportKey('raw', derived)).byteLength],
                 tse: [crypto.subtle.timingSafeEqual(enc.encode('abc'), enc.encode('abc')), crypto.subtle.timingSafeEqual(enc.encode('abc'), enc.encode('abd'))] };
    } }"#;
    let out = ok(src, json!({"key": STANDARD.encode(key), "iv": STANDARD.encode(iv)}));
    // The guest's AES-GCM ciphertext opens in Rust.
    let k = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, &key).unwrap());
    let mut ct = STANDARD.decode(out["ct"].as_str().unwrap()).unwrap();
    let plain = k.open_in_place(aead::Nonce::assume_unique_for_key(iv), aead::Aad::from(b"aad"), &mut ct).unwrap();
    assert_eq!(plain, b"secret message");
    assert_eq!(out["back"], "secret message");
    assert_eq!(out["tamper"], "OperationError");
    assert_eq!((out["cbcLen"].as_u64(), out["cbcBack"].as_str()), (Some(32), Some("sixteen bytes!!!")));
    // RFC 6070, c = 2.
    assert_eq!(out["pbkdf2"], "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    assert_eq!(out["hkdf"], "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    assert_eq!(out["ecdh"], json!([96, true]));
    assert_eq!(out["x25519"], json!([64, true]));
    assert_eq!(out["derived"], json!([{"name": "AES-GCM", "length": 256}, 32]));
    assert_eq!(out["tse"], json!([true, false]));
}

#[test]
fn crypto_errors_are_dom_exceptions_with_reasons() {
    let src = r#"export default { async run() {
        const err = async p => { try { await p; return null; } catch (e) { return [e.name, e.message]; } };
        const ec = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
        return {
            badPkcs8: (await err(crypto.subtle.importKey('pkcs8', new Uint8Array([48, 0]), { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign'])))[0],
            curve: await err(crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-521' }, false, ['sign'])),
            hash: await err(crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-512' }, ec.privateKey, new Uint8Array(1))),
            export: await err(crypto.subtle.exportKey('pkcs8', ec.privateKey)),
            wrap: (await err(crypto.subtle.wrapKey()))[0],
        };
    } }"#;
    assert_eq!(
        ok(src, json!(null)),
        json!({
            "badPkcs8": "DataError",
            "curve": ["NotSupportedError", "ECDSA: namedCurve must be one of P-256, P-384, got \"P-521\""],
            "hash": ["NotSupportedError", "ECDSA on P-256 signs with SHA-256 in Quasm, got SHA-512"],
            "export": ["InvalidAccessError", "The key is not extractable"],
            "wrap": "NotSupportedError",
        })
    );
}
