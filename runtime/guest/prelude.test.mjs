// Tests for prelude.js: node --test runtime/guest/prelude.test.mjs
//
// The prelude runs in a fresh vm context per sandbox. The context gets what
// QuickJS-ng itself provides (DOMException, atob/btoa, queueMicrotask) and a JS
// `__host` that mimics shim.c: results are Uint8Arrays of the context's realm,
// failures throw the context's TypeError, utf8Encode emits WTF-8 for lone
// surrogates like JS_ToCStringLen does, async ops are recorded for the test to
// complete, and the monotonic clock is fake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import nodeCrypto from 'node:crypto';

const SRC = readFileSync(new URL('./prelude.js', import.meta.url), 'utf8');
const plain = v => JSON.parse(JSON.stringify(v));
const flush = () => new Promise(r => setImmediate(r));
const hex = ab => Buffer.from(ab).toString('hex');

function wtf8(s) {
  const out = [];
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | c >> 6, 0x80 | c & 63);
    else if (c < 0x10000) out.push(0xe0 | c >> 12, 0x80 | c >> 6 & 63, 0x80 | c & 63);
    else out.push(0xf0 | c >> 18, 0x80 | c >> 12 & 63, 0x80 | c >> 6 & 63, 0x80 | c & 63);
  }
  return out;
}

// The host's `crypto` op (runtime/src/host/crypto/subtle.rs) on Node's
// crypto: same key forms (secret bytes, PKCS#8, SPKI), same "Name: message"
// errors, so the prelude's WebCrypto can be compared with Node's own.
const SPKI = { 'P-256': '3059301306072a8648ce3d020106082a8648ce3d030107034200', 'P-384': '3076301006072a8648ce3d020106052b81040022036200' };
function cryptoHost(a, data) {
  const b = x => Buffer.from(x, 'base64'), j = v => Buffer.from(JSON.stringify(v));
  const priv = k => nodeCrypto.createPrivateKey({ key: b(k), format: 'der', type: 'pkcs8' });
  const pub = k => nodeCrypto.createPublicKey({ key: b(k), format: 'der', type: 'spki' });
  const der = (k, t) => k.export({ format: 'der', type: t });
  const info = k => {
    const d = k.asymmetricKeyDetails || {}, o = {};
    if (d.modulusLength) { o.modulusLength = d.modulusLength; o.publicExponent = Buffer.from(d.publicExponent.toString(16).padStart(6, '0'), 'hex').toString('base64'); }
    return o;
  };
  const out = (k, type) => j({ type, key: der(k, type === 'private' ? 'pkcs8' : 'spki').toString('base64'), ...info(k) });
  const hash = h => h.replace('-', '').toLowerCase();
  const fail = (n, m) => { throw new Error(`${n}: ${m}`); };
  const isRsa = a.alg.startsWith('RSA');
  const sigOpts = k => a.alg === 'ECDSA' ? { key: k, dsaEncoding: 'ieee-p1363' } : a.alg === 'RSA-PSS' ? { key: k, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: a.salt_length } : k;
  const sigHash = () => a.alg === 'Ed25519' ? null : hash(a.hash);
  switch (a.op) {
    case 'import':
      try {
        if (a.format === 'pkcs8') return out(nodeCrypto.createPrivateKey({ key: data, format: 'der', type: 'pkcs8' }), 'private');
        if (a.format === 'spki') return out(nodeCrypto.createPublicKey({ key: data, format: 'der', type: 'spki' }), 'public');
        if (a.format === 'jwk') return out(a.jwk.d ? nodeCrypto.createPrivateKey({ key: a.jwk, format: 'jwk' }) : nodeCrypto.createPublicKey({ key: a.jwk, format: 'jwk' }), a.jwk.d ? 'private' : 'public');
        return out(nodeCrypto.createPublicKey({ key: Buffer.concat([Buffer.from(SPKI[a.curve] || '302a300506032b6570032100', 'hex'), data]), format: 'der', type: 'spki' }), 'public');
      } catch (e) { fail('DataError', e.message); }
    case 'export': {
      const k = a.kind === 'private' ? priv(a.key) : pub(a.key);
      if (a.format === 'jwk') { const r = k.export({ format: 'jwk' }); if (isRsa) r.alg = (a.alg === 'RSA-PSS' ? 'PS' : 'RS') + a.hash.slice(4); if (a.alg === 'Ed25519') r.alg = 'Ed25519'; return j(r); }
      if (a.format === 'raw') return b(a.key).subarray(a.curve ? SPKI[a.curve].length / 2 : 12);
      return b(a.key);
    }
    case 'generate': {
      const type = isRsa ? 'rsa' : a.alg === 'Ed25519' ? 'ed25519' : a.alg === 'X25519' ? 'x25519' : 'ec';
      const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync(type, { modulusLength: a.modulus_length, namedCurve: a.curve });
      return j({ ...info(publicKey), private: der(privateKey, 'pkcs8').toString('base64'), public: der(publicKey, 'spki').toString('base64') });
    }
    case 'sign': return nodeCrypto.sign(sigHash(), data, sigOpts(priv(a.key)));
    case 'verify': return [nodeCrypto.verify(sigHash(), data, sigOpts(pub(a.key)), b(a.signature)) ? 1 : 0];
    case 'encrypt': case 'decrypt': {
      const key = b(a.key), iv = b(a.iv), gcm = a.alg === 'AES-GCM', name = `aes-${key.length * 8}-${gcm ? 'gcm' : 'cbc'}`;
      try {
        if (a.op === 'encrypt') {
          const c = nodeCrypto.createCipheriv(name, key, iv);
          if (gcm && a.aad) c.setAAD(b(a.aad));
          return Buffer.concat([c.update(data), c.final(), gcm ? c.getAuthTag() : Buffer.alloc(0)]);
        }
        const c = nodeCrypto.createDecipheriv(name, key, iv);
        if (gcm) { c.setAuthTag(data.subarray(data.length - 16)); data = data.subarray(0, data.length - 16); if (a.aad) c.setAAD(b(a.aad)); }
        return Buffer.concat([c.update(data), c.final()]);
      } catch (e) { fail('OperationError', e.message); }
    }
    case 'derive':
      if (a.alg === 'PBKDF2') return nodeCrypto.pbkdf2Sync(b(a.key), b(a.salt), a.iterations, a.length / 8, hash(a.hash));
      if (a.alg === 'HKDF') return Buffer.from(nodeCrypto.hkdfSync(hash(a.hash), b(a.key), b(a.salt), b(a.info), a.length / 8));
      { const z = nodeCrypto.diffieHellman({ privateKey: priv(a.key), publicKey: pub(a.public) }); return a.length == null ? z : z.subarray(0, a.length / 8); }
  }
  fail('NotSupportedError', a.op);
}

