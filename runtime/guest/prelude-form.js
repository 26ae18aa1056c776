// Quasm prelude, loaded on first use: Blob, File, FormData and the
// multipart/form-data and urlencoded codecs behind Body.formData() and
// FormData bodies. Evaluated by the core prelude (prelude.js), which passes
// its internals as I; the value of this file is that function.
(I => {
'use strict';
const { RAW, enc, dec, view, need, dom, typeName, def, INSPECT, dict, usv, parseQS } = I;

// A Blob's bytes never change: slices and copies share nothing mutable.
let blobBytes;
const normType = t => {
  t = `${t}`;
  for (let i = 0; i < t.length; i++) { const c = t.charCodeAt(i); if (c < 0x20 || c > 0x7e) return ''; }
  return t.toLowerCase();
};
const concat = (chunks, n) => {
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
};
class Blob {
  #b; #t;
  static { blobBytes = b => b.#b; }
  constructor(parts, opts) {
    if (parts === RAW) { this.#b = opts.b; this.#t = opts.t; return; }
    const chunks = [];
    let n = 0;
    if (parts !== undefined) {
      if (parts === null || typeof parts !== 'object' || typeof parts[Symbol.iterator] !== 'function')
        throw new TypeError(`Blob: the parts must be a sequence (e.g. an array), got ${typeName(parts)}`);
      for (const p of parts) {
        const u = p instanceof Blob ? p.#b : view(p) || enc(p);
        chunks.push(u.slice()); n += u.length;
      }
    }
    opts = dict(opts, 'Blob: options');
    this.#b = concat(chunks, n);
    this.#t = opts.type === undefined ? '' : normType(opts.type);
  }
  get size() { return this.#b.length; }
  get type() { return this.#t; }
  slice(start, end, type) {
    const n = this.#b.length;
    const rel = (v, d) => { if (v === undefined) return d; v = Math.trunc(Number(v)) || 0; return v < 0 ? Math.max(n + v, 0) : Math.min(v, n); };
    const s = rel(start, 0), e = rel(end, n);
    return new Blob(RAW, { b: this.#b.slice(s, Math.max(s, e)), t: type === undefined ? '' : normType(type) });
  }
  async arrayBuffer() { return this.#b.slice().buffer; }
  async bytes() { return this.#b.slice(); }
  async text() { return dec(this.#b); }
  stream() { return I.streamOf(this.#b.slice()); }
  [INSPECT]() { return { size: this.#b.length, type: this.#t }; }
}
class File extends Blob {
  #n; #m;
  constructor(bits, name, opts) {
    need(arguments, 2, 'File');
    super(bits, opts);
    opts = dict(opts, 'File: options');
    this.#n = usv(name);
    this.#m = opts.lastModified === undefined ? Date.now() : Math.trunc(Number(opts.lastModified)) || 0;
  }
  get name() { return this.#n; }
  get lastModified() { return this.#m; }
  [INSPECT]() { return { size: this.size, type: this.type, name: this.#n, lastModified: this.#m }; }
}

// ---- FormData ---------------------------------------------------------------
const entry = (w, a) => {
  const [name, value, filename] = a;
  if (a.length > 2 && !(value instanceof Blob)) throw new TypeError(`FormData.${w}: the value must be a Blob when a filename is given`);
  if (!(value instanceof Blob)) return [usv(name), usv(value)];
  if (value instanceof File && filename === undefined) return [usv(name), value];
  return [usv(name), new File([value], filename === undefined ? 'blob' : usv(filename), { type: value.type, lastModified: value instanceof File ? value.lastModified : undefined })];
};
let formList;
class FormData {
  #l = [];
  static { formList = f => f.#l; }
  constructor(form) {
    if (form !== undefined) throw new TypeError('FormData: the form argument is not supported (Quasm has no HTML forms); create it empty and append entries');
  }
  append(name, value, filename) { need(arguments, 2, 'FormData.append'); this.#l.push(entry('append', [...arguments])); }
  delete(name) { need(arguments, 1, 'FormData.delete'); name = usv(name); this.#l = this.#l.filter(e => e[0] !== name); }
  get(name) { need(arguments, 1, 'FormData.get'); name = usv(name); const e = this.#l.find(e => e[0] === name); return e ? e[1] : null; }
  getAll(name) { need(arguments, 1, 'FormData.getAll'); name = usv(name); return this.#l.filter(e => e[0] === name).map(e => e[1]); }
  has(name) { need(arguments, 1, 'FormData.has'); name = usv(name); return this.#l.some(e => e[0] === name); }
  set(name, value, filename) {
    need(arguments, 2, 'FormData.set');
    const e = entry('set', [...arguments]), i = this.#l.findIndex(x => x[0] === e[0]);
    if (i < 0) { this.#l.push(e); return; }
    this.#l[i] = e;
    this.#l = this.#l.filter((x, j) => j <= i || x[0] !== e[0]);
  }
  forEach(cb, thisArg) {
    if (typeof cb !== 'function') throw new TypeError('FormData.forEach: the callback must be a function');
    for (let i = 0; i < this.#l.length; i++) cb.call(thisArg, this.#l[i][1], this.#l[i][0], this);
  }
  *entries() { for (let i = 0; i < this.#l.length; i++) yield [...this.#l[i]]; }
  *keys() { for (let i = 0; i < this.#l.length; i++) yield this.#l[i][0]; }
  *values() { for (let i = 0; i < this.#l.length; i++) yield this.#l[i][1]; }
  [Symbol.iterator]() { return this.entries(); }
  [INSPECT]() { return { entries: this.#l.map(e => ({ name: e[0], value: e[1] })) }; }
}
for (const C of [Blob, File, FormData]) def(C.prototype, Symbol.toStringTag, C.name);

// ---- multipart/form-data -----------------------------------------------------------
// The encoding undici (Node 20) uses: CRLF line breaks, quotes and line
// breaks in names percent-escaped.
const crlf = s => s.replace(/\r?\n|\r/g, '\r\n');
const esc = s => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
function encodeMultipart(fd) {
  let r = '';
  for (let i = 0; i < 11; i++) r += Math.floor(Math.random() * 10);
  const boundary = `----formdata-undici-0${r}`, chunks = [];
  let n = 0;
  const put = u => { chunks.push(u); n += u.length; };
  for (const [name, v] of formList(fd)) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${esc(crlf(name))}"`;
    if (typeof v === 'string') { put(enc(`${head}\r\n\r\n${crlf(v)}\r\n`)); continue; }
    head += `; filename="${esc(v.name)}"\r\nContent-Type: ${v.type || 'application/octet-stream'}\r\n\r\n`;
    put(enc(head)); put(blobBytes(v)); put(enc('\r\n'));
  }
  put(enc(`--${boundary}--\r\n`));
  return [concat(chunks, n), `multipart/form-data; boundary=${boundary}`];
}
const find = (u, pat, from) => {
  const f = pat[0], last = u.length - pat.length;
  for (let i = u.indexOf(f, from); i >= 0 && i <= last; i = u.indexOf(f, i + 1)) {
    let j = 1;
    while (j < pat.length && u[i + j] === pat[j]) j++;
    if (j === pat.length) return i;
  }
  return -1;
};
// A header parameter's value (token or quoted string), or null.
const param = (h, name) => {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(h);
  return m ? m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] : null;
};
const badForm = () => new TypeError('Failed to parse body as FormData.');
function decodeMultipart(u, boundary) {
  const fd = new FormData(), delim = enc(`--${boundary}`), next = enc(`\r\n--${boundary}`);
  let i = find(u, delim, 0);
  if (i < 0) throw badForm();
  i += delim.length;
  for (;;) {
    if (u[i] === 45 && u[i + 1] === 45) return fd; // "--": the closing delimiter
    while (u[i] === 32 || u[i] === 9) i++;
    if (u[i] !== 13 || u[i + 1] !== 10) throw badForm();
    const end = find(u, enc('\r\n\r\n'), i);
    if (end < 0) throw badForm();
    const heads = end === i ? [] : dec(u.subarray(i + 2, end)).split('\r\n');
    const bodyStart = end + 4, stop = find(u, next, bodyStart);
    if (stop < 0) throw badForm();
    let disp = null, type = null;
    for (const h of heads) {
      const c = h.indexOf(':');
      if (c < 0) throw badForm();
      const k = h.slice(0, c).trim().toLowerCase(), v = h.slice(c + 1).trim();
      if (k === 'content-disposition') disp = v; else if (k === 'content-type') type = v;
    }
    if (!disp || !/^form-data\s*(;|$)/i.test(disp)) throw badForm();
    const name = param(disp, 'name');
    if (name === null) throw badForm();
    const filename = param(disp, 'filename'), body = u.subarray(bodyStart, stop);
    if (filename !== null) fd.append(name, new File([body], filename, { type: type || 'text/plain' }));
    else fd.append(name, dec(body));
    i = stop + next.length;
  }
}
// Body.formData(): the body's bytes under its content type.
function parseForm(u, contentType) {
  const ct = `${contentType ?? ''}`, essence = ct.split(';')[0].trim().toLowerCase();
  if (essence === 'multipart/form-data') {
    const b = param(ct, 'boundary');
    if (!b) throw new TypeError('Failed to parse body as FormData: the multipart/form-data Content-Type has no boundary.');
    return decodeMultipart(u, b);
  }
  if (essence === 'application/x-www-form-urlencoded') {
    const fd = new FormData();
    for (const [k, v] of parseQS(dec(u))) fd.append(k, v);
    return fd;
  }
  throw new TypeError('Content-Type was not one of "multipart/form-data" or "application/x-www-form-urlencoded".');
}
// A FormData or Blob body: [bytes, content type or ''].
const extractForm = v => v instanceof FormData ? encodeMultipart(v) : v instanceof Blob ? [blobBytes(v).slice(), v.type] : null;
return { Blob, File, FormData, parseForm, extractForm, blobBytes, PLATFORM: [FormData, Blob] };
})
