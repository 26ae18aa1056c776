// Quasm prelude: the Web APIs user functions see, built on the shim's __host
// natives (runtime/guest/shim.c). Evaluated once per sandbox as a global
// script named "quasm:prelude"; only the globals defined at the end leak.
// DOMException, atob/btoa and queueMicrotask come from QuickJS-ng itself.
(() => {
'use strict';
const G = globalThis, H = G.__host;
delete G.__host;
if (!H || typeof G.DOMException !== 'function' || typeof G.atob !== 'function' || typeof G.queueMicrotask !== 'function')
  throw new Error('quasm prelude: the engine must provide __host, DOMException, atob/btoa and queueMicrotask');
// Captured up front: user code may patch these globals, the entry points must keep working.
const { parse: jparse, stringify: jstr } = JSON;
const { defineProperty: dp, keys: okeys, getPrototypeOf: protoOf, freeze } = Object;
const toStr = Object.prototype.toString, DOMEx = G.DOMException, btoa = G.btoa;
const RAW = Symbol('raw'); // unforgeable token for internal construction
const INSPECT = Symbol('inspect'); // our classes expose a plain view of their state to console
const PRELUDE = 'quasm:prelude';

const def = (o, k, v, e) => dp(o, k, { value: v, writable: true, enumerable: !!e, configurable: true });
const dom = (m, n) => new DOMEx(m, n);
const illegal = t => { if (t !== RAW) throw new TypeError('Illegal constructor'); };
const need = (a, n, w) => {
  if (a.length < n) throw new TypeError(`${w}: ${n} argument${n > 1 ? 's' : ''} required, but only ${a.length} present`);
};
const usv = s => `${s}`.toWellFormed();
const ctorName = v => {
  try { const p = protoOf(v); if (p === null) return null; const c = p.constructor; return typeof c === 'function' && c.name || 'Object'; }
  catch { return 'Object'; }
};
const typeName = v => v === null ? 'null' : typeof v === 'object' ? ctorName(v) || 'Object' : typeof v;
const dict = (v, w) => {
  if (v == null) return {};
  if (typeof v !== 'object' && typeof v !== 'function') throw new TypeError(`${w} must be an object`);
  return v;
};
const cleanStack = s => s.split('\n').filter(l => !l.includes(PRELUDE)).join('\n');

// ---- bytes ------------------------------------------------------------------
const isAB = v => v instanceof ArrayBuffer || toStr.call(v) === '[object ArrayBuffer]';
const view = v => isAB(v) ? new Uint8Array(v) : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : null;
const bytesOf = (v, w) => {
  const u = view(v);
  if (!u) throw new TypeError(`${w} must be an ArrayBuffer or ArrayBufferView, got ${typeName(v)}`);
  return u;
};
const toAB = u => u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u.buffer : u.slice().buffer;
const enc = s => H.utf8Encode(usv(s)); // the native encoder would emit WTF-8 for lone surrogates
const dec = (u, fatal) => H.utf8Decode(u, !!fatal);
const utf8 = u => dec(u[0] === 0xef && u[1] === 0xbb && u[2] === 0xbf ? u.subarray(3) : u); // "UTF-8 decode" drops a BOM
const b64 = u => {
  let s = '';
  for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode.apply(null, u.subarray(i, i + 8192));
  return btoa(s);
};

// ---- host ops -----------------------------------------------------------------
const hcall = (op, arg, b) => H.call(op, jstr(arg), b);
let pending = new Map();
const hstart = (op, arg, b, ok, err) => { const id = H.start(op, arg, b); pending.set(id, { ok, err }); return id; };
const op = (name, arg, b) => new Promise((res, rej) => hstart(name, arg, b, (m, x) => res([m, x]), m => rej(new Error(m))));

// ---- lazy parts ----------------------------------------------------------------
// Bigger APIs (streams, forms, Buffer, WebCrypto) live in prelude-NAME.js and
// are evaluated on first use, so the base snapshot and start-up only carry
// what every function needs. Each file is a function of the internals (I).
const mods = {};
let I;
const lazy = n => mods[n] ??= H.lazy(n)(I);
// A global that loads its module when first read, then becomes a plain value.
const lazyGlobal = (k, n) => dp(G, k, {
  get() { const v = lazy(n)[k]; def(G, k, v); return v; },
  set(v) { def(G, k, v); },
  configurable: true,
});

// ---- timers -------------------------------------------------------------------
const mono = () => H.monotonic();
let timers = new Map(), timerId = 0, timerSeq = 0;
function addTimer(w, fn, ms, args, repeat) {
  if (typeof fn !== 'function') throw new TypeError(`${w}: the callback must be a function`);
  ms = +ms;
  if (!(ms > 0)) ms = 0; else if (ms > 2147483647) ms = 2147483647;
  const id = ++timerId;
  timers.set(id, { fn, args, ms, repeat, due: mono() + ms, seq: ++timerSeq });
  return id;
}
function setTimeout(fn, ms, ...args) { return addTimer('setTimeout', fn, ms, args, false); }
function setInterval(fn, ms, ...args) { return addTimer('setInterval', fn, ms, args, true); }
function clearTimeout(id) { if (id != null) timers.delete(+id); }
const clearInterval = clearTimeout;
function nextTimer() {
  let min = Infinity;
  for (const t of timers.values()) if (t.due < min) min = t.due;
  return min === Infinity ? -1 : Math.max(0, Math.ceil(min - mono()));
}
function tick() {
  const now = mono();
  const due = [...timers].filter(e => e[1].due <= now).sort((a, b) => a[1].due - b[1].due || a[1].seq - b[1].seq);
  for (const [id, t] of due) {
    if (timers.get(id) !== t) continue; // cleared by an earlier callback
    if (t.repeat) { t.due = now + t.ms; t.seq = ++timerSeq; } else timers.delete(id);
    try { t.fn.apply(G, t.args); } catch (e) { console.error('Uncaught', e); }
  }
}

// ---- console ------------------------------------------------------------------
const MAXDEPTH = 4, MAXITEMS = 100;
const IDENT = /^[A-Za-z_$][\w$]*$/;
const num = n => Object.is(n, -0) ? '-0' : String(n);
const quote = s => { const q = jstr(s); return s.includes("'") ? q : `'${q.slice(1, -1).replace(/\\"/g, '"')}'`; };
const fnText = v => {
  const t = toStr.call(v).slice(8, -1), n = v.name;
  let cls = false;
  try { cls = Function.prototype.toString.call(v).startsWith('class'); } catch {}
  if (cls) return `[class ${n || '(anonymous)'}]`;
  return `[${t === 'Object' ? 'Function' : t}${n ? ': ' + n : ' (anonymous)'}]`;
};
const errHead = e => {
  let h = 'Error';
  try { h = String(e.name ?? 'Error'); const m = e.message; if (m !== undefined && m !== '') h += ': ' + m; } catch {}
  return h;
};
function errText(e, d, seen) {
  const h = errHead(e);
  let s = '';
  try { if (typeof e.stack === 'string') s = cleanStack(e.stack).replace(/\s+$/, ''); } catch {}
  s = !s ? h : s.startsWith(h) ? s : h + '\n' + s;
  try { if (e.cause !== undefined) s += '\n  [cause]: ' + fmt(e.cause, d + 1, seen); } catch {}
  return s;
}
const list = (items, more) => {
  if (more > 0) items.push(`... ${more} more item${more > 1 ? 's' : ''}`);
  return items.length ? `[ ${items.join(', ')} ]` : '[]';
};
function fmt(v, d, seen) {
  switch (typeof v) {
    case 'string': return quote(v);
    case 'number': return num(v);
    case 'bigint': return v + 'n';
    case 'symbol': return v.toString();
    case 'function': return fnText(v);
    case 'object': break;
    default: return String(v);
  }
  if (v === null) return 'null';
  if (seen.includes(v)) return '[Circular]';
  if (v instanceof Error || toStr.call(v) === '[object Error]') return d ? `[${errHead(v)}]` : errText(v, d, seen);
  if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
  if (v instanceof RegExp) return String(v);
  const name = ctorName(v);
  if (v instanceof Promise) return 'Promise {}';
  if (v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef) return `${name} { <items unknown> }`;
  for (const B of [Number, String, Boolean]) if (v instanceof B) return `[${B.name}: ${fmt(B.prototype.valueOf.call(v), 1, seen)}]`;
  if (d >= MAXDEPTH) return Array.isArray(v) ? '[Array]' : `[${name || 'Object'}]`;
  seen = [...seen, v];
  if (isAB(v)) {
    const u = new Uint8Array(v, 0, Math.min(v.byteLength, 50));
    return `ArrayBuffer { [Uint8Contents]: <${Array.from(u, b => (b + 256).toString(16).slice(1)).join(' ')}${v.byteLength > 50 ? ' ...' : ''}>, byteLength: ${v.byteLength} }`;
  }
  if (ArrayBuffer.isView(v)) {
    if (v instanceof DataView) return `DataView { byteLength: ${v.byteLength}, byteOffset: ${v.byteOffset} }`;
    return `${v[Symbol.toStringTag]}(${v.length}) ${list(Array.from(v.subarray(0, MAXITEMS), x => fmt(x, d + 1, seen)), v.length - MAXITEMS)}`;
  }
  if (Array.isArray(v)) {
    const out = [], n = Math.min(v.length, MAXITEMS);
    for (let i = 0; i < n; i++) {
      if (i in v) { out.push(fmt(v[i], d + 1, seen)); continue; }
      let j = i; while (j < n && !(j in v)) j++;
      out.push(`<${j - i} empty item${j - i > 1 ? 's' : ''}>`); i = j - 1;
    }
    return list(out, v.length - n);
  }
  if (v instanceof Map || v instanceof Set) {
    const out = [];
    for (const e of v) { if (out.length >= MAXITEMS) break; out.push(v instanceof Map ? `${fmt(e[0], d + 1, seen)} => ${fmt(e[1], d + 1, seen)}` : fmt(e, d + 1, seen)); }
    if (v.size > MAXITEMS) out.push(`... ${v.size - MAXITEMS} more items`);
    return `${name}(${v.size}) ${out.length ? `{ ${out.join(', ')} }` : '{}'}`;
  }
  if (typeof v[INSPECT] === 'function') return `${name} ${fmtProps(v[INSPECT](), d, seen)}`;
  const pre = name === null ? '[Object: null prototype] ' : name !== 'Object' ? name + ' ' : '';
  return pre + fmtProps(v, d, seen);
}
function fmtProps(v, d, seen) {
  const out = [];
  for (const k of Reflect.ownKeys(v)) {
    const desc = Object.getOwnPropertyDescriptor(v, k);
    if (!desc || !desc.enumerable) continue;
    const key = typeof k === 'symbol' ? `[${k.toString()}]` : IDENT.test(k) ? k : quote(k);
    out.push(key + ': ' + ('value' in desc ? fmt(desc.value, d + 1, seen) : desc.get ? (desc.set ? '[Getter/Setter]' : '[Getter]') : '[Setter]'));
  }
  return out.length ? `{ ${out.join(', ')} }` : '{}';
}
const show = v => typeof v === 'string' ? v : fmt(v, 0, []);
function format(a) {
  let s = '', i = 0;
  if (typeof a[0] === 'string' && a.length > 1) {
    i = 1;
    s = a[0].replace(/%([sdifjoOc%])/g, (m, c) => {
      if (c === '%') return '%';
      if (i >= a.length) return m;
      const v = a[i++];
      switch (c) {
        case 's': return typeof v === 'object' && v !== null ? fmt(v, MAXDEPTH - 1, []) : show(v);
        case 'd': return typeof v === 'bigint' ? v + 'n' : typeof v === 'symbol' ? 'NaN' : num(Number(v));
        case 'i': return typeof v === 'bigint' ? v + 'n' : typeof v === 'symbol' ? 'NaN' : num(parseInt(v));
        case 'f': return typeof v === 'symbol' ? 'NaN' : num(parseFloat(v));
        case 'j': try { return String(jstr(v)); } catch { return '[Circular]'; }
        case 'c': return '';
        default: return fmt(v, 0, []);
      }
    });
  } else if (a.length) s = show(a[i++]);
  for (; i < a.length; i++) s += ' ' + show(a[i]);
  return s;
}
let indent = '';
const counts = new Map(), marks = new Map();
function emit(level, a) {
  let m;
  try { m = format(a); } catch (e) { m = '[log message could not be formatted]'; }
  H.log(level, indent ? indent + m.replaceAll('\n', '\n' + indent) : m);
}
const console = {};
for (const [k, l] of [['debug', 0], ['log', 1], ['info', 1], ['warn', 2], ['error', 3]]) def(console, k, { [k](...a) { emit(l, a); } }[k], true);
Object.assign(console, {
  trace(...a) {
    const st = cleanStack(new Error().stack || '').split('\n').filter(l => /^\s+at /.test(l)).join('\n');
    emit(1, ['Trace' + (a.length ? ': ' + format(a) : '') + (st ? '\n' + st : '')]);
  },
  assert(ok, ...a) {
    if (ok) return;
    emit(3, typeof a[0] === 'string' ? ['Assertion failed: ' + a[0], ...a.slice(1)] : ['Assertion failed', ...a]);
  },
  dir(v) { emit(1, [fmt(v, 0, [])]); },
  count(l = 'default') { l = `${l}`; const n = (counts.get(l) || 0) + 1; counts.set(l, n); emit(1, [`${l}: ${n}`]); },
  countReset(l = 'default') { counts.delete(`${l}`); },
  time(l = 'default') { l = `${l}`; if (marks.has(l)) emit(2, [`Warning: Label '${l}' already exists for console.time()`]); else marks.set(l, mono()); },
  timeLog(l = 'default', ...a) { timeMsg(`${l}`, 'timeLog', a, false); },
  timeEnd(l = 'default') { timeMsg(`${l}`, 'timeEnd', [], true); },
  group(...a) { if (a.length) emit(1, a); indent += '  '; },
  groupCollapsed(...a) { console.group(...a); },
  groupEnd() { indent = indent.slice(2); },
});
function timeMsg(l, w, a, end) {
  if (!marks.has(l)) return emit(2, [`Warning: No such label '${l}' for console.${w}()`]);
  emit(1, [`${l}: ${(mono() - marks.get(l)).toFixed(3)}ms`, ...a]);
  if (end) marks.delete(l);
}

// ---- Event / EventTarget / AbortSignal ------------------------------------
let evSet;
class Event {
  #type; #init; #def = false; #stop = false; #target = null; #cur = null; #ts;
  static { evSet = (e, t, c, s) => { if (t !== undefined) e.#target = t; e.#cur = c; if (s !== undefined) e.#stop = s; return e.#stop; }; }
  constructor(type, init) {
    need(arguments, 1, 'Event');
    this.#type = `${type}`;
    init = dict(init, 'Event: init');
    this.#init = { bubbles: !!init.bubbles, cancelable: !!init.cancelable, composed: !!init.composed };
    this.#ts = performance.now();
  }
  get type() { return this.#type; }
  get bubbles() { return this.#init.bubbles; }
  get cancelable() { return this.#init.cancelable; }
  get composed() { return this.#init.composed; }
  get defaultPrevented() { return this.#def; }
  get returnValue() { return !this.#def; }
  get target() { return this.#target; }
  get currentTarget() { return this.#cur; }
  get srcElement() { return this.#target; }
  get eventPhase() { return this.#cur ? 2 : 0; }
  get timeStamp() { return this.#ts; }
  get isTrusted() { return false; }
  composedPath() { return this.#cur ? [this.#cur] : []; }
  preventDefault() { if (this.#init.cancelable) this.#def = true; }
  stopPropagation() {}
  stopImmediatePropagation() { this.#stop = true; }
  [INSPECT]() { return { type: this.#type, defaultPrevented: this.#def, cancelable: this.#init.cancelable, timeStamp: this.#ts }; }
}
const capOf = o => typeof o === 'boolean' ? o : !!(o && typeof o === 'object' && o.capture);
class EventTarget {
  #ls = new Map();
  addEventListener(type, cb, opts) {
    need(arguments, 2, 'EventTarget.addEventListener');
    if (cb == null) return;
    if (typeof cb !== 'function' && typeof cb !== 'object') throw new TypeError('EventTarget.addEventListener: the listener must be a function or an object with handleEvent');
    type = `${type}`;
    const o = opts && typeof opts === 'object' ? opts : {}, capture = capOf(opts), signal = o.signal;
    if (signal != null && !(signal instanceof AbortSignal)) throw new TypeError('EventTarget.addEventListener: signal must be an AbortSignal');
    if (signal?.aborted) return;
    let l = this.#ls.get(type);
    if (!l) this.#ls.set(type, l = []);
    if (l.some(e => e.cb === cb && e.capture === capture)) return;
    l.push({ cb, capture, once: !!o.once });
    if (signal) signal.addEventListener('abort', () => this.removeEventListener(type, cb, capture));
  }
  removeEventListener(type, cb, opts) {
    need(arguments, 2, 'EventTarget.removeEventListener');
    const l = this.#ls.get(`${type}`), capture = capOf(opts);
    const i = l ? l.findIndex(e => e.cb === cb && e.capture === capture) : -1;
    if (i >= 0) { l[i].removed = true; l.splice(i, 1); }
  }
  dispatchEvent(ev) {
    if (!(ev instanceof Event)) throw new TypeError('EventTarget.dispatchEvent: the argument must be an Event');
    if (ev.currentTarget) throw dom('The event is already being dispatched', 'InvalidStateError');
    evSet(ev, this, this, false);
    const h = this[`on${ev.type}`];
    const ls = [...(typeof h === 'function' ? [{ cb: h }] : []), ...(this.#ls.get(ev.type) || [])];
    for (const e of ls) {
      if (e.removed) continue;
      if (e.once) this.removeEventListener(ev.type, e.cb, e.capture);
      try {
        if (typeof e.cb === 'function') e.cb.call(this, ev);
        else if (typeof e.cb.handleEvent === 'function') e.cb.handleEvent(ev);
      } catch (err) { console.error('Uncaught', err); }
      if (evSet(ev, undefined, this)) break;
    }
    evSet(ev, undefined, null);
    return !ev.defaultPrevented;
  }
}
let abortSig, newSig;
class AbortSignal extends EventTarget {
  #aborted = false; #reason = undefined; #on = null;
  static {
    newSig = () => new AbortSignal(RAW);
    abortSig = (s, r) => {
      if (s.#aborted) return;
      s.#aborted = true;
      s.#reason = r === undefined ? dom('This operation was aborted', 'AbortError') : r;
      s.dispatchEvent(new Event('abort'));
    };
  }
  constructor(t) { illegal(t); super(); }
  get aborted() { return this.#aborted; }
  get reason() { return this.#reason; }
  get onabort() { return this.#on; }
  set onabort(f) { this.#on = typeof f === 'function' ? f : null; }
  throwIfAborted() { if (this.#aborted) throw this.#reason; }
  static abort(reason) { const s = newSig(); abortSig(s, reason); return s; }
  static timeout(ms) {
    ms = Number(ms);
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError('AbortSignal.timeout: ms must be a non-negative finite number');
    const s = newSig();
    setTimeout(() => abortSig(s, dom('The operation was aborted due to timeout', 'TimeoutError')), ms);
    return s;
  }
  static any(signals) {
    const s = newSig(), all = [...signals];
    for (const x of all) if (!(x instanceof AbortSignal)) throw new TypeError('AbortSignal.any: every item must be an AbortSignal');
    const done = all.find(x => x.aborted);
    if (done) abortSig(s, done.reason);
    else for (const x of all) x.addEventListener('abort', () => abortSig(s, x.reason), { once: true });
    return s;
  }
  [INSPECT]() { return { aborted: this.#aborted }; }
}
class AbortController {
  #s = newSig();
  get signal() { return this.#s; }
  abort(reason) { abortSig(this.#s, reason); }
  [INSPECT]() { return { signal: this.#s }; }
}

// ---- Headers ------------------------------------------------------------------
const TOKEN = /^[!#$%&'*+\-.^_`|~\w]+$/;
// Names already validated, to their lowercase form. Filled with common
// names before the snapshot, so fresh sandboxes skip the regex for them.
const NAMES = new Map();
const hName = n => {
  const known = NAMES.get(n);
  if (known !== undefined) return known;
  n = `${n}`;
  if (!TOKEN.test(n)) throw new TypeError(`Invalid header name: ${jstr(n)}`);
  const lower = n.toLowerCase();
  if (NAMES.size < 1024) NAMES.set(n, lower);
  return lower;
};
for (const n of ['accept', 'accept-encoding', 'accept-language', 'authorization', 'cache-control', 'connection',
  'content-encoding', 'content-length', 'content-type', 'cookie', 'date', 'etag', 'host', 'if-none-match',
  'last-modified', 'location', 'origin', 'referer', 'set-cookie', 'user-agent', 'vary', 'x-forwarded-for',
  'x-request-id', 'Content-Type', 'Authorization', 'Accept', 'Location', 'Cache-Control', 'Set-Cookie']) hName(n);
// Most values need neither trimming nor rejecting: one regex decides.
const PLAIN_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;
const hValue = v => {
  v = `${v}`;
  if (PLAIN_VALUE.test(v)) return v;
  v = v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (/[\0\r\n]|[^\0-\xff]/.test(v)) throw new TypeError(`Invalid header value: ${jstr(v)}`);
  return v;
};
const pairsOf = (init, w) => {
  const out = [];
  for (const p of init) {
    const a = p != null && typeof p === 'object' && typeof p[Symbol.iterator] === 'function' ? [...p] : null;
    if (!a || a.length !== 2) throw new TypeError(`${w}: each item must be a [name, value] pair`);
    out.push(a);
  }
  return out;
};
const sortedPairs = l => {
  const out = [];
  for (const n of [...new Set(l.map(e => e[0]))].sort()) {
    const vs = l.filter(e => e[0] === n).map(e => e[1]);
    if (n === 'set-cookie') for (const v of vs) out.push([n, v]); else out.push([n, vs.join(', ')]);
  }
  return out;
};
// Sets the first entry named n to v and drops the other entries with that name (in place).
const replaceFirst = (l, n, v) => {
  const i = l.findIndex(e => e[0] === n);
  if (i < 0) return l.push([n, v]);
  l[i] = [n, v];
  for (let j = l.length - 1; j > i; j--) if (l[j][0] === n) l.splice(j, 1);
};
let hList, hLocked, hFrom, hAdopt, hDefault;
class Headers {
  #l = []; #lock = false;
  static {
    hList = h => h.#l;
    hLocked = h => h.#lock;
    // A body's default content type, unless one is set (name and value are ours: no checks).
    hDefault = (h, type) => { if (type && !h.#l.some(e => e[0] === 'content-type')) h.#l.push(['content-type', type]); };
    // The host's list of an incoming request: lowercase names, string values.
    hAdopt = (pairs, lock) => { const h = new Headers(); h.#l = pairs; h.#lock = lock; return h; };
    hFrom = (pairs, lock) => { const h = new Headers(); h.#l = pairs.map(p => [`${p[0]}`.toLowerCase(), `${p[1]}`]); h.#lock = !!lock; return h; };
  }
  constructor(init) {
    if (init == null) return;
    if (init instanceof Headers) { this.#l = init.#l.map(e => [...e]); return; }
    if (typeof init !== 'object' && typeof init !== 'function') throw new TypeError('Headers: init must be an object, an array of [name, value] pairs or a Headers');
    if (typeof init[Symbol.iterator] === 'function') for (const [n, v] of pairsOf(init, 'Headers')) this.append(n, v);
    else for (const k of okeys(init)) this.append(k, init[k]);
  }
  #w() { if (this.#lock) throw new TypeError("Can't modify immutable headers."); }
  append(n, v) { need(arguments, 2, 'Headers.append'); n = hName(n); v = hValue(v); this.#w(); this.#l.push([n, v]); }
  delete(n) { need(arguments, 1, 'Headers.delete'); n = hName(n); this.#w(); this.#l = this.#l.filter(e => e[0] !== n); }
  get(n) {
    need(arguments, 1, 'Headers.get'); n = hName(n);
    const vs = this.#l.filter(e => e[0] === n).map(e => e[1]);
    return vs.length ? vs.join(', ') : null;
  }
  getSetCookie() { return this.#l.filter(e => e[0] === 'set-cookie').map(e => e[1]); }
  has(n) { need(arguments, 1, 'Headers.has'); n = hName(n); return this.#l.some(e => e[0] === n); }
  set(n, v) {
    need(arguments, 2, 'Headers.set'); n = hName(n); v = hValue(v); this.#w();
    replaceFirst(this.#l, n, v);
  }
  forEach(cb, thisArg) {
    if (typeof cb !== 'function') throw new TypeError('Headers.forEach: the callback must be a function');
    for (const [n, v] of sortedPairs(this.#l)) cb.call(thisArg, v, n, this);
  }
  *entries() { yield* sortedPairs(this.#l); }
  *keys() { for (const e of sortedPairs(this.#l)) yield e[0]; }
  *values() { for (const e of sortedPairs(this.#l)) yield e[1]; }
  [Symbol.iterator]() { return this.entries(); }
  [INSPECT]() { return Object.fromEntries(sortedPairs(this.#l)); }
}

// ---- URLSearchParams / URL ------------------------------------------------------
const hexv = c => c >= 48 && c <= 57 ? c - 48 : (c |= 32) >= 97 && c <= 102 ? c - 87 : -1;
const pctDecode = s => {
  s = s.replaceAll('+', ' ');
  if (!s.includes('%')) return s;
  const u = enc(s), out = new Uint8Array(u.length);
  let o = 0;
  for (let i = 0; i < u.length; i++) {
    let h, l;
    if (u[i] === 37 && i + 2 < u.length && (h = hexv(u[i + 1])) >= 0 && (l = hexv(u[i + 2])) >= 0) { out[o++] = h * 16 + l; i += 2; }
    else out[o++] = u[i];
  }
  return dec(out.subarray(0, o));
};
const parseQS = s => {
  const l = [];
  for (const p of s.split('&')) {
    if (!p) continue;
    const i = p.indexOf('=');
    l.push(i < 0 ? [pctDecode(p), ''] : [pctDecode(p.slice(0, i)), pctDecode(p.slice(i + 1))]);
  }
  return l;
};
const formEnc = s => encodeURIComponent(s).replace(/%20|[!'()~]/g, c => c === '%20' ? '+' : '%' + c.charCodeAt(0).toString(16).toUpperCase());
let uspBind, uspLoad, urlQuery;
class URLSearchParams {
  #l = []; #u = null;
  static {
    uspBind = (p, u) => { p.#u = u; return p; };
    uspLoad = (p, q) => { p.#l = parseQS(q.replace(/^\?/, '')); };
  }
  constructor(init = '') {
    if (init !== null && (typeof init === 'object' || typeof init === 'function')) {
      if (typeof init[Symbol.iterator] === 'function') this.#l = pairsOf(init, 'URLSearchParams').map(([n, v]) => [usv(n), usv(v)]);
      else this.#l = okeys(init).map(k => [usv(k), usv(init[k])]);
    } else this.#l = parseQS(usv(init).replace(/^\?/, ''));
  }
  #up() { if (this.#u) urlQuery(this.#u, this.toString()); }
  get size() { return this.#l.length; }
  append(n, v) { need(arguments, 2, 'URLSearchParams.append'); this.#l.push([usv(n), usv(v)]); this.#up(); }
  delete(n, v) {
    need(arguments, 1, 'URLSearchParams.delete'); n = usv(n);
    if (v !== undefined) v = usv(v);
    this.#l = this.#l.filter(e => e[0] !== n || (v !== undefined && e[1] !== v));
    this.#up();
  }
  get(n) { need(arguments, 1, 'URLSearchParams.get'); n = usv(n); const e = this.#l.find(e => e[0] === n); return e ? e[1] : null; }
  getAll(n) { need(arguments, 1, 'URLSearchParams.getAll'); n = usv(n); return this.#l.filter(e => e[0] === n).map(e => e[1]); }
  has(n, v) {
    need(arguments, 1, 'URLSearchParams.has'); n = usv(n);
    if (v !== undefined) v = usv(v);
    return this.#l.some(e => e[0] === n && (v === undefined || e[1] === v));
  }
  set(n, v) {
    need(arguments, 2, 'URLSearchParams.set'); n = usv(n); v = usv(v);
    replaceFirst(this.#l, n, v);
    this.#up();
  }
  sort() { this.#l.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0); this.#up(); }
  forEach(cb, thisArg) {
    if (typeof cb !== 'function') throw new TypeError('URLSearchParams.forEach: the callback must be a function');
    for (let i = 0; i < this.#l.length; i++) cb.call(thisArg, this.#l[i][1], this.#l[i][0], this);
  }
  *entries() { for (let i = 0; i < this.#l.length; i++) yield [...this.#l[i]]; }
  *keys() { for (let i = 0; i < this.#l.length; i++) yield this.#l[i][0]; }
  *values() { for (let i = 0; i < this.#l.length; i++) yield this.#l[i][1]; }
  [Symbol.iterator]() { return this.entries(); }
  toString() { return this.#l.map(([n, v]) => formEnc(n) + '=' + formEnc(v)).join('&'); }
  [INSPECT]() { const o = {}; for (const [n, v] of this.#l) def(o, n, v, true); return o; }
}
const URL_PARTS = ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
const parseURL = (input, base) => {
  let r;
  try { r = jparse(dec(hcall('url_parse', { input, base }))); } catch { throw new TypeError(`Invalid URL: ${input}`); }
  return r;
};
let urlRec, urlSet;
class URL {
  #r; #q = null;
  static {
    urlRec = u => u.#r;
    // Applies a URL setter through the host; href failures throw, the others are ignored (as in the spec).
    urlSet = (u, k, v) => {
      const href = u.#r.href;
      v = usv(v);
      let r;
      try { r = jparse(dec(hcall('url_set', { href, component: k, value: v }))); }
      catch { if (k === 'href') throw new TypeError(`Invalid URL: ${v}`); return; }
      u.#r = r;
      if (u.#q && (k === 'href' || k === 'search')) uspLoad(u.#q, r.search);
    };
    urlQuery = (u, q) => {
      try { u.#r = jparse(dec(hcall('url_set', { href: u.#r.href, component: 'search', value: q }))); } catch {}
    };
  }
  constructor(url, base) {
    need(arguments, 1, 'URL');
    this.#r = parseURL(usv(url), base === undefined ? null : usv(base));
  }
  get origin() { return this.#r.origin; }
  get searchParams() { return this.#q ??= uspBind(new URLSearchParams(this.#r.search), this); }
  toString() { return this.#r.href; }
  toJSON() { return this.#r.href; }
  static canParse(url, base) {
    need(arguments, 1, 'URL.canParse');
    try { parseURL(usv(url), base === undefined ? null : usv(base)); return true; } catch { return false; }
  }
  static parse(url, base) {
    need(arguments, 1, 'URL.parse');
    try { return new URL(url, base); } catch { return null; }
  }
  [INSPECT]() { const r = this.#r, o = { href: r.href, origin: r.origin }; for (const k of URL_PARTS.slice(1)) o[k] = r[k]; return o; }
}
for (const k of URL_PARTS)
  dp(URL.prototype, k, { get() { return urlRec(this)[k]; }, set(v) { urlSet(this, k, v); }, enumerable: true, configurable: true });

// ---- Body / Request / Response ------------------------------------------------
const NULL_BODY = [101, 103, 204, 205, 304];
// A body's bytes; its default content type is left in xType ('' for none).
// (No [bytes, type] pair: array destructuring is slow in QuickJS.)
let xType = '';
const TEXT = 'text/plain;charset=UTF-8';
// Returns bytes, or a ReadableStream for a stream body.
function extract(v) {
  xType = '';
  if (v == null) return null;
  if (typeof v === 'string') { xType = TEXT; return enc(v); }
  if (v instanceof URLSearchParams) { xType = 'application/x-www-form-urlencoded;charset=UTF-8'; return enc(v.toString()); }
  const u = view(v);
  if (u) return u.slice();
  // No FormData, Blob or stream can exist before its module loaded.
  if (mods.form) { const f = mods.form.extractForm(v); if (f) { xType = f[1]; return f[0]; } }
  if (mods.streams && mods.streams.isStream(v)) return v;
  xType = TEXT;
  return enc(v);
}
// A body is bytes (#b) or a ReadableStream (#s); reading `body` turns bytes
// into a stream. The host only ever sees bytes: stream bodies are drained first.
let bodyOf, bodySet, bodyStream, bodySplit;
class Body {
  #b = null; #s = null; #used = false;
  static {
    bodyOf = o => o.#b;
    bodyStream = o => o.#s;
    bodySet = (o, b, used) => {
      if (b && !(b instanceof Uint8Array)) { o.#s = b; o.#b = null; } else { o.#b = b; o.#s = null; }
      if (used !== undefined) o.#used = used;
    };
    // For clone(): the body to give the copy (a stream body is teed).
    bodySplit = o => {
      if (!o.#s) return o.#b;
      const [a, b] = o.#s.tee();
      o.#s = a;
      return b;
    };
  }
  get body() {
    if (this.#s || !this.#b) return this.#s;
    this.#s = lazy('streams').streamOf(this.#b);
    this.#b = null;
    return this.#s;
  }
  get bodyUsed() { return this.#used || (this.#s !== null && mods.streams.disturbed(this.#s)); }
  #take(w) {
    if (this.bodyUsed) return Promise.reject(new TypeError(`${w}: body has already been used; call clone() before reading a body twice`));
    if (this.#s) {
      if (this.#s.locked) return Promise.reject(new TypeError(`${w}: the body stream is locked by a reader`));
      this.#used = true;
      return mods.streams.readAll(this.#s);
    }
    if (this.#b) this.#used = true;
    return Promise.resolve(this.#b || new Uint8Array(0));
  }
  arrayBuffer() { return this.#take('arrayBuffer').then(b => b.slice().buffer); }
  bytes() { return this.#take('bytes').then(b => b.slice()); }
  text() { return this.#take('text').then(utf8); }
  json() { return this.#take('json').then(b => jparse(utf8(b))); }
  blob() {
    const t = this.headers.get('content-type') ?? '';
    return this.#take('blob').then(b => new (lazy('form').Blob)([b], { type: t }));
  }
  formData() {
    const t = this.headers.get('content-type');
    return this.#take('formData').then(b => lazy('form').parseForm(b, t));
  }
}
// A stream body read to the end, left as bytes (before the host gets it).
const drain = o => bodyStream(o) ? mods.streams.readAll(bodyStream(o)).then(b => { bodySet(o, b); return o; }) : o;
const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const normMethod = m => {
  m = `${m}`;
  if (!TOKEN.test(m)) throw new TypeError(`Invalid HTTP method: ${jstr(m)}`);
  const u = m.toUpperCase();
  if (['CONNECT', 'TRACE', 'TRACK'].includes(u)) throw new TypeError(`Forbidden HTTP method: ${m}`);
  return METHODS.includes(u) ? u : m;
};
class Request extends Body {
  // #h: a Headers, or (an incoming request not looked at yet) the host's
  // header list as JSON text, parsed on first read.
  #m; #u; #h; #r; #s;
  constructor(input, init) {
    if (input === RAW) {
      super();
      // Plain assignments: destructuring into private fields is slower in QuickJS.
      this.#m = init.m; this.#u = init.u; this.#h = init.h; this.#r = init.r; this.#s = init.s;
      if (init.b) bodySet(this, init.b);
      return;
    }
    need(arguments, 1, 'Request');
    super();
    init = dict(init, 'Request: init');
    const src = input instanceof Request ? input : null;
    const url = src ? src.#u : parseURL(usv(input), null).href;
    const m = init.method !== undefined ? normMethod(init.method) : src ? src.#m : 'GET';
    let r = src ? src.#r : 'follow';
    if (init.redirect !== undefined) {
      r = `${init.redirect}`;
      if (!['follow', 'error', 'manual'].includes(r)) throw new TypeError(`Request: invalid redirect mode ${jstr(r)} (expected "follow", "error" or "manual")`);
    }
    const s = init.signal !== undefined ? init.signal : src ? src.#s : null;
    if (s != null && !(s instanceof AbortSignal)) throw new TypeError('Request: signal must be an AbortSignal');
    const h = new Headers(init.headers !== undefined ? init.headers : src ? src.headers : undefined);
    let b = extract(init.body);
    const type = xType;
    if (!b && init.body == null && src && (bodyOf(src) || bodyStream(src))) {
      if (src.bodyUsed) throw new TypeError('Request: cannot construct a Request from a Request whose body has already been used');
      b = bodyOf(src) || bodyStream(src);
      bodySet(src, bodyOf(src), true); // the body moves to the new Request
    }
    if (b && (m === 'GET' || m === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body.');
    hDefault(h, type);
    this.#m = m; this.#u = url; this.#h = h; this.#r = r; this.#s = s;
    bodySet(this, b);
  }
  get method() { return this.#m; }
  get url() { return this.#u; }
  get headers() {
    const h = this.#h;
    return typeof h === 'string' ? (this.#h = hAdopt(jparse(h), true)) : h;
  }
  get redirect() { return this.#r; }
  get signal() { return this.#s ??= newSig(); }
  clone() {
    if (this.bodyUsed) throw new TypeError('Request.clone: body has already been used');
    const h = hFrom(hList(this.headers), hLocked(this.headers));
    return new Request(RAW, { m: this.#m, u: this.#u, h, r: this.#r, s: this.#s, b: bodySplit(this) });
  }
  [INSPECT]() { return { method: this.#m, url: this.#u, headers: this.headers, redirect: this.#r, bodyUsed: this.bodyUsed }; }
}
let resParts, resTyped;
class Response extends Body {
  // #h: a Headers, or (no headers given and none read yet) the body's
  // default content type as a string ('' for none): most responses are built
  // and sent without anyone looking at their headers.
  #s = 200; #t = ''; #h; #type = 'default'; #url = ''; #red = false;
  static {
    // What the host sends: [status, statusText, header pairs or the lone content type, body bytes or null].
    resParts = r => [r.#s, r.#t, typeof r.#h === 'string' ? r.#h : hList(r.#h), bodyOf(r)];
    resTyped = r => {
      if (typeof r.#h !== 'string') return r.#h.has('content-type');
      if (!r.#h) r.#h = 'application/json';
      return true;
    };
  }
  constructor(body = null, init) {
    super();
    if (body === RAW) {
      this.#s = init.s; this.#h = init.h;
      if (init.t) this.#t = init.t;
      if (init.type) this.#type = init.type;
      if (init.url) this.#url = init.url;
      if (init.red) this.#red = true;
      if (init.b) bodySet(this, init.b);
      return;
    }
    let h;
    if (init != null) {
      init = dict(init, 'Response: init');
      const s = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(s) || s < 200 || s > 599) throw new RangeError(`Response: status must be an integer in the range 200 to 599, got ${fmt(init.status, 1, [])}`);
      const t = init.statusText === undefined ? '' : `${init.statusText}`;
      if (t && /[\r\n]|[^\0-\xff]/.test(t)) throw new TypeError(`Response: invalid statusText ${jstr(t)}`);
      if (init.headers !== undefined) h = new Headers(init.headers);
      this.#s = s; this.#t = t;
    }
    const b = extract(body);
    if (b && NULL_BODY.includes(this.#s)) throw new TypeError(`Response with null body status ${this.#s} cannot have a body`);
    if (h) hDefault(h, xType);
    this.#h = h || xType;
    if (b) bodySet(this, b);
  }
  get status() { return this.#s; }
  get statusText() { return this.#t; }
  get ok() { return this.#s >= 200 && this.#s <= 299; }
  get headers() {
    const h = this.#h;
    return typeof h === 'string' ? (this.#h = hAdopt(h ? [['content-type', h]] : [], false)) : h;
  }
  get type() { return this.#type; }
  get url() { return this.#url; }
  get redirected() { return this.#red; }
  clone() {
    if (this.bodyUsed) throw new TypeError('Response.clone: body has already been used');
    const h = hFrom(hList(this.headers), hLocked(this.headers));
    return new Response(RAW, { s: this.#s, t: this.#t, h, type: this.#type, url: this.#url, red: this.#red, b: bodySplit(this) });
  }
  static json(data, init) {
    const s = jstr(data);
    if (s === undefined) throw new TypeError(`Response.json: ${typeName(data)} is not JSON-serializable`);
    const r = new Response(enc(s), init);
    // Without init headers the type is the default (none for bytes): set it without building a Headers.
    if (!resTyped(r)) r.headers.set('content-type', 'application/json');
    return r;
  }
  static redirect(url, status = 302) {
    need(arguments, 1, 'Response.redirect');
    const u = parseURL(usv(url), null).href;
    status = Number(status);
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError(`Response.redirect: invalid redirect status ${fmt(status, 1, [])}`);
    return new Response(RAW, { s: status, h: hFrom([['location', u]], true) });
  }
  static error() { return new Response(RAW, { s: 0, h: hFrom([], true), type: 'error' }); }
  [INSPECT]() { return { status: this.#s, statusText: this.#t, ok: this.ok, headers: this.headers, url: this.#url, redirected: this.#red, bodyUsed: this.bodyUsed }; }
}

function fetch(input, init) {
  let req;
  try { req = new Request(input, init); } catch (e) { return Promise.reject(e); }
  return bodyStream(req) ? Promise.resolve(drain(req)).then(r => send(r)) : send(req);
}
// `via` = [binding name, path] sends through a service binding (the host
// joins the path below the binding's URL); the Response then has no URL.
function send(req, via) {
  return new Promise((res, rej) => {
    const sig = req.signal;
    if (sig.aborted) return rej(sig.reason);
    const parts = { method: req.method, headers: hList(req.headers), redirect: req.redirect };
    const arg = jstr(via ? { binding: via[0], path: via[1], ...parts } : { url: req.url, ...parts });
    const done = () => sig.removeEventListener('abort', onAbort);
    const id = hstart(via ? 'binding_fetch' : 'fetch', arg, bodyOf(req) ?? undefined, (meta, bytes) => {
      done();
      try {
        const m = jparse(meta), s = m.status;
        const b = NULL_BODY.includes(s) || req.method === 'HEAD' ? null : bytes || new Uint8Array(0);
        res(new Response(RAW, { s, t: m.statusText || '', h: hFrom(m.headers || [], true), url: via ? '' : m.url || req.url, red: !!m.redirected, b }));
      } catch (e) { rej(e); }
    }, msg => { done(); rej(new TypeError(msg)); });
    const onAbort = () => { pending.delete(id); rej(sig.reason); };
    sig.addEventListener('abort', onAbort);
  });
}

// ---- TextEncoder / TextDecoder -----------------------------------------------
class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(s = '') { return enc(s); }
  encodeInto(s, dest) {
    need(arguments, 2, 'TextEncoder.encodeInto');
    if (toStr.call(dest) !== '[object Uint8Array]') throw new TypeError('TextEncoder.encodeInto: destination must be a Uint8Array');
    s = usv(s);
    const u = enc(s);
    if (u.length <= dest.length) { dest.set(u); return { read: s.length, written: u.length }; }
    let read = 0, written = 0;
    for (const ch of s) {
      const c = ch.codePointAt(0), n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (written + n > dest.length) break;
      written += n; read += ch.length;
    }
    dest.set(u.subarray(0, written));
    return { read, written };
  }
  [INSPECT]() { return { encoding: 'utf-8' }; }
}
const UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8'];
// Length of an incomplete UTF-8 sequence at the end of u (held back while streaming).
const partialTail = u => {
  for (let i = u.length - 1, k = 1; i >= 0 && k <= 3; i--, k++) {
    const b = u[i];
    if ((b & 0xc0) === 0x80) continue;
    const n = b >= 0xf0 ? (b <= 0xf4 ? 4 : 0) : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    return n > k ? k : 0;
  }
  return 0;
};
class TextDecoder {
  #fatal; #ignoreBOM; #pend = null; #started = false;
  constructor(label = 'utf-8', opts) {
    const l = `${label}`.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase();
    if (!UTF8_LABELS.includes(l)) throw new RangeError(`TextDecoder: the encoding ${jstr(`${label}`)} is not supported (Quasm supports utf-8 only)`);
    opts = dict(opts, 'TextDecoder: options');
    this.#fatal = !!opts.fatal; this.#ignoreBOM = !!opts.ignoreBOM;
  }
  get encoding() { return 'utf-8'; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  decode(input, opts) {
    let u = input === undefined ? new Uint8Array(0) : bytesOf(input, 'TextDecoder.decode: input');
    const stream = !!dict(opts, 'TextDecoder.decode: options').stream;
    if (this.#pend) { const c = new Uint8Array(this.#pend.length + u.length); c.set(this.#pend); c.set(u, this.#pend.length); u = c; this.#pend = null; }
    if (stream) { const k = partialTail(u); if (k) { this.#pend = u.slice(u.length - k); u = u.subarray(0, u.length - k); } }
    if (!this.#started && u.length) {
      this.#started = true;
      if (!this.#ignoreBOM && u[0] === 0xef && u[1] === 0xbb && u[2] === 0xbf) u = u.subarray(3);
    }
    if (!stream) this.#started = false;
    try { return dec(u, this.#fatal); } catch (e) { this.#pend = null; this.#started = false; throw e; }
  }
  [INSPECT]() { return { encoding: 'utf-8', fatal: this.#fatal, ignoreBOM: this.#ignoreBOM }; }
}

// ---- structuredClone ------------------------------------------------------------
const ERRORS = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'];
const uncloneable = v => dom(`${typeof v === 'function' ? fnText(v) : typeof v === 'symbol' ? v.toString() : `#<${ctorName(v) || 'Object'}>`} could not be cloned.`, 'DataCloneError');
const dataProp = (o, k, v) => dp(o, k, { value: v, writable: true, enumerable: true, configurable: true });
let PLATFORM;
function clone(v, m) {
  if (typeof v === 'symbol' || typeof v === 'function') throw uncloneable(v);
  if (v === null || typeof v !== 'object') return v;
  if (m.has(v)) return m.get(v);
  let r;
  if (Array.isArray(v)) {
    m.set(v, r = new Array(v.length));
    for (const k of okeys(v)) dataProp(r, k, clone(v[k], m));
    return r;
  }
  if (v instanceof Date) r = new Date(v.getTime());
  else if (v instanceof RegExp) r = new RegExp(v.source, v.flags);
  else if (isAB(v)) r = v.slice(0);
  else if (ArrayBuffer.isView(v)) {
    const b = clone(v.buffer, m);
    r = v instanceof DataView ? new DataView(b, v.byteOffset, v.byteLength) : new G[v[Symbol.toStringTag]](b, v.byteOffset, v.length);
  } else if (v instanceof Map) {
    m.set(v, r = new Map());
    for (const [k, x] of v) r.set(clone(k, m), clone(x, m));
    return r;
  } else if (v instanceof Set) {
    m.set(v, r = new Set());
    for (const x of v) r.add(clone(x, m));
    return r;
  } else if (v instanceof DOMEx) r = dom(v.message, v.name);
  else if (v instanceof Error) {
    const n = v.name, C = G[ERRORS.includes(n) ? n : 'Error'];
    const own = Object.getOwnPropertyDescriptor(v, 'message');
    m.set(v, r = new C(own ? `${v.message}` : undefined));
    if (typeof v.stack === 'string') def(r, 'stack', v.stack);
    if (Object.hasOwn(v, 'cause')) def(r, 'cause', clone(v.cause, m));
    return r;
  } else if (v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt) r = Object(v.valueOf());
  else if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef || PLATFORM.some(C => v instanceof C) || okeys(mods).some(n => mods[n].PLATFORM.some(C => v instanceof C))) throw uncloneable(v);
  else {
    m.set(v, r = {});
    for (const k of okeys(v)) dataProp(r, k, clone(v[k], m));
    return r;
  }
  m.set(v, r);
  return r;
}
function structuredClone(v, opts) {
  need(arguments, 1, 'structuredClone');
  const tr = dict(opts, 'structuredClone: options').transfer, xfer = tr == null ? [] : [...tr];
  for (const [i, b] of xfer.entries()) {
    if (!isAB(b) || xfer.indexOf(b) !== i) throw dom('structuredClone: transfer must list distinct ArrayBuffers', 'DataCloneError');
    if (typeof b.transfer !== 'function') throw dom('structuredClone: transferring ArrayBuffers is not supported', 'DataCloneError');
  }
  const r = clone(v, new Map());
  for (const b of xfer) b.transfer(); // detach the originals, as a transfer does
  return r;
}

// ---- crypto ------------------------------------------------------------------------
const INT_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];
class Crypto {
  constructor(t) { illegal(t); }
  get subtle() { return lazy('crypto').subtle; }
  getRandomValues(a) {
    need(arguments, 1, 'crypto.getRandomValues');
    if (!ArrayBuffer.isView(a) || !INT_ARRAYS.includes(a[Symbol.toStringTag])) throw dom('crypto.getRandomValues: the argument must be an integer-type TypedArray', 'TypeMismatchError');
    if (a.byteLength > 65536) throw dom(`crypto.getRandomValues: the byte length (${a.byteLength}) exceeds the 65536 bytes of entropy available per call`, 'QuotaExceededError');
    return H.random(a);
  }
  randomUUID() {
    const b = H.random(new Uint8Array(16));
    b[6] = b[6] & 0x0f | 0x40; b[8] = b[8] & 0x3f | 0x80;
    const h = Array.from(b, x => (x + 256).toString(16).slice(1)).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}
const crypto = new Crypto(RAW);

// ---- performance ---------------------------------------------------------------
// Relative to the start of the current invocation (reset by dispatch), as in Workers.
// The host records the invocation's start; it is read only when used.
let t0 = -1, origin = -1;
const callStart = () => { if (t0 < 0) t0 = H.callStart ? H.callStart() : mono(); return t0; };
const callOrigin = () => { if (origin < 0) origin = H.callOrigin ? H.callOrigin() : Date.now(); return origin; };
const performance = {};
def(performance, 'now', function now() { return mono() - callStart(); });
dp(performance, 'timeOrigin', { get() { return callOrigin(); }, enumerable: true, configurable: true });
def(performance, 'toJSON', function toJSON() { return { timeOrigin: callOrigin() }; });

// ---- bindings (env) -------------------------------------------------------------
const kvKey = k => {
  k = `${k}`;
  if (!k) throw new TypeError('KV: the key must be a non-empty string');
  return k;
};
class KVNamespace {
  constructor(t) { illegal(t); }
  async get(key, opts) {
    need(arguments, 1, 'KV.get');
    key = kvKey(key);
    const type = (typeof opts === 'string' ? opts : opts?.type) ?? 'text';
    if (!['text', 'json', 'arrayBuffer'].includes(type))
      throw new TypeError(`KV.get: unsupported type ${jstr(`${type}`)} (use "text", "json" or "arrayBuffer"${type === 'stream' ? '; streams are not available in Quasm' : ''})`);
    const [m, b] = await op('kv_get', jstr({ key }));
    if (!jparse(m).found) return null;
    const u = b || new Uint8Array(0);
    return type === 'text' ? dec(u) : type === 'json' ? jparse(dec(u)) : toAB(u);
  }
  async put(key, value, opts) {
    need(arguments, 2, 'KV.put');
    key = kvKey(key);
    const u = typeof value === 'string' ? enc(value) : view(value);
    if (!u) throw new TypeError(`KV.put: the value must be a string, ArrayBuffer or ArrayBufferView, got ${typeName(value)}`);
    opts = dict(opts, 'KV.put: options');
    let ttl = null;
    if (opts.expirationTtl != null) {
      ttl = Number(opts.expirationTtl);
      if (!(ttl > 0 && ttl < Infinity)) throw new TypeError('KV.put: expirationTtl must be a positive number of seconds');
    } else if (opts.expiration != null) {
      ttl = Math.ceil(Number(opts.expiration) - Date.now() / 1000);
      if (!(ttl > 0)) throw new TypeError('KV.put: expiration must be a UNIX time (seconds) in the future');
    }
    if (opts.metadata !== undefined) throw new TypeError('KV.put: metadata is not supported in Quasm');
    await op('kv_put', jstr({ key, expiration_ttl: ttl }), u);
  }
  async delete(key) {
    need(arguments, 1, 'KV.delete');
    await op('kv_delete', jstr({ key: kvKey(key) }));
  }
  async list(opts) {
    opts = dict(opts, 'KV.list: options');
    const limit = opts.limit ?? null;
    if (limit !== null && !(Number.isInteger(limit) && limit > 0)) throw new TypeError('KV.list: limit must be a positive integer');
    const [m] = await op('kv_list', jstr({ prefix: opts.prefix == null ? null : `${opts.prefix}`, limit, cursor: opts.cursor == null ? null : `${opts.cursor}` }));
    const r = jparse(m), out = { keys: r.keys, list_complete: !!r.list_complete };
    if (!out.list_complete && r.cursor != null) out.cursor = r.cursor;
    return out;
  }
}
class EventsBinding {
  constructor(t) { illegal(t); }
  async publish(type, payload) {
    need(arguments, 1, 'EVENTS.publish');
    if (typeof type !== 'string' || !type) throw new TypeError('EVENTS.publish: the event type must be a non-empty string');
    if (typeof payload === 'function' || typeof payload === 'symbol') throw new TypeError(`EVENTS.publish: the payload is not JSON-serializable: ${typeof payload}`);
    let arg;
    try { arg = jstr({ type, payload: payload === undefined ? null : payload }); }
    catch (e) { throw new TypeError(`EVENTS.publish: the payload is not JSON-serializable: ${e && e.message}`); }
    const [m] = await op('events_publish', arg);
    return { id: jparse(m).id };
  }
}
const KV = freeze(new KVNamespace(RAW)), EVENTS = freeze(new EventsBinding(RAW));

// ---- deprecations ------------------------------------------------------------------
// A deprecated API still works for functions whose compatibility date
// predates its removal, and logs one warning per invocation naming the
// replacement (gated changes: runtime/src/compat.rs).
const warned = new Set();
function deprecate(o, k, instead) {
  const v = o[k], what = `ctx.${k}`;
  dp(o, k, { get() {
    if (!warned.has(what)) { warned.add(what); console.warn(`[quasm] ${what} is deprecated: use ${instead} (functions with a compatibility_date from 2026-12-04 no longer have it)`); }
    return v;
  }, enumerable: true, configurable: true });
}

// ---- entry points for the shim ---------------------------------------------------
const KINDS = ['run', 'fetch', 'scheduled', 'event'];
const HANDLER_MSG = 'the module must export default an object with handlers (fetch, scheduled, event, run) or a function';
// No regex: this runs for every ctx key on every call, and fresh sandboxes
// start each call from the snapshot, so a memo would never stay warm.
const camel = k => {
  if (k.indexOf('_') < 0) return k;
  let out = '';
  for (let i = 0; i < k.length; i++) {
    const ch = k[i], nx = k[i + 1];
    if (ch === '_' && nx !== undefined && ((nx >= 'a' && nx <= 'z') || (nx >= '0' && nx <= '9'))) { out += nx.toUpperCase(); i++; }
    else out += ch;
  }
  return out;
};
const camelKeys = o => {
  const r = {};
  if (o && typeof o === 'object') for (const k of okeys(o)) dataProp(r, k === 'function' ? 'functionName' : camel(k), o[k]);
  return r;
};
function bind(ns) {
  clean();
  const d = ns && ns.default;
  if (typeof d === 'function') return freeze({ fn: d });
  if (d && typeof d === 'object' && KINDS.some(k => typeof d[k] === 'function')) return freeze({ obj: d });
  if (d === undefined && (swl.fetch.length || swl.scheduled.length)) return freeze({ sw: true });
  throw new TypeError(`${HANDLER_MSG}, or (service-worker syntax) call addEventListener("fetch", ...) at the top level`);
}

// ---- service-worker syntax ---------------------------------------------------------
// addEventListener("fetch" | "scheduled", listener) at the top level instead
// of a default export, as in Workers' original format. Listeners run in order
// and their exceptions fail the invocation; other event types are accepted
// and never dispatched.
const swl = { fetch: [], scheduled: [] };
function addEventListener(type, cb) {
  need(arguments, 2, 'addEventListener');
  const l = swl[`${type}`];
  if (l && (typeof cb === 'function' || (cb && typeof cb.handleEvent === 'function')) && !l.includes(cb)) l.push(cb);
}
function removeEventListener(type, cb) {
  need(arguments, 2, 'removeEventListener');
  const l = swl[`${type}`], i = l ? l.indexOf(cb) : -1;
  if (i >= 0) l.splice(i, 1);
}
let evResponse;
class FetchEvent extends Event {
  #r; #p = null; #open = true; #c;
  static { evResponse = (e, done) => { if (done) e.#open = false; return e.#p; }; }
  constructor(t, req, c) { illegal(t); super('fetch', { cancelable: true }); this.#r = req; this.#c = c; }
  get request() { return this.#r; }
  respondWith(p) {
    need(arguments, 1, 'FetchEvent.respondWith');
    if (this.#p || !this.#open) throw dom(this.#p ? 'FetchEvent.respondWith() was already called' : 'FetchEvent.respondWith() must be called while the listener runs', 'InvalidStateError');
    this.#p = Promise.resolve(p);
    this.stopImmediatePropagation();
  }
  waitUntil(p) { this.#c.waitUntil(p); }
  passThroughOnException() {}
}
class ScheduledEvent extends Event {
  #c;
  constructor(t, e, c) { illegal(t); super('scheduled'); this.#c = c; for (const k of okeys(e)) if (k !== 'type') dataProp(this, k, e[k]); }
  waitUntil(p) { this.#c.waitUntil(p); }
  noRetry() {}
}
function swDispatch(kind, arg, env, c) {
  // Bindings are globals in this format.
  for (const k of okeys(env)) def(G, k, env[k]);
  const ev = kind === 1 ? new FetchEvent(RAW, arg, c) : new ScheduledEvent(RAW, arg, c);
  for (const cb of [...swl[ev.type]]) {
    typeof cb === 'function' ? cb.call(G, ev) : cb.handleEvent(ev);
    if (kind === 1 && evResponse(ev)) break;
  }
  if (kind !== 1) return undefined;
  const p = evResponse(ev, true);
  if (!p) throw new TypeError('no "fetch" listener called event.respondWith(): a fetch listener must respond with a Response or a promise of one');
  return p;
}

// ---- node: modules ------------------------------------------------------------------
// What `import ... from "node:NAME"` (or the bare name) gets; the shim's
// module loader asks for it while the function loads.
function nodeModule(spec) {
  spec = `${spec}`;
  const n = spec.startsWith('node:') ? spec.slice(5) : spec;
  if (n === 'buffer') {
    const { Buffer } = lazy('buffer'), { Blob, File } = lazy('form');
    const m = { Buffer, Blob, File, atob: G.atob, btoa, kMaxLength: 0x7fffffff, constants: freeze({ MAX_LENGTH: 0x7fffffff, MAX_STRING_LENGTH: 0x1fffffe8 }) };
    m.default = { ...m };
    return m;
  }
  if (spec.startsWith('node:')) throw new Error(`Cannot find module '${spec}': Quasm provides node:buffer only (as Workers' nodejs_compat does for Buffer)`);
  throw new Error(`Cannot find module '${spec}': a Quasm function is one ES module; bundle its imports into it (node:buffer is the only built-in module)`);
}
// ctx methods live on a prototype (per-call closures cost more than a trivial
// call), and the waitUntil list is per invocation: a sandbox runs one at a time.
let waits = [];
class ExecutionContext {
  constructor(t) { illegal(t); }
  waitUntil(p) {
    waits.push(Promise.resolve(p).then(() => {}, e => console.error('Uncaught (in waitUntil)', e)));
  }
  passThroughOnException() {}
  progress(percent, message) {
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100))
      throw new RangeError(`ctx.progress: percent must be a number between 0 and 100, got ${fmt(percent, 1, [])}`);
    hcall('progress', { percent, message: message == null ? null : `${message}` });
  }
}
// The host sends ctx with JS names already; the parsed object is adopted as
// is. Snake-case keys (older hosts, hand-written meta) are still converted.
function makeCtx(c) {
  if (!c || typeof c !== 'object') c = {};
  let snake = false;
  for (const k in c) if (k.indexOf('_') >= 0 || k === 'function') { snake = true; break; }
  if (snake) c = camelKeys(c);
  Object.setPrototypeOf(c, ExecutionContext.prototype);
  return c;
}
// The shim passes [method, url, header pairs as JSON text]: the headers are
// parsed only if the handler reads them. The JSON form passes
// {method, url, headers}.
function incoming(r, body) {
  let m, u, h;
  if (Array.isArray(r)) { m = r[0]; u = r[1]; h = r[2]; }
  else {
    r = r || {};
    m = `${r.method || 'GET'}`; u = `${r.url}`;
    h = hAdopt(Array.isArray(r.headers) ? r.headers : [], true);
  }
  return new Request(RAW, { m, u, h, r: 'follow', s: null, b: m === 'GET' || m === 'HEAD' ? null : body || null });
}
// The JSON form of an invocation (tests, hand-written meta): parses, then
// forwards to invoke().
function dispatch(kind, metaJson, body, desc) {
  const meta = jparse(metaJson);
  const env = meta.env && typeof meta.env === 'object' ? meta.env : {};
  const input = kind === 1 ? meta.request : kind === 0 ? meta.input : meta.event;
  // invoke() trusts the host's header list; hand-written meta gets normalised.
  if (kind === 1 && input && Array.isArray(input.headers)) input.headers = input.headers.map(p => [`${p[0]}`.toLowerCase(), `${p[1]}`]);
  return invoke(kind, input, body, desc, env, makeCtx(meta.ctx));
}
// Per-invocation state back to empty: after loading (so images start
// clean) and before each call of a reused (warm) sandbox.
function clean() {
  if (timers.size) timers.clear();
  if (pending.size) pending = new Map();
  if (counts.size) counts.clear();
  if (marks.size) marks.clear();
  if (warned.size) warned.clear();
  indent = '';
}
// The shim's form: the shim builds env and ctx natively (ctx already has
// ExecutionContext.prototype) and parses only the input, which keeps a
// trivial call to a few microseconds. flags: 1 the sandbox ran a call
// since its image, 2 env holds service bindings (undefined: both). A fresh
// call touches no state it need not: each object touched is a page to copy back.
function invoke(kind, input, body, desc, env, ctx, flags) {
  if (flags === undefined) flags = 3;
  if (flags & 1) clean();
  t0 = -1; origin = -1;
  const name = KINDS[kind];
  if (!name) throw new TypeError(`unknown invocation kind ${kind}`);
  if (!desc || !(desc.fn || desc.obj || desc.sw)) throw new TypeError(HANDLER_MSG);
  const fn = desc.sw ? swDispatch : desc.fn || desc.obj[name];
  if (typeof fn !== 'function' || (desc.sw && !swl[name]?.length))
    throw new TypeError(`function has no "${name}" handler${desc.sw ? ` (no addEventListener("${name}", ...) listener)` : ''}`);
  // Service bindings arrive as descriptors (objects; plain variables are strings).
  if (flags & 2) for (const k in env) { const v = env[k]; if (v !== null && typeof v === 'object') env[k] = lazy('bindings').binding(k, v); }
  env.KV = KV; env.EVENTS = EVENTS;
  if (ctx.caller !== undefined) deprecate(ctx, 'caller', 'ctx.user.id');
  waits = [];
  const arg = kind === 0 ? input : kind === 1 ? incoming(input, body) : camelKeys(input);
  let value;
  try { value = desc.sw ? fn(kind, arg, env, ctx) : desc.fn ? fn(arg, env, ctx) : fn.call(desc.obj, arg, env, ctx); }
  catch (e) { if (!waits.length) throw e; return settleAll(Promise.reject(e), waits); }
  // A synchronous result goes back as is (the shim accepts a non-promise):
  // no promise machinery for handlers that never await.
  let thenable = value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
  // A Response with a stream body streams out, or is read to the end first
  // (streams exist once loaded).
  if (kind === 1 && mods.streams) {
    const { sendBody } = mods.streams;
    if (thenable) value = value.then(v => v instanceof Response ? sendBody(v) : v);
    else if (value instanceof Response && bodyStream(value)) { value = sendBody(value); thenable = true; }
  }
  if (!thenable && !waits.length) return value;
  return settleAll(value, waits);
}
// Resolves with the handler's value once every waitUntil promise settled
// (waitUntil may add more while we wait).
async function settleAll(v, waits) {
  let value, error, failed = false;
  try { value = await v; } catch (e) { failed = true; error = e; }
  for (let i = 0; i < waits.length; i++) await waits[i];
  if (failed) throw error;
  return value;
}
// A fetch handler's Response as [status, statusText, headers, body]:
// headers are [name, value] pairs or, when only the default applies, the
// content type alone ('' for none). The shim writes the meta JSON natively.
function response(v) {
  if (!(v instanceof Response)) throw new TypeError(`fetch handler must return a Response, got ${typeName(v)}`);
  if (v.type === 'error') throw new TypeError('fetch handler returned Response.error()');
  if (v.bodyUsed) throw new TypeError('fetch handler returned a Response whose body has already been used');
  return resParts(v);
}
// [metaJson, body] of a handler's value (the shim does the fetch case
// natively from response()).
function finish(kind, v) {
  if (kind === 1) {
    const [s, t, h, b] = response(v);
    const l = typeof h === 'string' ? (h ? [['content-type', h]] : []) : h;
    return [`{"status":${s},"statusText":${jstr(t)},"headers":${jstr(l)}}`, b];
  }
  if (typeof v === 'function' || typeof v === 'symbol') throw new TypeError(`handler result is not JSON-serializable: ${typeof v}`);
  try { return [jstr(v === undefined ? null : v), null]; }
  catch (e) { throw new TypeError(`handler result is not JSON-serializable: ${e && e.message}`); }
}
function errorInfo(e, uncatchable) {
  try {
    let name = 'Error', message = '', stack = '';
    if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
      const get = k => { try { return e[k]; } catch { return undefined; } };
      const m = get('message');
      let isErr = false;
      try { isErr = e instanceof Error; } catch {}
      if (typeof e === 'object' && (isErr || m !== undefined)) {
        const n = get('name');
        if (typeof n === 'string' && n) name = n;
        try { message = m === undefined ? '' : `${m}`; } catch { message = '[unprintable message]'; }
        const s = get('stack');
        if (typeof s === 'string') stack = cleanStack(s);
      } else {
        try { message = fmt(e, 0, []); } catch { message = '[unprintable value]'; }
      }
    } else message = typeof e === 'symbol' ? e.toString() : String(e);
    const o = { name, message, stack };
    if (uncatchable) o.uncatchable = true;
    return jstr(o);
  } catch {
    return '{"name":"Error","message":"the error could not be described","stack":""}';
  }
}
function complete(id, ok, meta, bytes) {
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  try { ok ? p.ok(`${meta}`, bytes) : p.err(`${meta}`); } catch (e) { console.error('Uncaught', e); }
}

// ---- globals ----------------------------------------------------------------------
PLATFORM = [Headers, Body, URL, URLSearchParams, EventTarget, Event, AbortController, TextEncoder, TextDecoder, Crypto, KVNamespace, EventsBinding];
for (const C of [...PLATFORM, Request, Response, AbortSignal]) if (C !== Body) def(C.prototype, Symbol.toStringTag, C === EventsBinding ? 'Events' : C.name);
const globals = {
  console, fetch, Request, Response, Headers, URL, URLSearchParams, TextEncoder, TextDecoder, structuredClone,
  setTimeout, clearTimeout, setInterval, clearInterval, crypto, Crypto, performance,
  AbortController, AbortSignal, EventTarget, Event, self: G, addEventListener, removeEventListener,
};
for (const k of okeys(globals)) def(G, k, globals[k]);
for (const [n, ks] of [['crypto', ['SubtleCrypto', 'CryptoKey']], ['form', ['Blob', 'File', 'FormData']],
  ['streams', ['ReadableStream', 'ReadableStreamDefaultReader', 'ReadableStreamDefaultController', 'WritableStream',
    'WritableStreamDefaultWriter', 'TransformStream', 'TextEncoderStream', 'TextDecoderStream',
    'ByteLengthQueuingStrategy', 'CountQueuingStrategy']]]) for (const k of ks) lazyGlobal(k, n);
// What the lazy parts may use of this file.
I = freeze({ RAW, H, enc, dec, utf8, view, bytesOf, toAB, b64, need, dom, typeName, jstr, jparse, def, dp, INSPECT, dict, usv, send, bodyStream, bodySet, resParts, drain, Request,
  illegal, parseQS, hcall, fmt, dataProp, lazy, streamOf: b => lazy('streams').streamOf(b), mods });
// A job (microtask) that threw: logged like a throwing timer callback.
function uncaught(e) { console.error('Uncaught', e); }
// Configurable so the shim can remove it once it holds the object: user code never sees it.
dp(G, '__quasm', { configurable: true, value: freeze({ bind, dispatch, invoke, nodeModule, ctxProto: ExecutionContext.prototype, finish, response, errorInfo, complete, nextTimer, tick, uncaught }) });
})();
