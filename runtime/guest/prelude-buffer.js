// Quasm prelude, loaded on first use: Buffer for `import { Buffer } from
// "node:buffer"` (or "buffer"), the subset Workers' nodejs_compat gives
// scripts: from, alloc, toString and byteLength with utf8 / base64 /
// base64url / hex / latin1 / ascii, concat, compare, equals, isBuffer.
// A Buffer is a Uint8Array, as in Node; slice() shares memory, as in Node.
(I => {
'use strict';
const { enc, dec, view, b64, typeName } = I;

const ENCODINGS = ['utf8', 'utf-8', 'hex', 'base64', 'base64url', 'latin1', 'binary', 'ascii'];
const encoding = e => {
  if (e === undefined || e === null) return 'utf8';
  const l = `${e}`.toLowerCase();
  if (!ENCODINGS.includes(l)) throw new TypeError(`Unknown encoding: ${e} (Quasm's Buffer supports ${ENCODINGS.join(', ')})`);
  return l === 'utf-8' ? 'utf8' : l === 'binary' ? 'latin1' : l;
};
const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
B64[45] = 62; B64[95] = 63; // base64url's - and _
// Node's lenient decoder: skips characters outside both alphabets, stops at "=".
const fromB64 = s => {
  const out = new Uint8Array((s.length * 3 >> 2) + 3);
  let o = 0, acc = 0, bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) break;
    const v = c < 256 ? B64[c] : -1;
    if (v < 0) continue;
    acc = (acc << 6 | v) & 0xffffff; bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = acc >> bits & 255; }
  }
  return out.subarray(0, o);
};
const hexv = c => c >= 48 && c <= 57 ? c - 48 : (c |= 32) >= 97 && c <= 102 ? c - 87 : -1;
// Node's hex decoder stops at the first pair that is not hex.
const fromHex = s => {
  const out = new Uint8Array(s.length >> 1);
  let o = 0;
  for (; o < out.length; o++) {
    const h = hexv(s.charCodeAt(2 * o)), l = hexv(s.charCodeAt(2 * o + 1));
    if (h < 0 || l < 0) break;
    out[o] = h << 4 | l;
  }
  return out.subarray(0, o);
};
const fromLatin1 = (s, mask) => { const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & mask; return u; };
const bytesOfString = (s, e) => {
  switch (encoding(e)) {
    case 'utf8': return enc(s);
    case 'hex': return fromHex(s);
    case 'base64': case 'base64url': return fromB64(s);
    case 'latin1': return fromLatin1(s, 255);
    default: return fromLatin1(s, 255);
  }
};
const latin1 = (u, mask) => {
  let s = '';
  for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode.apply(null, mask === 255 ? u.subarray(i, i + 8192) : Array.from(u.subarray(i, i + 8192), b => b & mask));
  return s;
};
const wrap = u => new Buffer(u.buffer, u.byteOffset, u.length);
const cmp = (a, b) => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
};
const u8 = (v, w) => {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${w} must be a Buffer or Uint8Array, got ${typeName(v)}`);
  return v;
};

class Buffer extends Uint8Array {
  static from(v, a, b) {
    if (typeof v === 'string') return wrap(bytesOfString(v, a));
    if (v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]') {
      const off = a === undefined ? 0 : Number(a) >>> 0, len = b === undefined ? v.byteLength - off : Number(b) >>> 0;
      if (off > v.byteLength || off + len > v.byteLength) throw new RangeError('Buffer.from: offset or length out of the ArrayBuffer');
      return new Buffer(v, off, len);
    }
    const u = view(v);
    if (u) return wrap(u.slice());
    if (v !== null && typeof v === 'object') {
      if (v.type === 'Buffer' && Array.isArray(v.data)) return wrap(Uint8Array.from(v.data));
      if (typeof v.length === 'number' || typeof v[Symbol.iterator] === 'function') return wrap(Uint8Array.from(v));
      const p = v.valueOf();
      if (p !== v && p != null) return Buffer.from(p, a, b);
    }
    throw new TypeError(`The first argument must be a string, Buffer, ArrayBuffer, Array or array-like object, got ${typeName(v)}`);
  }
  static alloc(n, fill, e) {
    const b = new Buffer(size(n));
    if (fill !== undefined && fill !== 0) b.fill(fill, 0, b.length, e);
    return b;
  }
  static allocUnsafe(n) { return new Buffer(size(n)); }
  static isBuffer(v) { return v instanceof Buffer; }
  static isEncoding(e) { return typeof e === 'string' && ENCODINGS.includes(e.toLowerCase()); }
  static byteLength(v, e) {
    if (typeof v === 'string') {
      const k = encoding(e);
      if (k === 'hex') return v.length >>> 1;
      if (k !== 'base64' && k !== 'base64url') return bytesOfString(v, e).length;
      // Node estimates base64 from the length alone.
      let n = v.length;
      if (v.charCodeAt(n - 1) === 61) n--;
      if (n > 1 && v.charCodeAt(n - 1) === 61) n--;
      return n * 3 >>> 2;
    }
    const u = view(v);
    if (!u) throw new TypeError(`Buffer.byteLength: the argument must be a string, Buffer or ArrayBuffer, got ${typeName(v)}`);
    return u.length;
  }
  static concat(list, total) {
    if (!Array.isArray(list)) throw new TypeError('Buffer.concat: the list must be an array of Buffers or Uint8Arrays');
    list.forEach((x, i) => u8(x, `Buffer.concat: list[${i}]`));
    const n = total === undefined ? list.reduce((s, x) => s + x.length, 0) : size(total);
    const out = new Buffer(n);
    let o = 0;
    for (const x of list) { if (o >= n) break; out.set(x.subarray(0, n - o), o); o += x.length; }
    return out;
  }
  static compare(a, b) { return cmp(u8(a, 'Buffer.compare: a'), u8(b, 'Buffer.compare: b')); }
  toString(e, start, end) {
    const n = this.length, s = start === undefined ? 0 : Math.max(0, Math.min(n, start | 0)), t = end === undefined ? n : Math.max(s, Math.min(n, end | 0));
    const u = new Uint8Array(this.buffer, this.byteOffset + s, t - s);
    switch (encoding(e)) {
      case 'utf8': return dec(u);
      case 'hex': return Array.from(u, x => (x + 256).toString(16).slice(1)).join('');
      case 'base64': return b64(u);
      case 'base64url': return b64(u).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      case 'latin1': return latin1(u, 255);
      default: return latin1(u, 127);
    }
  }
  toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  equals(o) { return cmp(this, u8(o, 'buf.equals: the argument')) === 0; }
  compare(o) { return cmp(this, u8(o, 'buf.compare: the target')); }
  slice(start, end) { return this.subarray(start, end); }
  fill(v, start, end, e) {
    if (typeof start === 'string') { e = start; start = undefined; end = undefined; }
    if (typeof v !== 'string') return super.fill(v, start, end);
    const p = bytesOfString(v, e), s = start === undefined ? 0 : start | 0, t = end === undefined ? this.length : end | 0;
    if (!p.length) return super.fill(0, s, t);
    for (let i = s, j = 0; i < t; i++, j = (j + 1) % p.length) this[i] = p[j];
    return this;
  }
  includes(v, off, e) { return this.indexOf(v, off, e) !== -1; }
  indexOf(v, off, e) {
    if (typeof v === 'number') return super.indexOf(v & 255, off);
    const p = typeof v === 'string' ? bytesOfString(v, e) : u8(v, 'buf.indexOf: the value');
    const from = off === undefined ? 0 : off < 0 ? Math.max(0, this.length + off) : off | 0;
    if (!p.length) return Math.min(from, this.length);
    for (let i = from; i + p.length <= this.length; i++) {
      let j = 0;
      while (j < p.length && this[i + j] === p[j]) j++;
      if (j === p.length) return i;
    }
    return -1;
  }
}
const size = n => {
  if (typeof n !== 'number' || !(n >= 0) || n > 0x7fffffff) throw new RangeError(`The size must be a number between 0 and 2147483647, got ${n}`);
  return n | 0;
};
return { Buffer, PLATFORM: [] };
})
