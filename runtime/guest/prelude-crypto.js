// Quasm prelude, loaded on first use: crypto.subtle and CryptoKey. The
// cryptography runs in the host (runtime/src/host/crypto.rs, aws-lc-rs): this
// file checks arguments as WebCrypto does and keeps each key's material in
// the CryptoKey's private fields (secret bytes, PKCS#8 or SPKI DER), out of
// reach of user code, which sees only what exportKey gives an extractable key.
(I => {
'use strict';
const { RAW, enc, dec, bytesOf, toAB, b64, need, dom, jstr, jparse, def, INSPECT, illegal, hcall } = I;

const HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const ALGS = ['HMAC', 'AES-GCM', 'AES-CBC', 'PBKDF2', 'HKDF', 'RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA', 'ECDH', 'Ed25519', 'X25519'];
const CURVES = ['P-256', 'P-384'];
const RSA = ['RSASSA-PKCS1-v1_5', 'RSA-PSS'], EC = ['ECDSA', 'ECDH'], OKP = ['Ed25519', 'X25519'], AES = ['AES-GCM', 'AES-CBC'];
const SIGNERS = [...RSA, 'ECDSA', 'Ed25519', 'HMAC'];
// Usages a key of each kind may have: [secret or private, public].
const USAGES = {
  HMAC: [['sign', 'verify']], 'AES-GCM': [['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']], 'AES-CBC': [['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']],
  PBKDF2: [['deriveBits', 'deriveKey']], HKDF: [['deriveBits', 'deriveKey']],
  'RSASSA-PKCS1-v1_5': [['sign'], ['verify']], 'RSA-PSS': [['sign'], ['verify']], ECDSA: [['sign'], ['verify']], Ed25519: [['sign'], ['verify']],
  ECDH: [['deriveBits', 'deriveKey'], []], X25519: [['deriveBits', 'deriveKey'], []],
};

const unsupported = m => dom(m, 'NotSupportedError');
const algObj = a => typeof a === 'string' ? { name: a } : a && typeof a === 'object' ? a : null;
const algName = a => {
  const o = algObj(a), n = o && o.name;
  if (typeof n !== 'string') throw new TypeError('Algorithm: a name is required (a string or an object with a "name")');
  const c = ALGS.find(x => x.toUpperCase() === n.toUpperCase());
  if (!c) throw unsupported(`Unrecognized or unsupported algorithm: ${n} (Quasm supports ${ALGS.join(', ')})`);
  return c;
};
const hashName = a => {
  const o = algObj(a), n = o && o.name;
  if (typeof n !== 'string') throw new TypeError('Algorithm: a hash is required (e.g. "SHA-256")');
  const u = n.toUpperCase();
  if (!HASHES.includes(u)) throw unsupported(`Unrecognized or unsupported hash algorithm: ${n} (supported: ${HASHES.join(', ')})`);
  return u;
};
const b64u = u => b64(u).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const unb64u = (s, w) => {
  if (typeof s !== 'string' || /[^A-Za-z0-9_\-]/.test(s)) throw dom(`${w} must be base64url`, 'DataError');
  const bin = G.atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return Uint8Array.from(bin, c => c.charCodeAt(0));
};
const G = globalThis;
// The host reports WebCrypto errors as "Name: message".
const host = (op, arg, data) => {
  try { return hcall('crypto', { op, ...arg }, data); }
  catch (e) {
    const m = `${e && e.message}`, i = m.indexOf(': ');
    throw i > 0 && /Error$/.test(m.slice(0, i)) ? dom(m.slice(i + 2), m.slice(0, i)) : dom(m, 'OperationError');
  }
};
const hostJSON = (op, arg, data) => jparse(dec(host(op, arg, data)));
// The host's base64 (standard alphabet, padded).
const unb64 = s => Uint8Array.from(G.atob(s), c => c.charCodeAt(0));

let keyData;
class CryptoKey {
  #t; #x; #a; #u; #k;
  static { keyData = k => k.#k; }
  constructor(t, type, x, a, u, k) { illegal(t); this.#t = type; this.#x = x; this.#a = a; this.#u = u; this.#k = k; }
  get type() { return this.#t; }
  get extractable() { return this.#x; }
  get algorithm() { return this.#a; }
  get usages() { return this.#u; }
  [INSPECT]() { return { type: this.#t, extractable: this.#x, algorithm: this.#a, usages: this.#u }; }
}
const newKey = (type, x, a, u, k) => new CryptoKey(RAW, type, !!x, freeze(a), u, k);
const { freeze } = Object;
const checkUsages = (name, type, usages, w) => {
  const u = [...new Set(usages)], allowed = USAGES[name][type === 'public' ? 1 : 0];
  const bad = u.find(x => !allowed.includes(x));
  if (bad) throw dom(`${w}: usage "${bad}" is not valid for a ${name} ${type} key (allowed: ${allowed.join(', ') || 'none'})`, 'SyntaxError');
  if (!u.length && type !== 'public') throw dom(`${w}: usages must not be empty for a ${type} key`, 'SyntaxError');
  return u;
};
const useKey = (alg, key, usage) => {
  const name = algName(alg);
  if (!(key instanceof CryptoKey)) throw new TypeError(`crypto.subtle.${usage}: key must be a CryptoKey`);
  if (key.algorithm.name !== name) throw dom(`The key is a ${key.algorithm.name} key, not ${name}`, 'InvalidAccessError');
  if (!key.usages.includes(usage)) throw dom(`The key does not allow the "${usage}" operation`, 'InvalidAccessError');
  return name;
};
const keyArg = k => ({ key: b64(keyData(k)), kind: k.type, curve: k.algorithm.namedCurve, hash: k.algorithm.hash?.name });
const curveOf = (o, name) => {
  const c = o.namedCurve;
  if (!CURVES.includes(c)) throw unsupported(`${name}: namedCurve must be one of ${CURVES.join(', ')}${c === undefined ? '' : `, got ${jstr(`${c}`)}`}`);
  return c;
};
const aesLength = (n, w) => {
  if (![128, 192, 256].includes(n)) throw dom(`${w}: AES key length must be 128, 192 or 256 bits`, n === undefined ? 'TypeError' : 'OperationError');
  return n;
};
const bitsLength = (L, w) => {
  if (L === null || L === undefined || !Number.isInteger(L = Number(L)) || L < 0 || L % 8) throw dom(`${w}: length must be a multiple of 8`, 'OperationError');
  return L;
};
// The algorithm object a key of alg `name` carries (from generate/import params).
function keyAlg(name, o, extra) {
  switch (name) {
    case 'HMAC': {
      if (o.hash === undefined) throw new TypeError('HMAC needs a hash (e.g. {name: "HMAC", hash: "SHA-256"})');
      return { name, hash: { name: hashName(o.hash) }, length: extra };
    }
    case 'AES-GCM': case 'AES-CBC': return { name, length: extra };
    case 'RSASSA-PKCS1-v1_5': case 'RSA-PSS':
      if (o.hash === undefined) throw new TypeError(`${name} needs a hash (e.g. {name: "${name}", hash: "SHA-256"})`);
      return { name, modulusLength: extra.modulusLength, publicExponent: unb64(extra.publicExponent), hash: { name: hashName(o.hash) } };
    case 'ECDSA': case 'ECDH': return { name, namedCurve: curveOf(o, name) };
    default: return { name };
  }
}
const secretKey = (name, o, bytes, x, usages, w) => {
  let length;
  if (name === 'HMAC') {
    if (!bytes.length) throw dom('HMAC key data must not be empty', 'DataError');
    length = bytes.length * 8;
    if (o.length !== undefined) {
      const L = Number(o.length);
      if (!(L <= length && L > length - 8)) throw dom(`HMAC key length ${o.length} does not match the ${length}-bit key data`, 'DataError');
      length = L;
    }
  } else if (AES.includes(name)) {
    length = bytes.length * 8;
    if (![128, 192, 256].includes(length)) throw dom(`${w}: AES key data must be 16, 24 or 32 bytes, got ${bytes.length}`, 'DataError');
  } else if (x) throw dom(`${w}: ${name} keys cannot be extractable`, 'SyntaxError');
  return newKey('secret', x, keyAlg(name, o, length), checkUsages(name, 'secret', usages, w), bytes);
};
const jwkOf = v => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new TypeError('crypto.subtle.importKey: a JWK must be an object');
  if (typeof v.kty !== 'string') throw dom('crypto.subtle.importKey: the JWK has no "kty"', 'DataError');
  return v;
};

class SubtleCrypto {
  constructor(t) { illegal(t); }
  async digest(alg, data) {
    need(arguments, 2, 'crypto.subtle.digest');
    return toAB(hcall('digest', { algorithm: hashName(alg) }, bytesOf(data, 'crypto.subtle.digest: data')));
  }
  async generateKey(alg, extractable, usages) {
    need(arguments, 3, 'crypto.subtle.generateKey');
    const name = algName(alg), o = algObj(alg), w = 'crypto.subtle.generateKey';
    usages = [...usages];
    if (name === 'HMAC' || AES.includes(name)) {
      const bits = name === 'HMAC' ? (o.length === undefined ? { 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 }[hashName(o.hash)] : Number(o.length)) : aesLength(o.length, w);
      if (!(bits > 0)) throw dom(`${w}: HMAC key length must be positive`, 'OperationError');
      const k = I.H.random(new Uint8Array(Math.ceil(bits / 8)));
      return secretKey(name, { ...o, length: bits }, k, extractable, usages, w);
    }
    if (!USAGES[name][1]) throw unsupported(`${w}: ${name} keys are derived or imported, not generated`);
    const arg = { alg: name };
    if (RSA.includes(name)) {
      arg.modulus_length = Number(o.modulusLength);
      arg.public_exponent = b64(bytesOf(o.publicExponent ?? new Uint8Array([1, 0, 1]), `${w}: publicExponent`));
    }
    if (EC.includes(name)) arg.curve = curveOf(o, name);
    const all = [...new Set(usages)], [privU, pubU] = USAGES[name];
    const bad = all.find(u => !privU.includes(u) && !pubU.includes(u));
    if (bad) throw dom(`${w}: usage "${bad}" is not valid for ${name} keys`, 'SyntaxError');
    const r = hostJSON('generate', arg);
    const a = keyAlg(name, o, r);
    const priv = all.filter(u => privU.includes(u));
    if (!priv.length) throw dom(`${w}: usages must include a private-key usage (${privU.join(', ')})`, 'SyntaxError');
    return {
      publicKey: newKey('public', true, a, all.filter(u => pubU.includes(u)), unb64(r.public)),
      privateKey: newKey('private', extractable, a, priv, unb64(r.private)),
    };
  }
  async importKey(format, keyData, alg, extractable, usages) {
    need(arguments, 5, 'crypto.subtle.importKey');
    const name = algName(alg), o = algObj(alg), w = 'crypto.subtle.importKey';
    format = `${format}`;
    if (!['raw', 'pkcs8', 'spki', 'jwk'].includes(format)) throw new TypeError(`${w}: unknown format ${jstr(format)} (use raw, pkcs8, spki or jwk)`);
    usages = [...usages];
    if (!USAGES[name][1]) {
      let bytes;
      if (format === 'raw') bytes = bytesOf(keyData, `${w}: keyData`).slice();
      else if (format === 'jwk' && (name === 'HMAC' || AES.includes(name))) {
        const j = jwkOf(keyData);
        if (j.kty !== 'oct') throw dom(`${w}: a ${name} JWK must have kty "oct"`, 'DataError');
        bytes = unb64u(j.k, 'JWK "k"');
        if (j.ext === false && extractable) throw dom(`${w}: the JWK is not extractable ("ext": false)`, 'DataError');
      } else throw unsupported(`${w}: ${name} keys import from ${name === 'HMAC' || AES.includes(name) ? '"raw" or "jwk"' : '"raw"'}, not ${jstr(format)}`);
      return secretKey(name, o, bytes, extractable, usages, w);
    }
    if (format === 'raw' && RSA.includes(name)) throw unsupported(`${w}: RSA keys import from pkcs8, spki or jwk, not raw`);
    const arg = { alg: name, format, curve: EC.includes(name) ? curveOf(o, name) : undefined };
    let bytes;
    if (format === 'jwk') arg.jwk = jwkOf(keyData); else bytes = bytesOf(keyData, `${w}: keyData`);
    const r = hostJSON('import', arg, bytes);
    return newKey(r.type, r.type === 'public' || extractable, keyAlg(name, o, r), checkUsages(name, r.type, usages, w), unb64(r.key));
  }
  async exportKey(format, key) {
    need(arguments, 2, 'crypto.subtle.exportKey');
    if (!(key instanceof CryptoKey)) throw new TypeError('crypto.subtle.exportKey: key must be a CryptoKey');
    format = `${format}`;
    if (!key.extractable) throw dom('The key is not extractable', 'InvalidAccessError');
    const a = key.algorithm, name = a.name, k = keyData(key);
    if (key.type === 'secret') {
      if (format === 'raw') return k.slice().buffer;
      if (format !== 'jwk' || !(name === 'HMAC' || AES.includes(name))) throw unsupported(`${name} keys export as "raw"${name === 'HMAC' || AES.includes(name) ? ' or "jwk"' : ''}, not ${jstr(format)}`);
      const alg = name === 'HMAC' ? `HS${a.hash.name.slice(4)}` : `A${k.length * 8}${name.slice(4)}`;
      return { key_ops: [...key.usages], ext: true, kty: 'oct', k: b64u(k), alg };
    }
    if (format === 'pkcs8' && key.type !== 'private' || format === 'spki' && key.type !== 'public' || format === 'raw' && (key.type !== 'public' || RSA.includes(name)))
      throw dom(`A ${name} ${key.type} key cannot be exported as ${jstr(format)}`, 'InvalidAccessError');
    if (!['raw', 'pkcs8', 'spki', 'jwk'].includes(format)) throw new TypeError(`crypto.subtle.exportKey: unknown format ${jstr(format)}`);
    const arg = { alg: name, format, ...keyArg(key) };
    if (format !== 'jwk') return toAB(host('export', arg));
    const j = hostJSON('export', arg);
    return { key_ops: [...key.usages], ext: true, ...j };
  }
  async sign(alg, key, data) {
    need(arguments, 3, 'crypto.subtle.sign');
    const name = useKey(alg, key, 'sign'), d = bytesOf(data, 'crypto.subtle.sign: data');
    if (name === 'HMAC') return toAB(hcall('hmac', { hash: key.algorithm.hash.name, key: b64(keyData(key)) }, d));
    return toAB(host('sign', signArg(name, alg, key), d));
  }
  async verify(alg, key, sig, data) {
    need(arguments, 4, 'crypto.subtle.verify');
    const name = useKey(alg, key, 'verify'), d = bytesOf(data, 'crypto.subtle.verify: data');
    const s = bytesOf(sig, 'crypto.subtle.verify: signature').slice();
    if (name === 'HMAC') {
      const m = hcall('hmac', { hash: key.algorithm.hash.name, key: b64(keyData(key)) }, d);
      return s.length === m.length && timingSafeEqual(s, m);
    }
    return host('verify', { ...signArg(name, alg, key), signature: b64(s) }, d)[0] === 1;
  }
  async encrypt(alg, key, data) { need(arguments, 3, 'crypto.subtle.encrypt'); return cipher('encrypt', alg, key, data); }
  async decrypt(alg, key, data) { need(arguments, 3, 'crypto.subtle.decrypt'); return cipher('decrypt', alg, key, data); }
  async deriveBits(alg, key, length) {
    need(arguments, 2, 'crypto.subtle.deriveBits');
    return derive(alg, key, length, 'deriveBits');
  }
  async deriveKey(alg, key, derived, extractable, usages) {
    need(arguments, 5, 'crypto.subtle.deriveKey');
    const dn = algName(derived), d = algObj(derived);
    let len;
    if (AES.includes(dn)) len = aesLength(d.length, 'crypto.subtle.deriveKey');
    else if (dn === 'HMAC') len = d.length === undefined ? { 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 }[hashName(d.hash)] : Number(d.length);
    else if (dn === 'HKDF' || dn === 'PBKDF2') len = null;
    else throw unsupported(`crypto.subtle.deriveKey: cannot derive a ${dn} key`);
    if (len === null) throw unsupported(`crypto.subtle.deriveKey: derive bits and import them as a ${dn} key instead`);
    const bits = new Uint8Array(await derive(alg, key, len, 'deriveKey'));
    return secretKey(dn, d, bits, extractable, [...usages], 'crypto.subtle.deriveKey');
  }
  async wrapKey() { throw unsupported('crypto.subtle.wrapKey is not supported in Quasm: exportKey then encrypt'); }
  async unwrapKey() { throw unsupported('crypto.subtle.unwrapKey is not supported in Quasm: decrypt then importKey'); }
  // Workers' extension: constant-time comparison of equal-length buffers.
  timingSafeEqual(a, b) {
    need(arguments, 2, 'crypto.subtle.timingSafeEqual');
    const x = bytesOf(a, 'crypto.subtle.timingSafeEqual: a'), y = bytesOf(b, 'crypto.subtle.timingSafeEqual: b');
    if (x.length !== y.length) throw new RangeError('crypto.subtle.timingSafeEqual: the buffers must have the same byte length');
    return timingSafeEqual(x, y);
  }
}
function timingSafeEqual(x, y) {
  let d = 0;
  for (let i = 0; i < x.length; i++) d |= x[i] ^ y[i];
  return d === 0;
}
function signArg(name, alg, key) {
  const o = algObj(alg), arg = { alg: name, ...keyArg(key) };
  if (name === 'ECDSA') arg.hash = hashName(o.hash);
  if (name === 'RSA-PSS') {
    const s = Number(o.saltLength);
    if (!Number.isInteger(s) || s < 0) throw new TypeError('RSA-PSS needs a saltLength (bytes)');
    arg.salt_length = s;
  }
  return arg;
}
function cipher(w, alg, key, data) {
  const name = useKey(alg, key, w), o = algObj(alg);
  if (!AES.includes(name)) throw dom(`crypto.subtle.${w}: ${name} keys do not ${w}`, 'InvalidAccessError');
  const iv = bytesOf(o.iv, `${name}: iv`);
  const arg = { alg: name, key: b64(keyData(key)), iv: b64(iv) };
  if (name === 'AES-CBC' && iv.length !== 16) throw dom('AES-CBC: iv must be 16 bytes', 'OperationError');
  if (name === 'AES-GCM') {
    if (o.additionalData !== undefined) arg.aad = b64(bytesOf(o.additionalData, 'AES-GCM: additionalData'));
    if (o.tagLength !== undefined && Number(o.tagLength) !== 128) throw unsupported('AES-GCM: Quasm supports tagLength 128 only');
  }
  return toAB(host(w, arg, bytesOf(data, `crypto.subtle.${w}: data`)));
}
function derive(alg, key, length, usage) {
  const name = useKey(alg, key, usage), o = algObj(alg), w = `crypto.subtle.${usage}`;
  const arg = { alg: name, key: b64(keyData(key)), kind: key.type, curve: key.algorithm.namedCurve };
  if (name === 'PBKDF2' || name === 'HKDF') {
    arg.length = bitsLength(length, w);
    arg.hash = hashName(o.hash);
    arg.salt = b64(bytesOf(o.salt, `${name}: salt`));
    if (name === 'HKDF') arg.info = b64(bytesOf(o.info, 'HKDF: info'));
    else {
      arg.iterations = Number(o.iterations);
      if (!(Number.isInteger(arg.iterations) && arg.iterations > 0)) throw dom('PBKDF2: iterations must be a positive integer', 'OperationError');
    }
  } else if (name === 'ECDH' || name === 'X25519') {
    const pub = o.public;
    if (!(pub instanceof CryptoKey) || pub.type !== 'public') throw new TypeError(`${name}: "public" must be a public CryptoKey`);
    if (pub.algorithm.name !== name || pub.algorithm.namedCurve !== key.algorithm.namedCurve) throw dom(`${name}: the public key's algorithm does not match`, 'InvalidAccessError');
    arg.public = b64(keyData(pub));
    arg.length = length == null ? null : bitsLength(length, w);
  } else throw dom(`${w}: ${name} keys do not derive`, 'InvalidAccessError');
  return toAB(host('derive', arg));
}
for (const C of [CryptoKey, SubtleCrypto]) def(C.prototype, Symbol.toStringTag, C.name);
return { CryptoKey, SubtleCrypto, subtle: new SubtleCrypto(RAW), PLATFORM: [CryptoKey, SubtleCrypto] };
})