function sandbox() {
  const ctx = vm.createContext({ DOMException, atob, btoa, queueMicrotask });
  const G = vm.runInContext('globalThis', ctx);
  const s = { ctx, G, logs: [], ops: [], calls: [], now: 1000, refuse: null, nextId: 100, streaming: false, chunks: [], clientGoneAfter: Infinity };
  const u8 = b => { const u = new G.Uint8Array(b.length); u.set(b); return u; };
  const bytesOf = b => b == null ? null : Buffer.from(ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));
  const rec = u => ({ href: u.href, origin: u.origin, protocol: u.protocol, username: u.username, password: u.password, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash });
  const json = v => u8(Buffer.from(JSON.stringify(v)));
  ctx.__host = {
    log: (level, msg) => s.logs.push([level, msg]),
    utf8Encode: str => u8(wtf8(String(str))),
    utf8Decode(b, fatal) {
      const u = bytesOf(b);
      if (!u) return '';
      try { return new TextDecoder('utf-8', { fatal: !!fatal, ignoreBOM: true }).decode(u); } catch { throw new G.TypeError('The encoded data was not valid for encoding utf-8'); }
    },
    random: ta => { nodeCrypto.randomFillSync(ta); return ta; },
    monotonic: () => s.now,
    // The real host writes the invocation's start before each call.
    callStart: () => s.callStart,
    callOrigin: () => 1700000000000,
    call(op, arg, bytes) {
      const a = JSON.parse(arg);
      s.calls.push({ op, arg: a, bytes: bytesOf(bytes) });
      const hash = h => ({ 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' })[h];
      try {
        switch (op) {
          case 'url_parse': return json(rec(new URL(a.input, a.base ?? undefined)));
          case 'url_set': { const u = new URL(a.href); u[a.component] = a.value; return json(rec(u)); }
          case 'digest': return u8(nodeCrypto.createHash(hash(a.algorithm)).update(bytesOf(bytes)).digest());
          case 'hmac': return u8(nodeCrypto.createHmac(hash(a.hash), Buffer.from(a.key, 'base64')).update(bytesOf(bytes)).digest());
          case 'progress': return u8([]);
          case 'crypto': return u8(cryptoHost(a, bytesOf(bytes)));
          // A host that streams (s.streaming) takes the head, then chunks
          // until its client goes (s.clientGoneAfter chunks).
          case 'response.start': return u8(Buffer.from(s.streaming ? '1' : '0'));
          case 'response.chunk': {
            if (s.chunks.length >= s.clientGoneAfter) return u8(Buffer.from('0'));
            s.chunks.push(bytesOf(bytes).toString());
            return u8(Buffer.from('1'));
          }
        }
      } catch (e) { throw new G.TypeError(e.message); }
      throw new G.TypeError(`unknown host op ${op}`);
    },
    // The shim evaluates prelude-NAME.js on first use.
    lazy: name => vm.runInContext(readFileSync(new URL(`./prelude-${name}.js`, import.meta.url), 'utf8'), ctx, { filename: `quasm:prelude/${name}` }),
    start(op, arg, bytes) {
      if (s.refuse) throw new G.TypeError(s.refuse);
      const id = ++s.nextId;
      s.ops.push({ id, op, arg: JSON.parse(arg), bytes: bytesOf(bytes) });
      return id;
    },
  };
  vm.runInContext(SRC, ctx, { filename: 'quasm:prelude' });
  s.Q = G.__quasm;
  s.run = code => vm.runInContext(code, ctx);
  s.u8 = u8;
  s.op = () => s.ops.at(-1);
  s.complete = (id, ok, meta, body) => s.Q.complete(id, ok, typeof meta === 'string' ? meta : JSON.stringify(meta), body == null ? null : u8(Buffer.from(body)));
  s.logText = () => s.logs.map(l => l[1]).join('\n');
  return s;
}

const meta = (extra = {}) => JSON.stringify({
  env: { GREETING: 'hi' },
  ctx: { invocation_id: 'inv-1', tenant: 'acme', function: 'hello', version: 7, trigger: 'http', deadline_ms: 5000 },
  ...extra,
});

// ---------------------------------------------------------------------------
test('prelude: only the intended globals leak and __host is hidden', () => {
  const before = new Set(Object.getOwnPropertyNames(vm.runInNewContext('globalThis')));
  const s = sandbox();
  const added = Object.getOwnPropertyNames(s.G).filter(k => !before.has(k)).sort();
  assert.deepEqual(added, [
    'AbortController', 'AbortSignal', 'Blob', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy', 'Crypto', 'CryptoKey',
    'DOMException', 'Event', 'EventTarget', 'File', 'FormData', 'Headers', 'ReadableStream', 'ReadableStreamDefaultController',
    'ReadableStreamDefaultReader', 'Request', 'Response', 'SubtleCrypto', 'TextDecoder', 'TextDecoderStream', 'TextEncoder',
    'TextEncoderStream', 'TransformStream', 'URL', 'URLSearchParams', 'WritableStream', 'WritableStreamDefaultWriter', '__quasm',
    'addEventListener', 'atob', 'btoa', 'clearInterval', 'clearTimeout', 'crypto', 'fetch', 'performance', 'queueMicrotask',
    'removeEventListener', 'self', 'setInterval', 'setTimeout', 'structuredClone',
  ]);
  // Lazy parts load on first read and then stay plain values.
  assert.equal(typeof Object.getOwnPropertyDescriptor(s.G, 'Blob').get, 'function');
  assert.equal(s.run('typeof Blob'), 'function');
  assert.equal(s.run('Object.getOwnPropertyDescriptor(globalThis, "Blob").value === Blob'), true);
  assert.equal(s.run('Object.getOwnPropertyDescriptor(globalThis, "ReadableStream").get !== undefined'), true);
  assert.equal(s.run('typeof __host'), 'undefined');
  assert.equal(s.run('self === globalThis'), true);
  s.run('console.log("replaced")'); // V8 contexts come with a console; the prelude's replaces it
  assert.deepEqual(s.logs, [[1, 'replaced']]);
  assert.equal(s.run('Object.keys(globalThis).includes("__quasm")'), false);
  assert.equal(Object.isFrozen(s.Q), true);
  assert.throws(() => s.run('"use strict"; __quasm.dispatch = null'), { name: 'TypeError' });
  assert.equal(s.run('Object.getOwnPropertyDescriptor(globalThis, "fetch").enumerable'), false);
  assert.equal(s.run('Object.prototype.toString.call(new Headers())'), '[object Headers]');
});

test('prelude: refuses to load without the engine intrinsics', () => {
  const ctx = vm.createContext({ __host: {} });
  assert.throws(() => vm.runInContext(SRC, ctx), /engine must provide/);
});

test('prelude: stays compact', () => {
  // Every sandbox evaluates the core; the parts load only when used.
  assert.ok(Buffer.byteLength(SRC) < 64 * 1024, `prelude is ${Buffer.byteLength(SRC)} bytes`);
  for (const n of ['buffer', 'crypto', 'form', 'streams']) {
    const b = Buffer.byteLength(readFileSync(new URL(`./prelude-${n}.js`, import.meta.url)));
    assert.ok(b < 32 * 1024, `prelude-${n}.js is ${b} bytes`);
  }
});

// ---------------------------------------------------------------------------
test('console: levels map to host log levels', () => {
  const s = sandbox();
  s.run('console.debug("d"); console.log("l"); console.info("i"); console.warn("w"); console.error("e")');
  assert.deepEqual(s.logs, [[0, 'd'], [1, 'l'], [1, 'i'], [2, 'w'], [3, 'e']]);
});

test('console: printf-style substitutions', () => {
  const s = sandbox();
  s.run(`console.log('%s|%d|%i|%f|%j|%o|%O|%c|%%|%x', 'str', '42.5', 42.9, '1.5e1', {a: [1]}, 'q', {b: 2}, 'color: red', 'extra', 7)`);
  assert.equal(s.logs[0][1], "str|42.5|42|15|{\"a\":[1]}|'q'|{ b: 2 }||%|%x extra 7");
  s.run(`console.log('%s and %s', 'one'); console.log('%d', 10n); console.log('%s', {a: {b: {c: {}}}}); console.log('100%'); console.log('%s', -0)`);
  assert.deepEqual(s.logs.slice(1).map(l => l[1]), ['one and %s', '10n', '{ a: [Object] }', '100%', '-0']);
  s.run(`const c = {}; c.c = c; console.log('%j', c)`);
  assert.equal(s.logs.at(-1)[1], '[Circular]');
});

test('console: inspects values like a compact util.inspect', () => {
  const s = sandbox();
  s.run(`console.log('top', 1, -0, 10n, true, null, undefined, Symbol('s'), ['in', "it's"], {'a-b': 1, ok: 'x'})`);
  assert.equal(s.logs[0][1], `top 1 -0 10n true null undefined Symbol(s) [ 'in', "it's" ] { 'a-b': 1, ok: 'x' }`);
  s.run(`console.log(function named() {}, () => {}, class K {}, async function af() {}, function* gen() {})`);
  assert.equal(s.logs[1][1], '[Function: named] [Function (anonymous)] [class K] [AsyncFunction: af] [GeneratorFunction: gen]');
  s.run(`console.log(new Map([['k', {v: 1}]]), new Set([1, 'a']), new Date(0), /re/gi, new Uint8Array([1, 2]), new ArrayBuffer(2), [1, , 3], [], {})`);
  assert.equal(s.logs[2][1], "Map(1) { 'k' => { v: 1 } } Set(2) { 1, 'a' } 1970-01-01T00:00:00.000Z /re/gi Uint8Array(2) [ 1, 2 ] ArrayBuffer { [Uint8Contents]: <00 00>, byteLength: 2 } [ 1, <1 empty item>, 3 ] [] {}");
  s.run(`const o = {name: 'o', list: [1]}; o.self = o; o.list.push(o); console.log(o)`);
  assert.equal(s.logs[3][1], "{ name: 'o', list: [ 1, [Circular] ], self: [Circular] }");
  s.run(`console.log({a: {b: {c: {d: {e: {f: 1}}}}}}, Array.from({length: 102}, (_, i) => i).length, Array.from({length: 102}, (_, i) => i))`);
  assert.match(s.logs[4][1], /^\{ a: \{ b: \{ c: \{ d: \[Object\] \} \} \} \} 102 \[ 0, 1, .* 99, \.\.\. 2 more items \]$/);
  s.run(`class P { constructor() { this.x = 1 } } console.log(new P(), Object.create(null), {get g() { return 1 }, [Symbol('k')]: 2}, new Promise(() => {}), new String('s'))`);
  assert.equal(s.logs[5][1], "P { x: 1 } [Object: null prototype] {} { g: [Getter], [Symbol(k)]: 2 } Promise {} [String: 's']");
  s.run(`console.log(new Headers({'X-B': '2', a: '1'}), new URLSearchParams('a=1&b=2'), new Response('x', {status: 201}).status)`);
  assert.equal(s.logs[6][1], "Headers { a: '1', 'x-b': '2' } URLSearchParams { a: '1', b: '2' } 201");
  s.run(`console.log(new URL('https://a.test/p?q=1'))`);
  assert.match(s.logs[7][1], /^URL \{ href: 'https:\/\/a\.test\/p\?q=1', origin: 'https:\/\/a\.test', protocol: 'https:',/);
});

test('console: errors print with their stack, minus prelude frames', () => {
  const s = sandbox();
  s.run(`function userFn() { new Headers([['bad name', 'x']]) } try { userFn() } catch (e) { console.error('failed:', e) }`);
  const out = s.logs[0][1];
  assert.match(out, /^failed: TypeError: Invalid header name: "bad name"\n\s+at userFn/);
  assert.doesNotMatch(out, /quasm:prelude/);
  s.run(`console.log({e: new RangeError('inner')}); console.log(new Error('outer', {cause: new Error('why')}))`);
  assert.equal(s.logs[1][1], '{ e: [RangeError: inner] }');
  assert.match(s.logs[2][1], /^Error: outer\n[^]*\[cause\]: \[Error: why\]$/);
});

test('console: assert, count, time, group, dir, trace', () => {
  const s = sandbox();
  s.run(`console.assert(true, 'no'); console.assert(false, 'bad %s', 'thing'); console.assert(false)`);
  assert.deepEqual(s.logs.splice(0), [[3, 'Assertion failed: bad thing'], [3, 'Assertion failed']]);
  s.run(`console.count(); console.count('x'); console.count(); console.countReset(); console.count()`);
  assert.deepEqual(s.logs.splice(0).map(l => l[1]), ['default: 1', 'x: 1', 'default: 2', 'default: 1']);
  s.run(`console.time('t')`); s.now += 12.5; s.run(`console.timeLog('t', 'mid'); console.timeEnd('t'); console.timeEnd('t')`);
  assert.deepEqual(s.logs.splice(0), [[1, 't: 12.500ms mid'], [1, 't: 12.500ms'], [2, "Warning: No such label 't' for console.timeEnd()"]]);
  s.run(`console.group('g'); console.log('a\\nb'); console.groupEnd(); console.log('c'); console.dir('s')`);
  assert.deepEqual(s.logs.splice(0).map(l => l[1]), ['g', '  a\n  b', 'c', "'s'"]);
  s.run(`function where() { console.trace('here %d', 1) } where()`);
  assert.match(s.logs[0][1], /^Trace: here 1\n\s+at where/);
  assert.doesNotMatch(s.logs[0][1], /quasm:prelude/);
});

test('console: a value that cannot be formatted does not throw', () => {
  const s = sandbox();
  s.run(`console.log(new Proxy({}, { ownKeys() { throw new Error('nope') }, getPrototypeOf() { throw new Error('nope') } }))`);
  assert.equal(s.logs.length, 1);
});

// ---------------------------------------------------------------------------
test('Headers: case-insensitive, combined, sorted, set-cookie separate', () => {
  const s = sandbox();
  const h = new s.G.Headers([['X-B', '1'], ['x-b', '2'], ['A', ' padded \t'], ['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']]);
  assert.equal(h.get('x-B'), '1, 2');
  assert.equal(h.get('a'), 'padded');
  assert.equal(h.get('set-cookie'), 'a=1, b=2');
  assert.deepEqual(plain(h.getSetCookie()), ['a=1', 'b=2']);
  assert.deepEqual(plain([...h]), [['a', 'padded'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-b', '1, 2']]);
  assert.deepEqual(plain([...h.keys()]), ['a', 'set-cookie', 'set-cookie', 'x-b']);
  assert.deepEqual(plain([...h.values()]), ['padded', 'a=1', 'b=2', '1, 2']);
  const seen = [];
  h.forEach(function (v, k, o) { seen.push([k, v, o === h, this.t]); }, { t: 1 });
  assert.deepEqual(plain(seen[0]), ['a', 'padded', true, 1]);
  assert.equal(h.has('X-b'), true);
  assert.equal(h.get('missing'), null);
  h.set('x-b', '3');
  assert.equal(h.get('x-b'), '3');
  h.delete('SET-COOKIE');
  assert.equal(h.has('set-cookie'), false);
  h.append('z', 'last');
  assert.deepEqual(plain([...h.entries()]), [['a', 'padded'], ['x-b', '3'], ['z', 'last']]);
});

test('Headers: set replaces the first entry in place and drops the rest', () => {
  const s = sandbox();
  const h = new s.G.Headers([['a', '1'], ['b', '2'], ['a', '3']]);
  h.set('A', '9');
  assert.equal(h.get('a'), '9');
  assert.deepEqual(plain([...h]), [['a', '9'], ['b', '2']]);
});

test('Headers: construction from record, pairs, Headers; bad input', () => {
  const s = sandbox();
  const H = s.G.Headers;
  assert.equal(new H({ 'Content-Type': 'x' }).get('content-type'), 'x');
  const copy = new H(new H([['set-cookie', 'a'], ['set-cookie', 'b']]));
  assert.deepEqual(plain(copy.getSetCookie()), ['a', 'b']);
  assert.equal(new H(s.run('new Map([["k", "v"]])')).get('k'), 'v');
  assert.equal([...new H(undefined)].length, 0);
  assert.throws(() => new H([['a', 'b', 'c']]), { name: 'TypeError', message: /\[name, value\] pair/ });
  assert.throws(() => new H(['ab']), { name: 'TypeError', message: /pair/ });
  assert.throws(() => new H('a=b'), { name: 'TypeError', message: /init must be/ });
});

test('Headers: validates names and values', () => {
  const s = sandbox();
  const h = new s.G.Headers();
  for (const bad of ['', 'a b', 'a:b', 'é', 'a\n']) assert.throws(() => h.append(bad, 'v'), { name: 'TypeError', message: /^Invalid header name/ });
  for (const bad of ['a\r\nb', 'a\0', 'snow☃']) assert.throws(() => h.set('x', bad), { name: 'TypeError', message: /^Invalid header value/ });
  assert.throws(() => h.get(), { name: 'TypeError', message: /1 argument required/ });
  assert.throws(() => h.append('x'), { name: 'TypeError', message: /2 arguments required/ });
  h.append('x', 'ok latin1 ÿ');
  assert.equal(h.get('x'), 'ok latin1 ÿ');
});

// ---------------------------------------------------------------------------
test('URLSearchParams: parsing and form-urlencoded serialization', () => {
  const s = sandbox();
  const P = s.G.URLSearchParams;
  const p = new P('?a=1&a=2&b=%C3%A9+x&c=%zz&&d&=e&f=g=h');
  assert.deepEqual(plain([...p]), [['a', '1'], ['a', '2'], ['b', 'é x'], ['c', '%zz'], ['d', ''], ['', 'e'], ['f', 'g=h']]);
  assert.equal(p.toString(), 'a=1&a=2&b=%C3%A9+x&c=%25zz&d=&=e&f=g%3Dh');
  assert.equal(new P({ sp: 'a b', sym: "*-._!'()~", uni: '€', lone: '\ud800' }).toString(),
    "sp=a+b&sym=*-._%21%27%28%29%7E&uni=%E2%82%AC&lone=%EF%BF%BD");
  assert.equal(new P([['x', 1], ['y', null]]).toString(), 'x=1&y=null');
  assert.equal(new P(new P('k=v')).get('k'), 'v');
  assert.equal(new P('%F0%9F%98%80=%FF').toString(), '%F0%9F%98%80=%EF%BF%BD');
  assert.throws(() => new P([['only-one']]), { name: 'TypeError', message: /exactly|pair/ });
});

test('URLSearchParams: methods', () => {
  const s = sandbox();
  const p = new s.G.URLSearchParams('b=2&a=1&b=3&c=4');
  assert.equal(p.size, 4);
  assert.equal(p.get('b'), '2');
  assert.equal(p.get('zz'), null);
  assert.deepEqual(plain(p.getAll('b')), ['2', '3']);
  assert.equal(p.has('b', '3'), true);
  assert.equal(p.has('b', '9'), false);
  p.delete('b', '2');
  assert.equal(p.toString(), 'a=1&b=3&c=4');
  p.set('a', 'x'); p.append('a', 'y'); p.set('c', 'z');
  assert.equal(p.toString(), 'a=x&b=3&c=z&a=y');
  p.sort();
  assert.equal(p.toString(), 'a=x&a=y&b=3&c=z');
  const seen = [];
  p.forEach((v, k) => seen.push(k + v));
  assert.deepEqual(seen, ['ax', 'ay', 'b3', 'cz']);
  assert.deepEqual(plain([...p.keys()]), ['a', 'a', 'b', 'c']);
  assert.deepEqual(plain([...p.values()]), ['x', 'y', '3', 'z']);
  p.delete('a');
  assert.equal(String(p), 'b=3&c=z');
  assert.throws(() => p.append('a'), { name: 'TypeError', message: /2 arguments required/ });
});

// ---------------------------------------------------------------------------
test('URL: parsing, base, errors', () => {
  const s = sandbox();
  const U = s.G.URL;
  const u = new U('../x/y?q=1#frag', 'https://user:pw@Example.com:8080/a/b/c');
  assert.equal(u.href, 'https://user:pw@example.com:8080/a/x/y?q=1#frag');
  assert.deepEqual([u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash],
    ['https://example.com:8080', 'https:', 'user', 'pw', 'example.com:8080', 'example.com', '8080', '/a/x/y', '?q=1', '#frag']);
  assert.equal(String(u), u.href);
  assert.equal(u.toJSON(), u.href);
  assert.equal(s.run('JSON.stringify({u: new URL("https://a.test")})'), '{"u":"https://a.test/"}');
  assert.throws(() => new U('/relative'), { name: 'TypeError', message: 'Invalid URL: /relative' });
  assert.throws(() => new U('http://[::1'), { name: 'TypeError', message: 'Invalid URL: http://[::1' });
  assert.throws(() => new U(), { name: 'TypeError', message: /1 argument required/ });
  assert.equal(U.canParse('https://a.test'), true);
  assert.equal(U.canParse('nope'), false);
  assert.equal(U.canParse('/p', 'https://a.test'), true);
  assert.equal(U.parse('nope'), null);
  assert.equal(U.parse('/p', 'https://a.test').href, 'https://a.test/p');
  assert.deepEqual(s.calls.at(-1).arg, { input: '/p', base: 'https://a.test' });
});

test('URL: setters go through url_set; invalid values are ignored, invalid href throws', () => {
  const s = sandbox();
  const u = new s.G.URL('https://a.test/p?x=1#h');
  u.pathname = '/new path';
  u.hash = 'top';
  u.port = '8443';
  u.hostname = 'b.test';
  u.username = 'me';
  u.protocol = 'http';
  assert.equal(u.href, 'http://me@b.test:8443/new%20path?x=1#top');
  assert.deepEqual(s.calls.at(-1).arg, { href: 'https://me@b.test:8443/new%20path?x=1#top', component: 'protocol', value: 'http' });
  u.port = 'abc';
  assert.equal(u.port, '8443');
  u.href = 'https://c.test/';
  assert.equal(u.host, 'c.test');
  assert.throws(() => { u.href = 'not a url'; }, { name: 'TypeError', message: 'Invalid URL: not a url' });
  assert.equal(u.href, 'https://c.test/');
  assert.throws(() => Object.getOwnPropertyDescriptor(s.G.URL.prototype, 'href').get.call({}), { name: 'TypeError' });
});

test('URL: searchParams is live in both directions', () => {
  const s = sandbox();
  const u = new s.G.URL('https://a.test/p?a=1&b=2');
  const p = u.searchParams;
  assert.equal(p, u.searchParams);
  p.append('c', 'd e');
  assert.equal(u.search, '?a=1&b=2&c=d+e');
  assert.equal(u.href, 'https://a.test/p?a=1&b=2&c=d+e');
  u.search = '?z=9';
  assert.equal(p.get('z'), '9');
  assert.equal(p.size, 1);
  u.href = 'https://a.test/?k=v';
  assert.equal(p.get('k'), 'v');
  p.delete('k');
  assert.equal(u.href, 'https://a.test/');
  assert.equal(u.search, '');
});

// ---------------------------------------------------------------------------
test('Request: defaults, method normalization, body extraction', async () => {
  const s = sandbox();
  const R = s.G.Request;
  const r = new R('https://a.test/x');
  assert.deepEqual([r.method, r.url, r.redirect, r.bodyUsed, r.body], ['GET', 'https://a.test/x', 'follow', false, null]);
  assert.equal(r.signal.aborted, false);
  assert.equal(new R('https://a.test', { method: 'post' }).method, 'POST');
  assert.equal(new R('https://a.test', { method: 'patch' }).method, 'patch');
  assert.throws(() => new R('https://a.test', { method: 'CONNECT' }), { name: 'TypeError', message: /Forbidden HTTP method/ });
  assert.throws(() => new R('https://a.test', { method: 'bad method' }), { name: 'TypeError', message: /Invalid HTTP method/ });
  assert.throws(() => new R('/rel'), { name: 'TypeError', message: 'Invalid URL: /rel' });
  assert.throws(() => new R('https://a.test', { redirect: 'nope' }), { name: 'TypeError', message: /redirect mode/ });
  assert.throws(() => new R('https://a.test', { body: 'x' }), { name: 'TypeError', message: 'Request with GET/HEAD method cannot have body.' });
  assert.throws(() => new R('https://a.test', { method: 'HEAD', body: 'x' }), { name: 'TypeError' });
  assert.throws(() => new R('https://a.test', { signal: {} }), { name: 'TypeError', message: /AbortSignal/ });

  const form = new R('https://a.test', { method: 'POST', body: new s.G.URLSearchParams({ a: 'b c' }) });
  assert.equal(form.headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
  assert.equal(await form.text(), 'a=b+c');
  const txt = new R('https://a.test', { method: 'PUT', body: 'héllo', headers: { 'Content-Type': 'text/x' } });
  assert.equal(txt.headers.get('content-type'), 'text/x');
  assert.deepEqual([...(await txt.bytes())], [...Buffer.from('héllo')]);
  const bin = new R('https://a.test', { method: 'POST', body: new Uint16Array([1, 2]) });
  assert.equal(bin.headers.has('content-type'), false);
  assert.equal(hex(await bin.arrayBuffer()), '01000200');
  // Not a stream: converted to a string, as in Node.
  assert.equal(await new R('https://a.test', { method: 'POST', body: { getReader() {} } }).text(), '[object Object]');
});

test('Request: clone, body reuse, construction from another Request', async () => {
  const s = sandbox();
  const R = s.G.Request;
  const a = new R('https://a.test', { method: 'POST', body: '{"x":1}', headers: { 'x-h': '1' } });
  const c = a.clone();
  assert.deepEqual(plain(await a.json()), { x: 1 });
  assert.equal(a.bodyUsed, true);
  await assert.rejects(a.text(), { name: 'TypeError', message: /body has already been used/ });
  assert.throws(() => a.clone(), { name: 'TypeError', message: /already been used/ });
  assert.equal(await c.text(), '{"x":1}');

  const src = new R('https://a.test/src', { method: 'PUT', body: 'moved', headers: { 'x-h': '1' }, redirect: 'manual' });
  const derived = new R(src, { headers: { 'x-new': '2' } });
  assert.deepEqual([derived.method, derived.url, derived.redirect, derived.headers.get('x-h'), derived.headers.get('x-new')], ['PUT', 'https://a.test/src', 'manual', null, '2']);
  assert.equal(src.bodyUsed, true);
  assert.equal(await derived.text(), 'moved');
  assert.throws(() => new R(src), { name: 'TypeError', message: /already been used/ });
  // `body` is a ReadableStream of the bytes, the same one each time.
  const b = new R('https://a.test', { method: 'POST', body: 'abc' });
  assert.equal(b.body, b.body);
  assert.equal(b.body instanceof s.G.ReadableStream, true);
  assert.equal(b.bodyUsed, false);
  const c2 = b.clone();
  assert.equal(await b.text(), 'abc');
  assert.equal(b.bodyUsed, true);
  assert.equal(await c2.text(), 'abc');
});

// ---------------------------------------------------------------------------
test('Response: constructor defaults and validation', async () => {
  const s = sandbox();
  const R = s.G.Response;
  const r = new R();
  assert.deepEqual([r.status, r.statusText, r.ok, r.type, r.url, r.redirected, r.body], [200, '', true, 'default', '', false, null]);
  assert.equal(await r.text(), '');
  assert.equal(r.bodyUsed, false);
  const t = new R('hé', { status: 404, statusText: 'Nope', headers: { 'x-a': 'b' } });
  assert.deepEqual([t.status, t.ok, t.statusText, t.headers.get('content-type'), t.headers.get('x-a')], [404, false, 'Nope', 'text/plain;charset=UTF-8', 'b']);
  const chunk = await t.body.getReader().read();
  assert.deepEqual([chunk.done, [...chunk.value]], [false, [...Buffer.from('hé')]]);
  assert.equal(t.bodyUsed, true);
  for (const status of [199, 600, 0, 200.5, 'abc']) assert.throws(() => new R(null, { status }), { name: 'RangeError', message: /200 to 599/ });
  assert.throws(() => new R('x', { status: 204 }), { name: 'TypeError', message: /null body status 204/ });
  assert.equal(new R(null, { status: 204 }).status, 204);
  assert.throws(() => new R('x', { statusText: 'a\nb' }), { name: 'TypeError', message: /statusText/ });
  assert.equal(await new R(s.run('new Uint8Array([104, 105]).buffer')).text(), 'hi');
  assert.equal(await new R(new DataView(new Uint8Array([0, 111, 107, 0]).buffer, 1, 2)).text(), 'ok');
  assert.equal(await new R(s.u8([0xef, 0xbb, 0xbf, 0x41])).text(), 'A');
  await assert.rejects(new R('{bad').json(), { name: 'SyntaxError' });
  assert.equal(s.run('new Response("x").arrayBuffer().then(b => b instanceof ArrayBuffer)') instanceof s.G.Promise, true);
  assert.equal(await s.run('new Response("x").arrayBuffer().then(b => b instanceof ArrayBuffer)'), true);
  assert.equal(await s.run('new Response("x").bytes().then(b => b instanceof Uint8Array)'), true);
});

test('Response: statics json, redirect, error', async () => {
  const s = sandbox();
  const R = s.G.Response;
  const j = R.json({ a: [1] }, { status: 201, headers: { 'x-k': 'v' } });
  assert.deepEqual([j.status, j.headers.get('content-type'), j.headers.get('x-k')], [201, 'application/json', 'v']);
  assert.deepEqual(plain(await j.json()), { a: [1] });
  assert.equal(R.json('x', { headers: { 'content-type': 'application/vnd+json' } }).headers.get('content-type'), 'application/vnd+json');
  assert.throws(() => R.json(undefined), { name: 'TypeError', message: /not JSON-serializable/ });
  assert.throws(() => R.json(s.run('10n')), { name: 'TypeError' });

  const red = R.redirect('https://a.test/next');
  assert.deepEqual([red.status, red.headers.get('location'), red.body], [302, 'https://a.test/next', null]);
  assert.equal(R.redirect('https://a.test', 301).status, 301);
  assert.throws(() => R.redirect('https://a.test', 200), { name: 'RangeError', message: /redirect status/ });
  assert.throws(() => R.redirect('/relative'), { name: 'TypeError', message: 'Invalid URL: /relative' });
  assert.throws(() => red.headers.set('location', 'x'), { name: 'TypeError', message: "Can't modify immutable headers." });

  const e = R.error();
  assert.deepEqual([e.status, e.type, e.ok], [0, 'error', false]);
  assert.throws(() => e.headers.append('a', 'b'), { name: 'TypeError' });
});

test('Response: clone and body-used errors', async () => {
  const s = sandbox();
  const r = new s.G.Response('data', { status: 202 });
  const c = r.clone();
  assert.equal(await r.text(), 'data');
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.arrayBuffer(), { name: 'TypeError', message: /arrayBuffer: body has already been used/ });
  await assert.rejects(r.json(), { name: 'TypeError' });
  assert.throws(() => r.clone(), { name: 'TypeError' });
  assert.deepEqual([c.status, await c.text()], [202, 'data']);
});

// ---------------------------------------------------------------------------
test('fetch: sends the request to the host and builds the Response', async () => {
  const s = sandbox();
  const p = s.run(`fetch('https://api.test/items?x=1', { method: 'POST', body: JSON.stringify({a: 1}), headers: {'X-Key': 'k', 'content-type': 'application/json'}, redirect: 'manual' })`);
  const op = s.op();
  assert.equal(op.op, 'fetch');
  assert.deepEqual(op.arg, { method: 'POST', url: 'https://api.test/items?x=1', headers: [['x-key', 'k'], ['content-type', 'application/json']], redirect: 'manual' });
  assert.equal(op.bytes.toString(), '{"a":1}');
  s.complete(op.id, true, { status: 201, statusText: 'Created', headers: [['Content-Type', 'text/plain'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']], url: 'https://api.test/final', redirected: true }, 'created!');
  const res = await p;
  assert.equal(res instanceof s.G.Response, true);
  assert.deepEqual([res.status, res.statusText, res.ok, res.url, res.redirected], [201, 'Created', true, 'https://api.test/final', true]);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.deepEqual(plain(res.headers.getSetCookie()), ['a=1', 'b=2']);
  assert.throws(() => res.headers.set('x', 'y'), { name: 'TypeError', message: "Can't modify immutable headers." });
  assert.equal(await res.text(), 'created!');
});

test('fetch: accepts URL and Request inputs; GET has no body; HEAD and 204 have null bodies', async () => {
  const s = sandbox();
  const p1 = s.run(`fetch(new URL('https://a.test/u'))`);
  assert.deepEqual(s.op().arg, { method: 'GET', url: 'https://a.test/u', headers: [], redirect: 'follow' });
  assert.equal(s.op().bytes, null);
  s.complete(s.op().id, true, { status: 204, statusText: '', headers: [], url: 'https://a.test/u', redirected: false }, null);
  const r1 = await p1;
  assert.equal(r1.body, null);
  assert.equal(r1.url, 'https://a.test/u');

  const p2 = s.run(`fetch(new Request('https://a.test/r', { method: 'PUT', body: 'b' }), { headers: { a: '1' } })`);
  assert.deepEqual(s.op().arg, { method: 'PUT', url: 'https://a.test/r', headers: [['a', '1']], redirect: 'follow' });
  assert.equal(s.op().bytes.toString(), 'b');
  s.complete(s.op().id, true, { status: 200, headers: [] }, 'ok');
  const r2 = await p2;
  assert.deepEqual([r2.statusText, r2.url, await r2.text()], ['', 'https://a.test/r', 'ok']);

  const p3 = s.run(`fetch('https://a.test', { method: 'HEAD' })`);
  s.complete(s.op().id, true, { status: 200, headers: [['content-length', '5']] }, '');
  assert.equal((await p3).body, null);
});

test('fetch: failures reject with TypeError', async () => {
  const s = sandbox();
  const p = s.run(`fetch('https://down.test')`);
  s.complete(s.op().id, false, 'connection refused', null);
  await assert.rejects(p, { name: 'TypeError', message: 'connection refused' });
  await assert.rejects(s.run(`fetch('https://a.test', { body: 'x' })`), { name: 'TypeError', message: /GET\/HEAD/ });
  await assert.rejects(s.run(`fetch('relative')`), { name: 'TypeError', message: 'Invalid URL: relative' });
  s.refuse = 'subrequest limit (50) reached';
  await assert.rejects(s.run(`fetch('https://a.test')`), { name: 'TypeError', message: 'subrequest limit (50) reached' });
});

test('fetch: honours AbortSignal before and during the request', async () => {
  const s = sandbox();
  await assert.rejects(s.run(`fetch('https://a.test', { signal: AbortSignal.abort() })`), { name: 'AbortError' });
  assert.equal(s.ops.length, 0);
  s.run(`globalThis.ac = new AbortController(); globalThis.p = fetch('https://a.test', { signal: ac.signal })`);
  const id = s.op().id;
  s.run(`ac.abort(new Error('stop'))`);
  await assert.rejects(s.run('p'), { message: 'stop' });
  s.complete(id, true, { status: 200, headers: [] }, 'late'); // ignored
  assert.equal(s.logs.length, 0);
});

test('fetch: AbortSignal.timeout aborts an in-flight request with TimeoutError', async () => {
  const s = sandbox();
  const p = s.run(`fetch('https://slow.test', { signal: AbortSignal.timeout(100) })`);
  assert.equal(s.Q.nextTimer(), 100);
  s.now += 100;
  s.Q.tick();
  await assert.rejects(p, { name: 'TimeoutError' });
});

// ---------------------------------------------------------------------------
test('TextEncoder: encode and encodeInto', () => {
  const s = sandbox();
  const te = new s.G.TextEncoder();
  assert.equal(te.encoding, 'utf-8');
  assert.deepEqual([...te.encode('a€😀')], [...Buffer.from('a€😀')]);
  assert.deepEqual([...te.encode('x\ud800y')], [0x78, 0xef, 0xbf, 0xbd, 0x79]);
  assert.deepEqual([...te.encode()], []);
  assert.equal(s.run('new TextEncoder().encode("x") instanceof Uint8Array'), true);
  const dst = s.u8(new Array(5).fill(0));
  assert.deepEqual(plain(te.encodeInto('a€😀', dst)), { read: 2, written: 4 });
  assert.deepEqual([...dst], [0x61, 0xe2, 0x82, 0xac, 0]);
  const big = s.u8(new Array(16).fill(0));
  assert.deepEqual(plain(te.encodeInto('a😀b', big)), { read: 4, written: 6 });
  assert.deepEqual(plain(te.encodeInto('😀', s.u8([0, 0, 0]))), { read: 0, written: 0 });
  assert.throws(() => te.encodeInto('x', []), { name: 'TypeError', message: /Uint8Array/ });
});

test('TextDecoder: labels, fatal, BOM, streaming', () => {
  const s = sandbox();
  const TD = s.G.TextDecoder;
  for (const l of ['utf-8', 'UTF8', ' unicode-1-1-utf-8 ', 'x-unicode20utf8']) assert.equal(new TD(l).encoding, 'utf-8');
  for (const l of ['latin1', 'utf-16le', 'nope']) assert.throws(() => new TD(l), { name: 'RangeError', message: /not supported/ });
  const d = new TD();
  assert.deepEqual([d.fatal, d.ignoreBOM], [false, false]);
  assert.equal(d.decode(s.u8([0xef, 0xbb, 0xbf, 0x68, 0x69])), 'hi');
  assert.equal(new TD('utf-8', { ignoreBOM: true }).decode(s.u8([0xef, 0xbb, 0xbf, 0x68])), '\ufeffh');
  assert.equal(d.decode(s.u8([0x61, 0xff, 0x62])), 'a\ufffdb');
  assert.equal(d.decode(), '');
  assert.equal(d.decode(new Uint8Array([104, 105]).buffer), 'hi');
  assert.equal(d.decode(new DataView(new Uint8Array([0, 104, 105]).buffer, 1)), 'hi');
  assert.throws(() => d.decode('str'), { name: 'TypeError', message: /ArrayBuffer/ });
  assert.throws(() => new TD('utf-8', { fatal: true }).decode(s.u8([0xc3])), { name: 'TypeError' });

  const bytes = [...Buffer.from('\ufeffa€😀z')];
  const sd = new TD();
  let out = '';
  for (const b of bytes) out += sd.decode(s.u8([b]), { stream: true });
  out += sd.decode();
  assert.equal(out, 'a€😀z');
  // A truncated sequence at the end of the stream becomes U+FFFD.
  assert.equal(sd.decode(s.u8([0x61, 0xe2, 0x82]), { stream: true }), 'a');
  assert.equal(sd.decode(), '\ufffd');
  // The BOM is only stripped at the start of a stream.
  assert.equal(sd.decode(s.u8([0xef, 0xbb]), { stream: true }), '');
  assert.equal(sd.decode(s.u8([0xbf, 0x41]), { stream: true }), 'A');
  assert.equal(sd.decode(s.u8([0xef, 0xbb, 0xbf])), '\ufeff');
});

// ---------------------------------------------------------------------------
test('structuredClone: supported types, cycles and shared references', () => {
  const s = sandbox();
  const r = s.run(`(() => {
    const shared = { n: 1 };
    const buf = new ArrayBuffer(8);
    const o = {
      prim: [1, 'a', true, null, undefined, 10n, -0, NaN],
      d: new Date(1234), re: /x+/gi, m: new Map([[shared, new Set([shared])]]), s: new Set([1]),
      u8: new Uint8Array(buf, 2, 3), u16: new Uint16Array(buf), dv: new DataView(buf, 1, 2), ab: buf,
      err: new RangeError('bad', { cause: shared }), custom: Object.assign(new Error('c'), { name: 'MyError' }),
      boxed: [new Number(3), new String('s'), new Boolean(false)], a: shared, b: shared,
      sparse: [1, , 3], ['__proto__']: null,
    };
    Object.defineProperty(o, '__proto__', { value: { evil: true }, enumerable: true });
    o.self = o;
    new Uint8Array(buf).set([1, 2, 3, 4, 5, 6, 7, 8]);
    const c = structuredClone(o);
    return {
      notSame: c !== o, self: c.self === c, shared: c.a === c.b && c.a !== shared, prim: c.prim.map(x => typeof x + ':' + String(x)), negZero: Object.is(c.prim[6], -0), nan: Number.isNaN(c.prim[7]),
      big: typeof c.prim[5], date: c.d instanceof Date && c.d.getTime(), re: c.re instanceof RegExp && String(c.re),
      mapKey: [...c.m.keys()][0] === c.a && [...c.m.values()][0].has(c.a), set: c.s.has(1),
      bufShared: c.u8.buffer === c.ab && c.u16.buffer === c.ab && c.dv.buffer === c.ab && c.ab !== buf,
      u8: [...c.u8], u8off: c.u8.byteOffset, u16: c.u16 instanceof Uint16Array, dv: c.dv.getUint8(0),
      err: c.err instanceof RangeError && c.err.message, cause: c.err.cause === c.a, stack: typeof c.err.stack,
      custom: c.custom.constructor === Error && c.custom.message,
      boxed: c.boxed.map(b => typeof b + ':' + b.valueOf()), sparse: 1 in c.sparse, protoKey: Object.getPrototypeOf(c) === Object.prototype && Object.hasOwn(c, '__proto__'),
    };
  })()`);
  assert.deepEqual(plain(r), {
    notSame: true, self: true, shared: true, prim: ['number:1', 'string:a', 'boolean:true', 'object:null', 'undefined:undefined', 'bigint:10', 'number:0', 'number:NaN'], negZero: true, nan: true,
    big: 'bigint', date: 1234, re: '/x+/gi', mapKey: true, set: true, bufShared: true, u8: [3, 4, 5], u8off: 2, u16: true, dv: 2,
    err: 'bad', cause: true, stack: 'string', custom: 'c', boxed: ['object:3', 'object:s', 'object:false'], sparse: false, protoKey: true,
  });
});

test('structuredClone: class instances become plain data; getters are read', () => {
  const s = sandbox();
  const r = s.run(`(() => { class P { constructor() { this.x = 1 } m() {} } const c = structuredClone(new P()); return [c instanceof P, Object.getPrototypeOf(c) === Object.prototype, c.x, structuredClone({ get g() { return 5 } }).g] })()`);
  assert.deepEqual(plain(r), [false, true, 1, 5]);
});

test('structuredClone: uncloneable values throw DataCloneError', () => {
  const s = sandbox();
  for (const expr of ['() => 1', '{ f() {} }', 'Symbol("s")', '[Symbol.iterator]', 'new Headers()', 'new Request("https://a.test")', 'new URL("https://a.test")',
    'Promise.resolve()', 'new WeakMap()', 'new AbortController()', '{ deep: [ { fn: function named() {} } ] }']) {
    assert.throws(() => s.run(`structuredClone(${expr})`), e => e.name === 'DataCloneError' && e.code === 25 && /could not be cloned/.test(e.message), expr);
  }
  assert.throws(() => s.run('structuredClone()'), { name: 'TypeError' });
  assert.throws(() => s.run('structuredClone(1, { transfer: [{}] })'), { name: 'DataCloneError' });
  const canTransfer = s.run('typeof ArrayBuffer.prototype.transfer === "function"');
  if (canTransfer) {
    assert.deepEqual(plain(s.run('(() => { const b = new Uint8Array([1, 2]).buffer; const c = structuredClone({ b }, { transfer: [b] }); return [b.byteLength, [...new Uint8Array(c.b)]] })()')), [0, [1, 2]]);
  } else {
    assert.throws(() => s.run('structuredClone(1, { transfer: [new ArrayBuffer(1)] })'), { name: 'DataCloneError', message: /not supported/ });
  }
  assert.equal(s.run('structuredClone(new DOMException("m", "AbortError")).name'), 'AbortError');
});

// ---------------------------------------------------------------------------
test('timers: ordering, arguments, clearing, intervals, errors', () => {
  const s = sandbox();
  assert.equal(s.Q.nextTimer(), -1);
  s.run(`globalThis.out = [];
    setTimeout((a, b) => out.push('t20:' + a + b), 20, 'x', 'y');
    setTimeout(() => out.push('t10a'), 10);
    setTimeout(() => out.push('t10b'), 10);
    setTimeout(() => out.push('neg'), -5);
    setTimeout(() => out.push('nan'), 'abc');
    const cancel = setTimeout(() => out.push('cancelled'), 5);
    clearTimeout(cancel);
    setTimeout(() => { throw new Error('cb failed') }, 1);
    setTimeout(() => out.push('after-error'), 1);
    globalThis.iv = setInterval(n => { out.push('iv' + n); if (out.filter(x => x.startsWith('iv')).length === 3) clearInterval(iv) }, 15, 'n');`);
  assert.equal(s.Q.nextTimer(), 0);
  s.Q.tick();
  assert.deepEqual(plain(s.G.out), ['neg', 'nan']);
  assert.equal(s.Q.nextTimer(), 1);
  s.now += 10;
  s.Q.tick();
  assert.deepEqual(plain(s.G.out), ['neg', 'nan', 'after-error', 't10a', 't10b']);
  assert.match(s.logs[0][1], /^Uncaught Error: cb failed/);
  assert.equal(s.logs[0][0], 3);
  s.now += 5; s.Q.tick();
  s.now += 5; s.Q.tick();
  s.now += 10; s.Q.tick();
  s.now += 15; s.Q.tick();
  s.now += 100; s.Q.tick();
  assert.deepEqual(plain(s.G.out), ['neg', 'nan', 'after-error', 't10a', 't10b', 'ivn', 't20:xy', 'ivn', 'ivn']);
  assert.equal(s.Q.nextTimer(), -1);
  assert.throws(() => s.run('setTimeout("code", 1)'), { name: 'TypeError', message: /callback must be a function/ });
  assert.equal(typeof s.run('setTimeout(() => {}, 1)'), 'number');
});

test('timers: nextTimer reports the remaining time and timers created by a callback wait for the next tick', () => {
  const s = sandbox();
  s.run(`globalThis.n = 0; setTimeout(() => { n++; setTimeout(() => n++, 0) }, 30)`);
  assert.equal(s.Q.nextTimer(), 30);
  s.now += 12.2;
  assert.equal(s.Q.nextTimer(), 18);
  s.now += 20;
  s.Q.tick();
  assert.equal(s.G.n, 1);
  assert.equal(s.Q.nextTimer(), 0);
  s.Q.tick();
  assert.equal(s.G.n, 2);
});

test('queueMicrotask, atob and btoa come from the engine', async () => {
  const s = sandbox();
  assert.equal(s.run('atob(btoa("hi"))'), 'hi');
  assert.throws(() => s.run('atob("a")'), { name: 'InvalidCharacterError' });
  assert.equal(await s.run('new Promise(r => queueMicrotask(() => r(1)))'), 1);
});

// ---------------------------------------------------------------------------
test('crypto: getRandomValues and randomUUID', () => {
  const s = sandbox();
  const a = s.run('new Uint32Array(4)');
  assert.equal(s.G.crypto.getRandomValues(a), a);
  for (const t of ['Int8Array', 'Uint8ClampedArray', 'BigInt64Array', 'BigUint64Array']) assert.doesNotThrow(() => s.run(`crypto.getRandomValues(new ${t}(2))`));
  for (const bad of ['new Float64Array(1)', 'new DataView(new ArrayBuffer(1))', '[1, 2]', 'new ArrayBuffer(2)']) {
    assert.throws(() => s.run(`crypto.getRandomValues(${bad})`), { name: 'TypeMismatchError' }, bad);
  }
  assert.doesNotThrow(() => s.run('crypto.getRandomValues(new Uint8Array(65536))'));
  assert.throws(() => s.run('crypto.getRandomValues(new Uint16Array(32769))'), { name: 'QuotaExceededError', message: /65536/ });
  const ids = new Set();
  for (let i = 0; i < 50; i++) {
    const id = s.run('crypto.randomUUID()');
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 50);
  assert.throws(() => s.run('new Crypto()'), { name: 'TypeError', message: 'Illegal constructor' });
});

test('crypto.subtle.digest', async () => {
  const s = sandbox();
  for (const [alg, node] of [['SHA-1', 'sha1'], ['SHA-256', 'sha256'], ['sha-384', 'sha384'], [{ name: 'SHA-512' }, 'sha512']]) {
    const out = await s.G.crypto.subtle.digest(alg, s.run('new TextEncoder().encode("abc")'));
    assert.equal(hex(out), nodeCrypto.createHash(node).update('abc').digest('hex'));
  }
  assert.equal(await s.run('crypto.subtle.digest("SHA-256", new Uint8Array(0)).then(b => b instanceof ArrayBuffer && b.byteLength)'), 32);
  assert.equal(hex(await s.G.crypto.subtle.digest('SHA-256', new Uint8Array([1, 2, 3, 4]).subarray(1, 3))), nodeCrypto.createHash('sha256').update(Buffer.from([2, 3])).digest('hex'));
  const bad = s.G.crypto.subtle.digest('MD5', new Uint8Array(1));
  assert.equal(bad instanceof s.G.Promise, true);
  await assert.rejects(bad, { name: 'NotSupportedError' });
  await assert.rejects(s.G.crypto.subtle.digest('SHA-256', 'string'), { name: 'TypeError' });
  await assert.rejects(s.G.crypto.subtle.digest({}, new Uint8Array(1)), { name: 'TypeError' });
});

test('crypto.subtle HMAC: importKey, sign, verify, exportKey', async () => {
  const s = sandbox();
  const subtle = s.G.crypto.subtle;
  const raw = Buffer.from('super secret key');
  const key = await subtle.importKey('raw', s.u8(raw), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
  assert.equal(key instanceof s.G.CryptoKey, true);
  assert.deepEqual(plain({ type: key.type, extractable: key.extractable, algorithm: key.algorithm, usages: key.usages }),
    { type: 'secret', extractable: true, algorithm: { name: 'HMAC', hash: { name: 'SHA-256' }, length: 128 }, usages: ['sign', 'verify'] });
  const data = s.u8(Buffer.from('message'));
  const sig = await subtle.sign('HMAC', key, data);
  assert.equal(hex(sig), nodeCrypto.createHmac('sha256', raw).update('message').digest('hex'));
  assert.equal(s.calls.at(-1).arg.key, raw.toString('base64'));
  assert.equal(await subtle.verify({ name: 'hmac' }, key, sig, data), true);
  const tampered = s.u8(Buffer.from(sig)); tampered[0] ^= 1;
  assert.equal(await subtle.verify('HMAC', key, tampered, data), false);
  assert.equal(await subtle.verify('HMAC', key, s.u8([1, 2]), data), false);
  assert.equal(hex(await subtle.exportKey('raw', key)), raw.toString('hex'));

  const k512 = await subtle.importKey('raw', s.u8(raw), { name: 'HMAC', hash: { name: 'SHA-512' } }, false, ['sign']);
  assert.equal(hex(await subtle.sign({ name: 'HMAC' }, k512, data)), nodeCrypto.createHmac('sha512', raw).update('message').digest('hex'));
  await assert.rejects(subtle.exportKey('raw', k512), { name: 'InvalidAccessError' });
  await assert.rejects(subtle.verify('HMAC', k512, sig, data), { name: 'InvalidAccessError' });
  await assert.rejects(subtle.sign('ECDSA', key, data), { name: 'InvalidAccessError' });
  await assert.rejects(subtle.sign('MD5', key, data), { name: 'NotSupportedError' });
  await assert.rejects(subtle.sign('HMAC', {}, data), { name: 'TypeError', message: /CryptoKey/ });
  const jwk = await nodeCrypto.webcrypto.subtle.exportKey('jwk', await nodeCrypto.webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']));
  assert.deepEqual(plain(await subtle.exportKey('jwk', key)), jwk);
});

test('crypto.subtle HMAC: importKey validation and unsupported operations', async () => {
  const s = sandbox();
  const subtle = s.G.crypto.subtle;
  const k = s.u8([1, 2, 3]);
  await assert.rejects(subtle.importKey('jwk', k, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), { name: 'DataError' });
  await assert.rejects(subtle.importKey('raw', k, { name: 'AES-GCM' }, false, ['encrypt']), { name: 'DataError' });
  await assert.rejects(subtle.importKey('raw', k, 'PBKDF2', true, ['deriveBits']), { name: 'SyntaxError' });
  await assert.rejects(subtle.importKey('raw', k, { name: 'HMAC' }, false, ['sign']), { name: 'TypeError', message: /hash/ });
  await assert.rejects(subtle.importKey('raw', k, { name: 'HMAC', hash: 'MD5' }, false, ['sign']), { name: 'NotSupportedError' });
  await assert.rejects(subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-1' }, false, ['encrypt']), { name: 'SyntaxError' });
  await assert.rejects(subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-1' }, false, []), { name: 'SyntaxError' });
  await assert.rejects(subtle.importKey('raw', s.u8([]), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']), { name: 'DataError' });
  await assert.rejects(subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-1', length: 32 }, false, ['sign']), { name: 'DataError' });
  assert.equal((await subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-1', length: 20 }, false, ['sign'])).algorithm.length, 20);
  for (const m of ['wrapKey', 'unwrapKey']) {
    const p = subtle[m]();
    assert.equal(p instanceof s.G.Promise, true, m);
    await assert.rejects(p, { name: 'NotSupportedError', message: new RegExp(`crypto\\.subtle\\.${m} is not supported`) });
  }
});

// ---------------------------------------------------------------------------
test('performance.now counts from the invocation start the host records', async () => {
  const s = sandbox();
  s.callStart = s.now;
  s.now += 50;
  assert.equal(s.run('performance.now()'), 50);
  s.callStart = s.now; // the host records the start of the next invocation
  s.Q.dispatch(0, meta(), null, s.Q.bind({ default: () => 1 }));
  s.now += 7;
  assert.equal(s.run('performance.now()'), 7);
  assert.equal(s.run('performance.timeOrigin'), 1700000000000);
});

test('AbortController and AbortSignal', () => {
  const s = sandbox();
  const r = s.run(`(() => {
    const out = [];
    const ac = new AbortController();
    ac.signal.onabort = e => out.push('onabort:' + e.type);
    ac.signal.addEventListener('abort', () => out.push('listener'), { once: true });
    ac.signal.addEventListener('abort', { handleEvent: e => out.push('object:' + (e.target === ac.signal)) });
    out.push(ac.signal.aborted);
    ac.abort(); ac.abort('again');
    out.push(ac.signal.aborted, ac.signal.reason.name, ac.signal.reason instanceof DOMException);
    try { ac.signal.throwIfAborted() } catch (e) { out.push('thrown:' + e.name) }
    const custom = AbortSignal.abort('why');
    out.push(custom.aborted, custom.reason);
    const a = new AbortController(), b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    b.abort('b-reason');
    out.push(any.aborted, any.reason, AbortSignal.any([custom]).reason);
    try { new AbortSignal() } catch (e) { out.push(e.message) }
    try { AbortSignal.timeout(-1) } catch (e) { out.push(e.name) }
    return out;
  })()`);
  assert.deepEqual(plain(r), [false, 'onabort:abort', 'listener', 'object:true', true, 'AbortError', true, 'thrown:AbortError', true, 'why', true, 'b-reason', 'why', 'Illegal constructor', 'TypeError']);
});

test('EventTarget and Event', () => {
  const s = sandbox();
  const r = s.run(`(() => {
    const out = [], t = new EventTarget();
    const f = e => out.push('f:' + e.type + ':' + (e.currentTarget === t));
    t.addEventListener('x', f); t.addEventListener('x', f);
    t.addEventListener('x', e => { e.preventDefault(); throw new Error('listener boom') });
    t.addEventListener('x', e => { out.push('stopper'); e.stopImmediatePropagation() });
    t.addEventListener('x', () => out.push('never'));
    const ac = new AbortController();
    t.addEventListener('y', () => out.push('y'), { signal: ac.signal });
    out.push(t.dispatchEvent(new Event('x', { cancelable: true })));
    out.push(t.dispatchEvent(new Event('x')));
    t.removeEventListener('x', f);
    ac.abort();
    t.dispatchEvent(new Event('y'));
    const e = new Event('z');
    out.push(e.bubbles, e.cancelable, e.defaultPrevented, e.target, typeof e.timeStamp, e.isTrusted);
    try { t.dispatchEvent({ type: 'x' }) } catch (err) { out.push(err.name) }
    return out;
  })()`);
  assert.deepEqual(plain(r), ['f:x:true', 'stopper', false, 'f:x:true', 'stopper', true, false, false, false, null, 'number', false, 'TypeError']);
  assert.match(s.logs[0][1], /^Uncaught Error: listener boom/);
});

// ---------------------------------------------------------------------------
test('bind: accepts a function or an object with handlers', () => {
  const s = sandbox();
  assert.doesNotThrow(() => s.Q.bind({ default: () => 1 }));
  assert.doesNotThrow(() => s.Q.bind({ default: { fetch() {} } }));
  for (const ns of [{}, { default: 1 }, { default: null }, { default: { other() {} } }, null]) {
    assert.throws(() => s.Q.bind(ns), { name: 'TypeError', message: /^the module must export default an object with handlers \(fetch, scheduled, event, run\) or a function, or \(service-worker syntax\) call addEventListener/ });
  }
});

test('dispatch run: input, env, ctx and the result', async () => {
  const s = sandbox();
  let seen;
  const desc = s.Q.bind({ default: { run(input, env, ctx) { seen = { self: this, input, env, ctx }; return { echo: input.n * 2 }; } } });
  const value = await s.Q.dispatch(0, meta({ input: { n: 21 } }), null, desc);
  assert.deepEqual(plain(value), { echo: 42 });
  assert.deepEqual(plain(seen.input), { n: 21 });
  assert.equal(seen.env.GREETING, 'hi');
  assert.equal(typeof seen.env.KV.get, 'function');
  assert.equal(typeof seen.env.EVENTS.publish, 'function');
  assert.deepEqual(plain(seen.ctx), { invocationId: 'inv-1', tenant: 'acme', functionName: 'hello', version: 7, trigger: 'http', deadlineMs: 5000 });
  for (const m of ['waitUntil', 'progress', 'passThroughOnException']) assert.equal(typeof seen.ctx[m], 'function');
  assert.equal(seen.ctx.passThroughOnException(), undefined);
  const [m, body] = s.Q.finish(0, value);
  assert.equal(m, '{"echo":42}');
  assert.equal(body, null);
  // env is fresh per invocation.
  seen.env.GREETING = 'changed'; seen.env.extra = 1;
  await s.Q.dispatch(0, meta({ input: { n: 1 } }), null, desc);
  assert.deepEqual([seen.env.GREETING, seen.env.extra], ['hi', undefined]);
});

test('dispatch: a function default export handles every kind', async () => {
  const s = sandbox();
  const calls = [];
  const desc = s.Q.bind({ default: (arg, env, ctx) => { calls.push(arg); return ctx.trigger; } });
  assert.equal(await s.Q.dispatch(0, meta({ input: 'x' }), null, desc), 'http');
  await s.Q.dispatch(2, meta({ event: { cron: '*/5 * * * *', scheduled_time: 1700000000000, timezone: 'UTC' } }), null, desc);
  await s.Q.dispatch(3, meta({ event: { id: 'e1', type: 'user.created', payload: { some_key: 1 }, attempt: 2, published_at: '2024-01-01T00:00:00Z' } }), null, desc);
  await s.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://me.test/', headers: [] } }), null, desc);
  assert.equal(calls[0], 'x');
  assert.deepEqual(plain(calls[1]), { cron: '*/5 * * * *', scheduledTime: 1700000000000, timezone: 'UTC' });
  assert.deepEqual(plain(calls[2]), { id: 'e1', type: 'user.created', payload: { some_key: 1 }, attempt: 2, publishedAt: '2024-01-01T00:00:00Z' });
  assert.equal(calls[3] instanceof s.G.Request, true);
});

test('dispatch fetch: builds the Request; finish serialises the Response', async () => {
  const s = sandbox();
  const desc = s.Q.bind({ default: { async fetch(req, env) {
    assert.throws(() => req.headers.set('x', 'y'), { name: 'TypeError' });
    const body = await req.text();
    return new s.G.Response(`${req.method} ${req.url} ${req.headers.get('x-in')} ${body} ${env.GREETING}`, { status: 201, headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] });
  } } });
  const req = { method: 'POST', url: 'https://me.test/path?q=1', headers: [['X-In', 'v'], ['content-type', 'text/plain']] };
  const res = await s.Q.dispatch(1, meta({ request: req }), s.u8(Buffer.from('payload')), desc);
  const [m, body] = s.Q.finish(1, res);
  assert.deepEqual(JSON.parse(m), { status: 201, statusText: '', headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['content-type', 'text/plain;charset=UTF-8']] });
  assert.equal(Buffer.from(body).toString(), 'POST https://me.test/path?q=1 v payload hi');
  assert.equal(s.Q.finish(1, new s.G.Response(null, { status: 204 }))[1], null);
  const empty = s.Q.finish(1, new s.G.Response(''))[1];
  assert.equal(empty.length, 0);
  // A GET request never carries a body.
  const d2 = s.Q.bind({ default: { fetch: r => new s.G.Response(String(r.body)) } });
  const r2 = await s.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://me.test/', headers: [] } }), s.u8([]), d2);
  assert.equal(await r2.text(), 'null');
});

test("the shim's fetch form: headers parsed on first read; response() in parts", async () => {
  const s = sandbox();
  const seen = [];
  const desc = s.Q.bind({ default: { fetch(req) { seen.push(req); return new s.G.Response('ok') } } });
  const env = {}, ctx = Object.create(s.Q.ctxProto);
  const raw = JSON.stringify([['x-in', 'v'], ['accept', '*/*']]);
  const res = s.Q.invoke(1, ['POST', 'https://me.test/a', raw], s.u8(Buffer.from('hi')), desc, env, ctx);
  const req = seen[0];
  assert.equal(req.method, 'POST');
  assert.equal(req.url, 'https://me.test/a');
  assert.equal(await req.clone().text(), 'hi');
  assert.equal(req.headers.get('x-in'), 'v');
  assert.equal(req.headers, req.headers); // parsed once, then kept
  assert.throws(() => req.headers.set('x', 'y'), { name: 'TypeError' });
  // No headers given: the default content type alone, until someone reads them.
  assert.deepEqual(plain(s.Q.response(res).slice(0, 3)), [200, '', 'text/plain;charset=UTF-8']);
  assert.deepEqual(plain(s.Q.response(new s.G.Response(s.u8([1]))).slice(0, 3)), [200, '', '']);
  const r2 = new s.G.Response('x');
  r2.headers.set('x-a', '1');
  assert.deepEqual(plain(s.Q.response(r2)[2]), [['content-type', 'text/plain;charset=UTF-8'], ['x-a', '1']]);
  assert.deepEqual(plain(s.Q.response(s.G.Response.json({ a: 1 })).slice(0, 3)), [200, '', 'application/json']);
  const r3 = s.G.Response.json({ a: 1 }, { headers: { 'content-type': 'application/x' } });
  assert.equal(r3.headers.get('content-type'), 'application/x');
  assert.deepEqual(JSON.parse(s.Q.finish(1, new s.G.Response(null, { status: 204, statusText: 'No "content"' }))[0]),
    { status: 204, statusText: 'No "content"', headers: [] });
});

test('finish: rejects invalid results with clear errors', async () => {
  const s = sandbox();
  assert.throws(() => s.Q.finish(1, 'text'), { name: 'TypeError', message: 'fetch handler must return a Response, got string' });
  assert.throws(() => s.Q.finish(1, undefined), { message: 'fetch handler must return a Response, got undefined' });
  assert.throws(() => s.Q.finish(1, null), { message: 'fetch handler must return a Response, got null' });
  assert.throws(() => s.Q.finish(1, {}), { message: 'fetch handler must return a Response, got Object' });
  assert.throws(() => s.Q.finish(1, s.G.Response.error()), { message: /Response\.error/ });
  const used = new s.G.Response('x');
  await used.text();
  assert.throws(() => s.Q.finish(1, used), { message: /already been used/ });
  assert.deepEqual(plain(s.Q.finish(0, undefined)), ['null', null]);
  assert.deepEqual(plain(s.Q.finish(2, 'str')), ['"str"', null]);
  assert.deepEqual(plain(s.Q.finish(3, [1, { a: null }])), ['[1,{"a":null}]', null]);
  assert.throws(() => s.Q.finish(0, s.run('({ n: 1n })')), { name: 'TypeError', message: /^handler result is not JSON-serializable: .*BigInt/i });
  assert.throws(() => s.Q.finish(0, s.run('(() => { const c = {}; c.c = c; return c })()')), { name: 'TypeError', message: /^handler result is not JSON-serializable: .*circular/i });
  assert.throws(() => s.Q.finish(0, () => 1), { name: 'TypeError', message: 'handler result is not JSON-serializable: function' });
});

// dispatch throws synchronously or returns a plain value for synchronous
// handlers (the shim accepts both); async wrappers make either a rejection.
test('dispatch: missing handler, throwing handler, bad meta', async () => {
  const s = sandbox();
  const desc = s.Q.bind({ default: { fetch() {} } });
  await assert.rejects(async () => s.Q.dispatch(2, meta(), null, desc), { name: 'TypeError', message: 'function has no "scheduled" handler' });
  await assert.rejects(async () => s.Q.dispatch(0, meta(), null, desc), { message: 'function has no "run" handler' });
  await assert.rejects(async () => s.Q.dispatch(3, meta(), null, desc), { message: 'function has no "event" handler' });
  const thrower = s.Q.bind({ default: { run() { throw new RangeError('user bug'); } } });
  await assert.rejects(async () => s.Q.dispatch(0, meta(), null, thrower), { name: 'RangeError', message: 'user bug' });
  await assert.rejects(async () => s.Q.dispatch(0, '{not json', null, thrower), { name: 'SyntaxError' });
  await assert.rejects(async () => s.Q.dispatch(9, meta(), null, thrower), { message: /unknown invocation kind/ });
});

test('dispatch: resolves only after waitUntil promises settle; their rejections are logged', async () => {
  const s = sandbox();
  const desc = s.Q.bind({ default: { run(input, env, ctx) {
    ctx.waitUntil(new s.G.Promise(r => s.G.setTimeout(() => { ctx.waitUntil(s.G.Promise.reject(new Error('late failure'))); r(); }, 50)));
    ctx.waitUntil(s.G.Promise.reject(new Error('bg failure')));
    ctx.waitUntil('not a promise');
    return 'done';
  } } });
  let settled = false;
  const p = s.Q.dispatch(0, meta(), null, desc).then(v => { settled = true; return v; });
  await flush();
  assert.equal(settled, false);
  assert.equal(s.Q.nextTimer(), 50);
  s.now += 50;
  s.Q.tick();
  assert.equal(await p, 'done');
  const errs = s.logs.filter(l => l[0] === 3).map(l => l[1]);
  assert.equal(errs.length, 2);
  assert.match(errs[0], /^Uncaught \(in waitUntil\) Error: bg failure/);
  assert.match(errs[1], /late failure/);
});

test('dispatch: waitUntil also runs when the handler throws', async () => {
  const s = sandbox();
  let bg = false;
  const desc = s.Q.bind({ default: (i, e, ctx) => { ctx.waitUntil(s.G.Promise.resolve().then(() => { bg = true; })); throw new Error('x'); } });
  await assert.rejects(s.Q.dispatch(0, meta(), null, desc), { message: 'x' });
  assert.equal(bg, true);
});

test('dispatch: starts from clean per-invocation state', async () => {
  const s = sandbox();
  const desc = s.Q.bind({ default: { run(input) {
    if (input === 'first') {
      s.G.setTimeout(() => { throw new Error('stale timer ran'); }, 10);
      s.G.setInterval(() => {}, 5);
      return new s.G.Promise(() => s.G.fetch('https://a.test'));
    }
    return 'second';
  } } });
  s.Q.dispatch(0, meta({ input: 'first' }), null, desc);
  await flush();
  const staleOp = s.op().id;
  assert.equal(s.Q.nextTimer(), 5);
  assert.equal(await s.Q.dispatch(0, meta({ input: 'second' }), null, desc), 'second');
  assert.equal(s.Q.nextTimer(), -1);
  s.now += 100;
  s.Q.tick();
  s.complete(staleOp, true, { status: 200, headers: [] }, 'x'); // unknown now: ignored
  s.Q.complete(12345, true, '{}', null);
  assert.equal(s.logs.length, 0);
});

test('ctx.progress validates and calls the host synchronously', async () => {
  const s = sandbox();
  let ctx;
  await s.Q.dispatch(0, meta(), null, s.Q.bind({ default: (i, e, c) => { ctx = c; } }));
  ctx.progress(0);
  ctx.progress(55.5, 'half');
  assert.deepEqual(s.calls.filter(c => c.op === 'progress').map(c => c.arg), [{ percent: 0, message: null }, { percent: 55.5, message: 'half' }]);
  for (const bad of [-1, 101, NaN, '50', undefined]) assert.throws(() => ctx.progress(bad), { name: 'RangeError', message: /between 0 and 100/ });
});

// ---------------------------------------------------------------------------
test('errorInfo: describes anything that can be thrown', () => {
  const s = sandbox();
  const info = v => JSON.parse(s.Q.errorInfo(v, false));
  const e = info(s.run('(function userCode() { try { new URL("nope") } catch (e) { return e } })()'));
  assert.equal(e.name, 'TypeError');
  assert.equal(e.message, 'Invalid URL: nope');
  assert.match(e.stack, /userCode/);
  assert.doesNotMatch(e.stack, /quasm:prelude/);
  assert.deepEqual(info('x'), { name: 'Error', message: 'x', stack: '' });
  assert.deepEqual(info(42), { name: 'Error', message: '42', stack: '' });
  assert.deepEqual(info(undefined), { name: 'Error', message: 'undefined', stack: '' });
  assert.deepEqual(info(null), { name: 'Error', message: 'null', stack: '' });
  assert.deepEqual(info(s.run('Symbol("s")')), { name: 'Error', message: 'Symbol(s)', stack: '' });
  assert.deepEqual(info({ code: 1 }), { name: 'Error', message: '{ code: 1 }', stack: '' });
  assert.deepEqual(info({ name: 'Custom', message: 'msg' }), { name: 'Custom', message: 'msg', stack: '' });
  assert.deepEqual(info(function thrownFn() {}), { name: 'Error', message: '[Function: thrownFn]', stack: '' });
  assert.equal(info(s.run('new DOMException("m", "AbortError")')).name, 'AbortError');
  const hostile = s.run('new Proxy({}, { get() { throw new Error("trap") }, getPrototypeOf() { throw new Error("trap") }, ownKeys() { throw new Error("trap") } })');
  assert.doesNotThrow(() => JSON.parse(s.Q.errorInfo(hostile, false)));
  assert.deepEqual(JSON.parse(s.Q.errorInfo(s.run('new Error("deadline")'), true)).uncatchable, true);
  assert.equal('uncatchable' in info(new Error('x')), false);
});

test('complete: failure meta becomes the rejection message', async () => {
  const s = sandbox();
  let env;
  await s.Q.dispatch(0, meta(), null, s.Q.bind({ default: (i, e) => { env = e; } }));
  const g = env.KV.get('k');
  s.complete(s.op().id, false, 'kv backend unavailable', null);
  await assert.rejects(g, { name: 'Error', message: 'kv backend unavailable' });
});

// ---------------------------------------------------------------------------
async function envOf(s) {
  let env;
  await s.Q.dispatch(0, meta(), null, s.Q.bind({ default: (i, e) => { env = e; } }));
  return env;
}

test('KV.get: types and missing keys', async () => {
  const s = sandbox();
  const { KV } = await envOf(s);
  const cases = [[undefined, 'héllo'], ['text', 'héllo'], [{ type: 'json' }, { a: 1 }], ['arrayBuffer', null]];
  for (const [type, expected] of cases) {
    const p = KV.get('key', type);
    assert.deepEqual(s.op().arg, { key: 'key' });
    assert.equal(s.op().op, 'kv_get');
    s.complete(s.op().id, true, { found: true }, type?.type === 'json' ? '{"a":1}' : 'héllo');
    const v = await p;
    if (type === 'arrayBuffer') assert.equal(Buffer.from(v).toString(), 'héllo');
    else assert.deepEqual(plain(v), expected);
  }
  const miss = KV.get('nope', 'json');
  s.complete(s.op().id, true, { found: false }, null);
  assert.equal(await miss, null);
  await assert.rejects(KV.get('k', 'stream'), { name: 'TypeError', message: /streams are not available/ });
  await assert.rejects(KV.get('k', 'blob'), { name: 'TypeError', message: /unsupported type/ });
  await assert.rejects(KV.get(''), { name: 'TypeError', message: /non-empty/ });
  s.refuse = 'too many KV operations';
  await assert.rejects(KV.get('k'), { message: 'too many KV operations' });
});

test('KV.put, delete and list', async () => {
  const s = sandbox();
  const { KV } = await envOf(s);
  const p1 = KV.put('k', 'välue', { expirationTtl: 120 });
  assert.deepEqual([s.op().op, s.op().arg, s.op().bytes.toString()], ['kv_put', { key: 'k', expiration_ttl: 120 }, 'välue']);
  s.complete(s.op().id, true, {}, null);
  assert.equal(await p1, undefined);
  const p2 = KV.put('bin', new Uint8Array([9, 8, 7]).subarray(1));
  assert.deepEqual([s.op().arg, [...s.op().bytes]], [{ key: 'bin', expiration_ttl: null }, [8, 7]]);
  s.complete(s.op().id, true, {}, null);
  await p2;
  const p3 = KV.put('ab', new Uint8Array([1]).buffer, { expiration: Date.now() / 1000 + 300 });
  assert.ok(Math.abs(s.op().arg.expiration_ttl - 300) <= 1);
  s.complete(s.op().id, true, {}, null);
  await p3;
  await assert.rejects(KV.put('k', { a: 1 }), { name: 'TypeError', message: /string, ArrayBuffer or ArrayBufferView, got Object/ });
  await assert.rejects(KV.put('k', 'v', { expirationTtl: -5 }), { name: 'TypeError', message: /expirationTtl/ });
  await assert.rejects(KV.put('k', 'v', { expiration: 1 }), { name: 'TypeError', message: /expiration/ });
  await assert.rejects(KV.put('k', 'v', { metadata: {} }), { name: 'TypeError', message: /metadata/ });
  await assert.rejects(KV.put('k'), { name: 'TypeError', message: /2 arguments/ });

  const d = KV.delete('k');
  assert.deepEqual([s.op().op, s.op().arg], ['kv_delete', { key: 'k' }]);
  s.complete(s.op().id, true, {}, null);
  assert.equal(await d, undefined);

  const l1 = KV.list({ prefix: 'user:', limit: 2 });
  assert.deepEqual([s.op().op, s.op().arg], ['kv_list', { prefix: 'user:', limit: 2, cursor: null }]);
  s.complete(s.op().id, true, { keys: [{ name: 'user:1' }, { name: 'user:2' }], list_complete: false, cursor: 'c2' }, null);
  assert.deepEqual(plain(await l1), { keys: [{ name: 'user:1' }, { name: 'user:2' }], list_complete: false, cursor: 'c2' });
  const l2 = KV.list({ cursor: 'c2' });
  assert.deepEqual(s.op().arg, { prefix: null, limit: null, cursor: 'c2' });
  s.complete(s.op().id, true, { keys: [{ name: 'user:3' }], list_complete: true, cursor: null }, null);
  assert.deepEqual(plain(await l2), { keys: [{ name: 'user:3' }], list_complete: true });
  const l3 = KV.list();
  assert.deepEqual(s.op().arg, { prefix: null, limit: null, cursor: null });
  s.complete(s.op().id, true, { keys: [], list_complete: true, cursor: null }, null);
  await l3;
  await assert.rejects(KV.list({ limit: 0 }), { name: 'TypeError', message: /limit/ });
});

test('EVENTS.publish', async () => {
  const s = sandbox();
  const { EVENTS } = await envOf(s);
  const p = EVENTS.publish('order.paid', { id: 7 });
  assert.deepEqual([s.op().op, s.op().arg], ['events_publish', { type: 'order.paid', payload: { id: 7 } }]);
  s.complete(s.op().id, true, { id: 'evt_1' }, null);
  assert.deepEqual(plain(await p), { id: 'evt_1' });
  const p2 = EVENTS.publish('ping');
  assert.deepEqual(s.op().arg, { type: 'ping', payload: null });
  s.complete(s.op().id, false, 'event bus unavailable', null);
  await assert.rejects(p2, { message: 'event bus unavailable' });
  await assert.rejects(EVENTS.publish(''), { name: 'TypeError', message: /non-empty string/ });
  await assert.rejects(EVENTS.publish('t', 1n), { name: 'TypeError', message: /not JSON-serializable/ });
  await assert.rejects(EVENTS.publish('t', () => 1), { name: 'TypeError', message: /not JSON-serializable: function/ });
});

// ---------------------------------------------------------------------------
test('service-worker syntax: fetch listeners, respondWith, waitUntil, bindings as globals', async () => {
  const s = sandbox();
  s.run(`addEventListener('fetch', e => {
    if (new URL(e.request.url).pathname === '/skip') return;
    e.waitUntil(Promise.resolve().then(() => console.log('later')));
    e.respondWith(Promise.resolve(new Response('hi ' + GREETING + ' ' + e.request.method)));
  });
  addEventListener('fetch', e => e.respondWith(new Response('second')));
  addEventListener('unhandledrejection', () => {});`);
  const desc = s.Q.bind({});
  const req = { request: { method: 'POST', url: 'https://x.test/a', headers: [] } };
  const r = await s.Q.dispatch(1, meta(req), s.u8(Buffer.from('b')), desc);
  assert.equal(await r.text(), 'hi hi POST');
  assert.equal(s.logText(), 'later');
  const r2 = await s.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://x.test/skip', headers: [] } }), null, desc);
  assert.equal(await r2.text(), 'second');
  assert.throws(() => s.Q.dispatch(3, meta({ event: {} }), null, desc), { name: 'TypeError', message: /no "event" handler \(no addEventListener\("event"/ });
  // A default export wins over listeners.
  assert.equal(s.Q.bind({ default: { fetch() {} } }).sw, undefined);
});

test('service-worker syntax: errors and the scheduled event', async () => {
  const s = sandbox();
  s.run(`addEventListener('fetch', e => { if (e.request.url.endsWith('/throw')) throw new RangeError('bad'); });
  addEventListener('scheduled', e => { console.log(e.type, e.cron, e.scheduledTime, typeof e.waitUntil, e instanceof Event); e.waitUntil(Promise.resolve(1)); });`);
  const desc = s.Q.bind({});
  assert.throws(() => s.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://x.test/', headers: [] } }), null, desc),
    { name: 'TypeError', message: /no "fetch" listener called event\.respondWith\(\)/ });
  assert.throws(() => s.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://x.test/throw', headers: [] } }), null, desc), { name: 'RangeError' });
  assert.equal(await s.Q.dispatch(2, meta({ event: { cron: '* * * * *', scheduled_time: 1700000000000 } }), null, desc), undefined);
  assert.equal(s.logText(), 'scheduled * * * * * 1700000000000 function true');
  // respondWith twice, or after the listener returned, is an InvalidStateError.
  const s2 = sandbox();
  s2.run(`let saved; addEventListener('fetch', e => { saved = e; e.respondWith(new Response('a')); try { e.respondWith(new Response('b')); } catch (x) { console.log(x.name); } });
  globalThis.late = () => { try { saved.respondWith(new Response('c')); } catch (x) { return x.name; } };`);
  await s2.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://x.test/', headers: [] } }), null, s2.Q.bind({}));
  assert.equal(s2.logText(), 'InvalidStateError');
  assert.equal(s2.run('late()'), 'InvalidStateError');
  assert.throws(() => sandbox().Q.bind({}), { name: 'TypeError', message: /addEventListener/ });
});

test('node: modules: buffer resolves, others name the module', () => {
  const s = sandbox();
  for (const spec of ['node:buffer', 'buffer']) {
    const m = s.Q.nodeModule(spec);
    assert.deepEqual(Object.keys(m).sort(), ['Blob', 'Buffer', 'File', 'atob', 'btoa', 'constants', 'default', 'kMaxLength']);
    assert.equal(m.default.Buffer, m.Buffer);
    assert.equal(m.Blob, s.G.Blob);
  }
  assert.throws(() => s.Q.nodeModule('node:fs'), { message: /^Cannot find module 'node:fs': Quasm provides node:buffer only/ });
  assert.throws(() => s.Q.nodeModule('lodash'), { message: /^Cannot find module 'lodash': a Quasm function is one ES module/ });
});

test('Buffer: matches Node for the nodejs_compat subset', () => {
  const s = sandbox();
  const B = s.Q.nodeModule('node:buffer').Buffer;
  const same = (b, n) => assert.deepEqual([...b], [...n]);
  for (const [str, e] of [['héllo wörld', 'utf8'], ['aGk/Pz8+', 'base64'], ['aGk_Pz8-', 'base64url'], ['a G\nk=junk', 'base64'], ['00ff10zz', 'hex'], ['abc', 'hex'], ['ÿé', 'latin1'], ['hi', 'ascii'], ['x', undefined]]) {
    same(B.from(str, e), Buffer.from(str, e));
    assert.equal(B.byteLength(str, e), Buffer.byteLength(str, e), `${str} ${e}`);
  }
  const bytes = [0, 1, 127, 128, 200, 255, 104, 195, 169];
  const b = B.from(bytes), n = Buffer.from(bytes);
  for (const e of ['hex', 'base64', 'base64url', 'latin1', 'ascii', 'utf8', 'utf-8', 'binary']) assert.equal(b.toString(e), n.toString(e), e);
  assert.equal(b.toString('hex', 1, 3), n.toString('hex', 1, 3));
  assert.equal(b instanceof s.G.Uint8Array, true);
  assert.equal(B.isBuffer(b), true);
  assert.equal(B.isBuffer(new s.G.Uint8Array(1)), false);
  same(B.concat([B.from('ab'), s.u8([99])]), Buffer.concat([Buffer.from('ab'), Buffer.from([99])]));
  same(B.concat([B.from('abc')], 5), Buffer.concat([Buffer.from('abc')], 5));
  same(B.concat([B.from('abc')], 2), Buffer.concat([Buffer.from('abc')], 2));
  assert.equal(B.compare(B.from('a'), B.from('b')), Buffer.compare(Buffer.from('a'), Buffer.from('b')));
  assert.equal(B.from('abc').compare(B.from('ab')), 1);
  assert.equal(B.from('abc').equals(B.from('abc')), true);
  assert.equal(B.from('abc').equals(s.u8([97, 98])), false);
  assert.throws(() => B.from('a').equals('a'), { name: 'TypeError' });
  const shared = B.from('hello'), sl = shared.slice(1, 3);
  sl[0] = 69;
  assert.equal(shared.toString(), 'hEllo'); // slice shares memory, as in Node
  same(B.alloc(4, 'ab'), Buffer.alloc(4, 'ab'));
  same(B.alloc(3), Buffer.alloc(3));
  assert.equal(B.from('hello world').indexOf('o w'), 4);
  assert.equal(B.from('hello').includes('z'), false);
  assert.deepEqual(plain(B.from([1, 2]).toJSON()), { type: 'Buffer', data: [1, 2] });
  same(B.from({ type: 'Buffer', data: [5, 6] }), [5, 6]);
  const ab = new s.G.Uint8Array([1, 2, 3, 4]).buffer;
  same(B.from(ab, 1, 2), [2, 3]);
  assert.throws(() => B.from('x', 'utf16le'), { name: 'TypeError', message: /Unknown encoding: utf16le/ });
  assert.throws(() => B.from(5), { name: 'TypeError', message: /first argument must be/ });
  assert.throws(() => B.alloc(-1), { name: 'RangeError' });
  assert.equal(B.isEncoding('HEX'), true);
  assert.equal(B.isEncoding('utf16le'), false);
});

test('Blob and File behave as in Node', async () => {
  const s = sandbox();
  const b = s.run(`new Blob(['abc', new Uint8Array([100]), new Blob(['ef'])], { type: 'Text/Plain' })`);
  const n = new Blob(['abc', new Uint8Array([100]), new Blob(['ef'])], { type: 'Text/Plain' });
  assert.deepEqual([b.size, b.type], [n.size, n.type]);
  assert.equal(await b.text(), await n.text());
  assert.equal(await b.slice(1, -1).text(), await n.slice(1, -1).text());
  assert.equal(await b.slice(-2).text(), await n.slice(-2).text());
  assert.equal(b.slice(0, 1, 'X/Y').type, n.slice(0, 1, 'X/Y').type);
  assert.equal(s.run(`new Blob([], { type: 'a\\u0100' }).type`), '');
  assert.equal(hex(await b.arrayBuffer()), hex(await n.arrayBuffer()));
  assert.equal(Object.prototype.toString.call(b), '[object Blob]');
  assert.throws(() => s.run('new Blob("abc")'), { name: 'TypeError', message: /sequence/ });
  const f = s.run(`new File(['a'], 'n.txt', { lastModified: 5, type: 'text/plain' })`);
  assert.deepEqual([f.name, f.lastModified, f.type, f.size, f instanceof s.G.Blob], ['n.txt', 5, 'text/plain', 1, true]);
  assert.throws(() => s.run(`new File(['a'])`), { name: 'TypeError', message: /2 arguments required/ });
  const rd = await b.stream().getReader().read();
  assert.equal(Buffer.from(rd.value).toString(), 'abcdef');
});

test('FormData: methods, and bodies in both directions', async () => {
  const s = sandbox();
  const fd = s.run(`const fd = new FormData(); fd.append('a', 'x\\ny"z'); fd.append('f"\\n', new Blob(['hello'], { type: 'text/plain' }), 'a"b.txt');
    fd.append('g', new Blob([new Uint8Array([1, 2])])); fd.append('a', 2); fd`);
  assert.deepEqual(plain(s.run('fd.getAll("a")')), ['x\ny"z', '2']);
  assert.equal(s.run('fd.get("g").name'), 'blob');
  assert.equal(s.run('fd.get("nope")'), null);
  s.run('fd.set("a", "only")');
  assert.deepEqual(plain(s.run('[...fd.keys()]')), ['a', 'f"\n', 'g']);
  assert.throws(() => s.run(`fd.append('x', 'y', 'z')`), { name: 'TypeError', message: /must be a Blob when a filename is given/ });
  assert.throws(() => s.run('new FormData(1)'), { name: 'TypeError' });
  const r = new s.G.Response(fd);
  const ct = r.headers.get('content-type');
  assert.match(ct, /^multipart\/form-data; boundary=----formdata-undici-0\d{11}$/);
  const boundary = ct.split('boundary=')[1];
  // The same bytes Node's undici writes for the same form.
  const nfd = new FormData();
  nfd.append('a', 'only'); nfd.append('f"\n', new Blob(['hello'], { type: 'text/plain' }), 'a"b.txt'); nfd.append('g', new Blob([new Uint8Array([1, 2])]));
  const nr = new Response(nfd), nb = nr.headers.get('content-type').split('boundary=')[1];
  assert.equal(await r.clone().text(), (await nr.text()).replaceAll(nb, boundary));
  // And Node parses what we wrote.
  const parsed = await new Response(await r.clone().arrayBuffer(), { headers: { 'content-type': ct } }).formData();
  assert.deepEqual([...parsed.keys()], ['a', 'f"\r\n', 'g']);
  const back = await r.formData();
  const entries = [...back].map(([k, v]) => [k, typeof v === 'string' ? v : [v.name, v.type, v.size]]);
  assert.deepEqual(entries, [['a', 'only'], ['f%22%0D%0A', ['a%22b.txt', 'text/plain', 5]], ['g', ['blob', 'application/octet-stream', 2]]]);
});

test('Body.formData parses multipart and urlencoded like Node; blob()', async () => {
  const s = sandbox();
  const m = '--XX\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n\r\nABC\r\n--XX\r\nContent-Disposition: form-data; name="t"\r\nContent-Type: text/plain\r\n\r\nhé\r\n--XX--\r\n';
  const headers = { 'content-type': 'multipart/form-data; boundary="XX"' };
  const ours = await new s.G.Response(m, { headers }).formData(), node = await new Response(m, { headers }).formData();
  const view = fd => [...fd].map(([k, v]) => [k, typeof v === 'string' ? v : [v.name, v.type, v.size]]);
  assert.deepEqual(view(ours), view(node));
  assert.equal(await ours.get('f').text(), 'ABC');
  const q = { headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  assert.deepEqual(view(await new s.G.Response('a=1&b=%20x+y&a=2', q).formData()), view(await new Response('a=1&b=%20x+y&a=2', q).formData()));
  const req = new s.G.Request('http://x/', { method: 'POST', body: new s.G.URLSearchParams('q=1') });
  assert.deepEqual(view(await req.formData()), [['q', '1']]);
  await assert.rejects(new s.G.Response('x').formData(), { name: 'TypeError', message: 'Content-Type was not one of "multipart/form-data" or "application/x-www-form-urlencoded".' });
  await assert.rejects(new s.G.Response('--b\r\nbad', { headers: { 'content-type': 'multipart/form-data; boundary=b' } }).formData(), { name: 'TypeError', message: /Failed to parse body as FormData/ });
  const bl = await new s.G.Response('x').blob();
  assert.deepEqual([bl.type, bl.size], ['text/plain;charset=utf-8', 1]);
  const bb = new s.G.Response(s.run(`new Blob(['zz'], { type: 'Text/HTML' })`));
  assert.equal(bb.headers.get('content-type'), 'text/html');
  assert.equal(await bb.text(), 'zz');
});

test('streams: ReadableStream reading, iteration, tee, cancel', async () => {
  const s = sandbox();
  const out = await s.run(`(async () => {
    const log = [];
    const rs = new ReadableStream({ start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); } });
    const r = rs.getReader();
    log.push(rs.locked, JSON.stringify(await r.read()), JSON.stringify(await r.read()), JSON.stringify(await r.read()));
    r.releaseLock();
    let n = 0;
    const pulled = new ReadableStream({ pull(c) { n < 3 ? c.enqueue(n++) : c.close(); } });
    const seen = [];
    for await (const x of pulled) seen.push(x);
    log.push(seen.join());
    const [t1, t2] = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } }).tee();
    const all = async s => { const a = []; for await (const x of s) a.push(x); return a.join(); };
    log.push(await all(t1), await all(t2));
    let reason;
    const canc = new ReadableStream({ cancel(r) { reason = r; } });
    await canc.cancel('why');
    log.push(reason);
    const err = new ReadableStream({ start(c) { c.error(new TypeError('boom')); } });
    try { await err.getReader().read(); } catch (e) { log.push(e.message); }
    try { rs.getReader(); rs.getReader(); } catch (e) { log.push(e.name); }
    const from = ReadableStream.from(['x', Promise.resolve('y')]);
    log.push(await all(from));
    const early = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); } });
    for await (const x of early) { log.push('first ' + x); break; }
    log.push(early.locked);
    return log;
  })()`);
  assert.deepEqual(plain(out), [true, '{"value":"a","done":false}', '{"value":"b","done":false}', '{"done":true}', '0,1,2', '1,2', '1,2', 'why', 'boom', 'TypeError', 'x,y', 'first 1', false]);
});

test('streams: WritableStream, TransformStream, pipes and text streams', async () => {
  const s = sandbox();
  const out = await s.run(`(async () => {
    const log = [], chunks = [];
    const ws = new WritableStream({ write(c) { chunks.push(c); }, close() { log.push('closed'); } });
    const w = ws.getWriter();
    await w.ready;
    await w.write('a'); await w.write('b'); await w.close();
    log.push(chunks.join());
    const up = new TransformStream({ transform(c, ctl) { ctl.enqueue(c.toUpperCase()); }, flush(ctl) { ctl.enqueue('!'); } });
    const src = new ReadableStream({ start(c) { c.enqueue('x'); c.enqueue('y'); c.close(); } });
    const got = [];
    for await (const x of src.pipeThrough(up)) got.push(x);
    log.push(got.join(''));
    const sink = [];
    await new ReadableStream({ start(c) { c.enqueue(1); c.close(); } }).pipeTo(new WritableStream({ write(c) { sink.push(c); } }));
    log.push(sink.join());
    const bad = new WritableStream({ write() { throw new RangeError('nope'); } });
    try { await new ReadableStream({ start(c) { c.enqueue(1); } }).pipeTo(bad); } catch (e) { log.push(e.name); }
    const text = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0xe2, 0x82])); c.enqueue(new Uint8Array([0xac, 0x41])); c.close(); } })
      .pipeThrough(new TextDecoderStream());
    let t = ''; for await (const x of text) t += x;
    log.push(t);
    const bytes = new ReadableStream({ start(c) { c.enqueue('hé'); c.close(); } }).pipeThrough(new TextEncoderStream());
    const rd = await bytes.getReader().read();
    log.push(Array.from(rd.value).join());
    const ac = new AbortController();
    const never = new ReadableStream({});
    const p = never.pipeTo(new WritableStream(), { signal: ac.signal });
    ac.abort('stop');
    try { await p; } catch (e) { log.push('aborted ' + e); }
    const q = new CountQueuingStrategy({ highWaterMark: 2 });
    log.push(q.highWaterMark, q.size(), new ByteLengthQueuingStrategy({ highWaterMark: 8 }).size(new Uint8Array(3)));
    return log;
  })()`);
  assert.deepEqual(plain(out), ['closed', 'a,b', 'XY!', '1', 'RangeError', '€A', '104,195,169', 'aborted stop', 2, 1, 3]);
});

test('streams as bodies: new Response(stream), request.body, drained before the host sees them', async () => {
  const s = sandbox();
  const r = s.run(`new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('str')); c.enqueue(new Uint8Array([101, 97, 109])); c.close(); } }))`);
  assert.equal(r.headers.get('content-type'), null);
  assert.equal(await r.text(), 'stream');
  await assert.rejects(s.run(`new Response(new ReadableStream({ start(c) { c.enqueue('text'); c.close(); } })).text()`), { name: 'TypeError', message: /Uint8Array chunks, got string/ });
  // A fetch handler returning a streamed body: invoke drains it, response() gets bytes.
  const desc = s.Q.bind({ default: { fetch: s.run(`req => { const { readable, writable } = new TransformStream();
    const w = writable.getWriter(); w.write(new TextEncoder().encode('he')); w.write(new TextEncoder().encode('llo')); w.close();
    return new Response(readable, { headers: { 'content-type': 'text/event-stream' } }); }`) } });
  const res = await s.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://x.test/', headers: [] } }), null, desc);
  const [status, , headers, body] = s.Q.response(res);
  assert.deepEqual([status, plain(headers), Buffer.from(body).toString()], [200, [['content-type', 'text/event-stream']], 'hello']);
  // Incoming request bodies are streams too; a Request can carry one to fetch.
  const echo = s.Q.bind({ default: { fetch: s.run(`async req => { let n = 0; for await (const c of req.body) n += c.length; return new Response(String(n)); }`) } });
  const e = await s.Q.dispatch(1, meta({ request: { method: 'POST', url: 'https://x.test/', headers: [] } }), s.u8(Buffer.from('12345')), echo);
  assert.equal(await e.text(), '5');
  s.run(`fetch('https://api.test/up', { method: 'POST', body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1, 2])); c.close(); } }) })`);
  await flush();
  assert.deepEqual([s.op().op, [...s.op().bytes]], ['fetch', [1, 2]]);
});

test('streamed responses: head first, then each chunk as written; a client that goes stops the source', async () => {
  const s = sandbox();
  s.streaming = true;
  const sse = s.Q.bind({ default: { fetch: s.run(`req => {
    let n = 0;
    const body = new ReadableStream({
      pull(c) { n++; if (n > 3) { globalThis.closed = true; return c.close(); } return new Promise(r => setTimeout(r, 1)).then(() => c.enqueue(new TextEncoder().encode('data: ' + n + '\\n\\n'))); },
      cancel() { globalThis.cancelled = true; },
    });
    return new Response(body, { status: 201, headers: { 'content-type': 'text/event-stream', 'x-a': 'b' } }); }`) } });
  const run = s.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://x.test/', headers: [] } }), null, sse);
  for (let i = 0; i < 10; i++) { await flush(); s.now += 5; s.Q.tick?.(); }
  const res = await run;
  const start = s.calls.find(c => c.op === 'response.start');
  assert.deepEqual(plain(start.arg), { status: 201, statusText: '', headers: [['content-type', 'text/event-stream'], ['x-a', 'b']] });
  assert.deepEqual(s.chunks, ['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n']);
  assert.equal(s.G.closed, true);
  // The handler's Response comes back with an empty body: it went out already.
  const [status, , , body] = s.Q.response(res);
  assert.deepEqual([status, body?.length ?? 0], [201, 0]);

  // The client goes after one chunk: the source is cancelled, the call ends quietly.
  const s2 = sandbox();
  s2.streaming = true; s2.clientGoneAfter = 1;
  const endless = s2.Q.bind({ default: { fetch: s2.run(`() => new Response(new ReadableStream({
    pull(c) { c.enqueue(new Uint8Array([104, 105])); }, cancel() { globalThis.cancelled = true; } }))`) } });
  const r2 = await s2.Q.dispatch(1, meta({ request: { method: 'GET', url: 'https://x.test/', headers: [] } }), null, endless);
  assert.deepEqual([s2.chunks, s2.G.cancelled, s2.Q.response(r2)[0]], [['hi'], true, 200]);
});

test('crypto.subtle: keys, signatures, ciphers and derivation agree with Node', async () => {
  const s = sandbox();
  const q = s.G.crypto.subtle, n = nodeCrypto.webcrypto.subtle;
  const data = s.u8(Buffer.from('payload'));
  // ECDSA P-256 (ES256) and Ed25519: sign here, verify in Node, and back.
  for (const [alg, gen, sig] of [[{ name: 'ECDSA', namedCurve: 'P-256' }, ['sign', 'verify'], { name: 'ECDSA', hash: 'SHA-256' }], [{ name: 'Ed25519' }, ['sign', 'verify'], { name: 'Ed25519' }]]) {
    const k = await q.generateKey(alg, true, gen);
    assert.deepEqual(plain([k.publicKey.type, k.privateKey.type, k.publicKey.usages, k.privateKey.usages, k.publicKey.extractable]), ['public', 'private', ['verify'], ['sign'], true]);
    const spki = await q.exportKey('spki', k.publicKey), pkcs8 = await q.exportKey('pkcs8', k.privateKey);
    const npub = await n.importKey('spki', Buffer.from(spki), alg, true, ['verify']), npriv = await n.importKey('pkcs8', Buffer.from(pkcs8), alg, true, ['sign']);
    assert.equal(await n.verify(sig, npub, Buffer.from(await q.sign(sig, k.privateKey, data)), Buffer.from('payload')), true);
    assert.equal(await q.verify(sig, k.publicKey, s.u8(Buffer.from(await n.sign(sig, npriv, Buffer.from('payload')))), data), true);
    assert.deepEqual(plain(await q.exportKey('jwk', k.privateKey)), { ...(await n.exportKey('jwk', npriv)), key_ops: ['sign'] });
    const raw = await q.exportKey('raw', k.publicKey);
    assert.equal(hex(raw), hex(await n.exportKey('raw', npub)));
    const again = await q.importKey('jwk', s.run(`(${JSON.stringify(await n.exportKey('jwk', npriv))})`), alg, false, ['sign']);
    assert.equal(await n.verify(sig, npub, Buffer.from(await q.sign(sig, again, data)), Buffer.from('payload')), true);
  }
  // RS256 from a PKCS#8 PEM, the Google service-account case.
  const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const rs = await q.importKey('pkcs8', s.u8(der), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  assert.deepEqual([rs.algorithm.modulusLength, [...rs.algorithm.publicExponent], rs.algorithm.hash.name], [2048, [1, 0, 1], 'SHA-256']);
  const rsig = await q.sign('RSASSA-PKCS1-v1_5', rs, data);
  assert.equal(nodeCrypto.verify('sha256', Buffer.from('payload'), publicKey, Buffer.from(rsig)), true);
  const pss = await q.importKey('jwk', s.run(`(${JSON.stringify(publicKey.export({ format: 'jwk' }))})`), { name: 'RSA-PSS', hash: 'SHA-256' }, true, ['verify']);
  const psig = nodeCrypto.sign('sha256', Buffer.from('payload'), { key: privateKey, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  assert.equal(await q.verify({ name: 'RSA-PSS', saltLength: 32 }, pss, s.u8(psig), data), true);
  await assert.rejects(q.verify({ name: 'RSA-PSS' }, pss, s.u8(psig), data), { name: 'TypeError', message: /saltLength/ });
  // AES-GCM and AES-CBC against Node.
  const keyBytes = nodeCrypto.randomBytes(32), iv = nodeCrypto.randomBytes(12), iv16 = nodeCrypto.randomBytes(16);
  for (const [alg, params] of [['AES-GCM', { name: 'AES-GCM', iv, additionalData: Buffer.from('aad') }], ['AES-CBC', { name: 'AES-CBC', iv: iv16 }]]) {
    const ours = await q.importKey('raw', s.u8(keyBytes), alg, true, ['encrypt', 'decrypt']), theirs = await n.importKey('raw', keyBytes, alg, true, ['encrypt', 'decrypt']);
    const p = { ...params, iv: s.u8(params.iv), ...(params.additionalData ? { additionalData: s.u8(params.additionalData) } : {}) };
    const ct = await q.encrypt(p, ours, data);
    assert.equal(hex(ct), hex(await n.encrypt(params, theirs, Buffer.from('payload'))));
    assert.equal(Buffer.from(await q.decrypt(p, ours, ct)).toString(), 'payload');
    const bad = s.u8(Buffer.from(ct)); bad[0] ^= 1;
    if (alg === 'AES-GCM') await assert.rejects(q.decrypt(p, ours, bad), { name: 'OperationError' });
    assert.deepEqual(plain(await q.exportKey('jwk', ours)), await n.exportKey('jwk', theirs));
  }
  // PBKDF2, HKDF and ECDH.
  const pw = await q.importKey('raw', s.u8(Buffer.from('pw')), 'PBKDF2', false, ['deriveBits', 'deriveKey']);
  const npw = await n.importKey('raw', Buffer.from('pw'), 'PBKDF2', false, ['deriveBits']);
  const pb = { name: 'PBKDF2', salt: Buffer.from('salt'), iterations: 1000, hash: 'SHA-256' };
  assert.equal(hex(await q.deriveBits({ ...pb, salt: s.u8(pb.salt) }, pw, 256)), hex(await n.deriveBits(pb, npw, 256)));
  const aes = await q.deriveKey({ ...pb, salt: s.u8(pb.salt) }, pw, { name: 'AES-GCM', length: 128 }, true, ['encrypt']);
  assert.deepEqual(plain([aes.type, aes.algorithm, aes.usages]), ['secret', { name: 'AES-GCM', length: 128 }, ['encrypt']]);
  const ikm = await q.importKey('raw', s.u8([1, 2, 3]), 'HKDF', false, ['deriveBits']);
  const hk = { name: 'HKDF', hash: 'SHA-256', salt: Buffer.from('s'), info: Buffer.from('i') };
  assert.equal(hex(await q.deriveBits({ ...hk, salt: s.u8(hk.salt), info: s.u8(hk.info) }, ikm, 128)),
    hex(await n.deriveBits(hk, await n.importKey('raw', Buffer.from([1, 2, 3]), 'HKDF', false, ['deriveBits']), 128)));
  const a = await q.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const b = await n.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const bPub = await q.importKey('spki', s.u8(Buffer.from(await n.exportKey('spki', b.publicKey))), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
  const aPub = await n.importKey('spki', Buffer.from(await q.exportKey('spki', a.publicKey)), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
  assert.equal(hex(await q.deriveBits({ name: 'ECDH', public: bPub }, a.privateKey, 256)), hex(await n.deriveBits({ name: 'ECDH', public: aPub }, b.privateKey, 256)));
  // timingSafeEqual (Workers) and argument errors.
  assert.equal(q.timingSafeEqual(s.u8([1, 2]), s.u8([1, 2])), true);
  assert.equal(q.timingSafeEqual(s.u8([1, 2]), s.u8([1, 3])), false);
  assert.throws(() => q.timingSafeEqual(s.u8([1]), s.u8([1, 2])), { name: 'RangeError' });
  await assert.rejects(q.importKey('pkcs8', s.u8([1, 2]), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']), { name: 'DataError' });
  await assert.rejects(q.generateKey({ name: 'ECDSA', namedCurve: 'P-521' }, false, ['sign']), { name: 'NotSupportedError' });
  await assert.rejects(q.generateKey({ name: 'Ed25519' }, false, ['encrypt']), { name: 'SyntaxError' });
  await assert.rejects(q.sign({ name: 'ECDSA', hash: 'SHA-256' }, a.privateKey, data), { name: 'InvalidAccessError' });
  // Platform objects of the lazy parts are not cloned into empty objects.
  assert.throws(() => s.run('structuredClone(new FormData())'), { name: 'DataCloneError' });
  assert.throws(() => s.G.structuredClone(a.privateKey), { name: 'DataCloneError' });
});
