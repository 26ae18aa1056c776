// Quasm prelude, loaded on first use: WHATWG streams (ReadableStream with
// default readers, tee, pipes and async iteration; WritableStream;
// TransformStream; TextEncoderStream / TextDecoderStream; the queuing
// strategies) and what Body needs of them. Bodies reach the host as bytes:
// a stream body is read to the end first (see drain in prelude.js), or a
// fetch handler's response body goes out chunk by chunk (sendBody below).
// Simplifications: no BYOB readers, and a TransformStream applies no
// backpressure to its writable side (writes never wait for a reader).
(I => {
'use strict';
const { RAW, view, need, typeName, def, INSPECT, dict, enc, illegal, jstr } = I;
const noop = () => {};
const defer = () => { const d = {}; d.p = new Promise((a, b) => { d.res = a; d.rej = b; }); return d; };
// Promises nobody may await (closed, ready): their rejections are expected.
const quiet = d => { d.p.catch(noop); return d; };
const rejected = e => { const d = quiet(defer()); d.rej(e); return d; };
const call = (f, ...a) => { try { return Promise.resolve(f ? f(...a) : undefined); } catch (e) { return Promise.reject(e); } };
const method = (o, k, w) => {
  const f = o[k];
  if (f === undefined) return undefined;
  if (typeof f !== 'function') throw new TypeError(`${w}.${k} must be a function`);
  return f.bind(o);
};
const strategy = (s, d, w) => {
  s = dict(s, `${w}: strategy`);
  const h = s.highWaterMark === undefined ? d : Number(s.highWaterMark);
  if (Number.isNaN(h) || h < 0) throw new RangeError(`${w}: highWaterMark must be a non-negative number`);
  if (s.size !== undefined && typeof s.size !== 'function') throw new TypeError(`${w}: strategy.size must be a function`);
  return [h, s.size];
};

// ---- ReadableStream ---------------------------------------------------------
let RS;
class ReadableStream {
  #st;
  static { RS = s => s.#st; }
  constructor(src, strat) {
    const w = 'ReadableStream';
    src = src === undefined ? {} : dict(src, `${w}: underlyingSource`);
    const type = src.type === undefined ? undefined : `${src.type}`;
    if (type !== undefined && type !== 'bytes') throw new TypeError(`${w}: invalid type ${jstr(type)} (use "bytes" or leave it out)`);
    const [hwm, size] = strategy(strat, type === 'bytes' ? 0 : 1, w);
    const st = this.#st = { state: 'readable', err: undefined, reader: null, reqs: [], disturbed: false, q: [], qsize: 0, hwm, size,
      bytes: type === 'bytes', started: false, pulling: false, again: false, closing: false,
      pull: method(src, 'pull', w), cancel: method(src, 'cancel', w), ctrl: null };
    st.ctrl = new ReadableStreamDefaultController(RAW, st);
    call(method(src, 'start', w), st.ctrl).then(() => { st.started = true; pull(st); }, e => rsError(st, e));
  }
  get locked() { return !!this.#st.reader; }
  cancel(reason) {
    if (this.#st.reader) return Promise.reject(new TypeError('Cannot cancel a locked ReadableStream'));
    return rsCancel(this.#st, reason);
  }
  getReader(opts) {
    const mode = dict(opts, 'ReadableStream.getReader: options').mode;
    if (mode !== undefined) throw new TypeError(mode === 'byob' ? 'BYOB readers are not supported in Quasm: use the default reader' : `ReadableStream.getReader: invalid mode ${jstr(`${mode}`)}`);
    return new ReadableStreamDefaultReader(this);
  }
  pipeThrough(pair, opts) {
    const { writable, readable } = dict(pair, 'ReadableStream.pipeThrough: transform');
    if (!(writable instanceof WritableStream) || !(readable instanceof ReadableStream)) throw new TypeError('ReadableStream.pipeThrough: the transform must have a writable and a readable stream');
    if (this.locked) throw new TypeError('ReadableStream.pipeThrough: the stream is locked');
    if (writable.locked) throw new TypeError('ReadableStream.pipeThrough: the writable stream is locked');
    this.pipeTo(writable, opts).catch(noop);
    return readable;
  }
  pipeTo(dest, opts) {
    if (!(dest instanceof WritableStream)) return Promise.reject(new TypeError('ReadableStream.pipeTo: the destination must be a WritableStream'));
    if (this.locked || dest.locked) return Promise.reject(new TypeError(`ReadableStream.pipeTo: the ${this.locked ? 'source' : 'destination'} is locked`));
    try { opts = dict(opts, 'ReadableStream.pipeTo: options'); } catch (e) { return Promise.reject(e); }
    return pipe(this.getReader(), dest.getWriter(), opts);
  }
  tee() { return tee(this); }
  values(opts) {
    const r = this.getReader(), keep = !!dict(opts, 'ReadableStream.values: options').preventCancel;
    const it = Object.create(ASYNC_ITER);
    it.next = () => r.read().then(x => { if (x.done) r.releaseLock(); return x; }, e => { r.releaseLock(); throw e; });
    it.return = v => {
      const p = keep ? Promise.resolve() : r.cancel(v);
      r.releaseLock();
      return p.then(() => ({ value: v, done: true }));
    };
    return it;
  }
  [Symbol.asyncIterator](opts) { return this.values(opts); }
  static from(x) {
    const it = x != null && typeof x[Symbol.asyncIterator] === 'function' ? x[Symbol.asyncIterator]()
      : x != null && typeof x[Symbol.iterator] === 'function' ? x[Symbol.iterator]() : null;
    if (!it) throw new TypeError(`ReadableStream.from: the argument must be iterable or async iterable, got ${typeName(x)}`);
    return new ReadableStream({
      async pull(c) { const r = await it.next(); if (r.done) c.close(); else c.enqueue(await r.value); },
      async cancel(reason) { if (typeof it.return === 'function') await it.return(reason); },
    }, { highWaterMark: 0 });
  }
  [INSPECT]() { return { locked: this.locked, state: this.#st.state, supportsBYOB: false }; }
}
const ASYNC_ITER = Object.create(Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})())), {
  [Symbol.asyncIterator]: { value() { return this; } },
});
const desired = st => st.state === 'errored' ? null : st.state === 'closed' ? 0 : st.hwm - st.qsize;
function pull(st) {
  if (!st.started || st.state !== 'readable' || st.closing || !st.pull) return;
  if (!(st.reqs.length || desired(st) > 0)) return;
  if (st.pulling) { st.again = true; return; }
  st.pulling = true;
  call(st.pull, st.ctrl).then(() => {
    st.pulling = false;
    if (st.again) { st.again = false; pull(st); }
  }, e => rsError(st, e));
}
function rsEnqueue(st, chunk) {
  if (st.closing || st.state !== 'readable') throw new TypeError(`Cannot enqueue a chunk into a ${st.state === 'errored' ? 'errored' : 'closed'} stream`);
  if (st.bytes && !view(chunk)) throw new TypeError(`A byte stream's chunks must be ArrayBuffer views, got ${typeName(chunk)}`);
  if (st.reqs.length) st.reqs.shift().res({ value: chunk, done: false });
  else {
    let n = 1;
    if (st.size) {
      try { n = Number(st.size(chunk)); if (!(n >= 0 && n < Infinity)) throw new RangeError('The chunk size must be a finite, non-negative number'); }
      catch (e) { rsError(st, e); throw e; }
    }
    st.q.push([chunk, n]); st.qsize += n;
  }
  pull(st);
}
function rsClose(st) {
  if (st.state !== 'readable') return;
  st.state = 'closed';
  for (const r of st.reqs.splice(0)) r.res({ value: undefined, done: true });
  if (st.reader) st.closed.res();
}
function rsError(st, e) {
  if (st.state !== 'readable') return;
  st.state = 'errored'; st.err = e; st.q = []; st.qsize = 0;
  for (const r of st.reqs.splice(0)) r.rej(e);
  if (st.reader) st.closed.rej(e);
}
function rsCancel(st, reason) {
  st.disturbed = true;
  if (st.state === 'closed') return Promise.resolve();
  if (st.state === 'errored') return Promise.reject(st.err);
  st.q = []; st.qsize = 0;
  rsClose(st);
  return call(st.cancel, reason).then(noop);
}
function rsRead(st) {
  st.disturbed = true;
  if (st.state === 'closed') return Promise.resolve({ value: undefined, done: true });
  if (st.state === 'errored') return Promise.reject(st.err);
  if (st.q.length) {
    const [v, n] = st.q.shift();
    st.qsize -= n;
    if (st.closing && !st.q.length) rsClose(st); else pull(st);
    return Promise.resolve({ value: v, done: false });
  }
  const d = defer();
  st.reqs.push(d);
  pull(st);
  return d.p;
}
class ReadableStreamDefaultController {
  #st;
  constructor(t, st) { illegal(t); this.#st = st; }
  get desiredSize() { return desired(this.#st); }
  enqueue(chunk) { rsEnqueue(this.#st, chunk); }
  close() {
    const st = this.#st;
    if (st.closing || st.state !== 'readable') throw new TypeError('Cannot close a stream that is already closed or errored');
    st.closing = true;
    if (!st.q.length) rsClose(st);
  }
  error(e) { rsError(this.#st, e); }
}
class ReadableStreamDefaultReader {
  #st;
  constructor(stream) {
    need(arguments, 1, 'ReadableStreamDefaultReader');
    if (!(stream instanceof ReadableStream)) throw new TypeError('ReadableStreamDefaultReader: the argument must be a ReadableStream');
    const st = RS(stream);
    if (st.reader) throw new TypeError('ReadableStreamDefaultReader: the stream is locked to another reader');
    st.reader = this; this.#st = st;
    st.closed = st.state === 'errored' ? rejected(st.err) : quiet(defer());
    if (st.state === 'closed') st.closed.res();
  }
  get closed() { return this.#st ? this.#st.closed.p : this.#gone; }
  #gone = null;
  read() { return this.#st ? rsRead(this.#st) : Promise.reject(new TypeError('read() on a released reader')); }
  cancel(reason) { return this.#st ? rsCancel(this.#st, reason) : Promise.reject(new TypeError('cancel() on a released reader')); }
  releaseLock() {
    const st = this.#st;
    if (!st) return;
    const e = new TypeError('The reader was released');
    for (const r of st.reqs.splice(0)) r.rej(e);
    if (st.state === 'readable') st.closed.rej(e);
    this.#gone = rejected(e).p;
    st.reader = null; this.#st = null;
  }
}
function tee(src) {
  const r = src.getReader(), reasons = [], cancelled = defer();
  let reading = false, c1, c2, open = 2;
  const both = f => { for (const c of [c1, c2]) if (c) try { f(c); } catch {} };
  const pull = () => {
    if (reading) return Promise.resolve();
    reading = true;
    return r.read().then(({ value, done }) => {
      reading = false;
      if (done) { both(c => c.close()); cancelled.res(); } else both(c => c.enqueue(value));
    }, e => { both(c => c.error(e)); cancelled.res(); });
  };
  const cancel = i => reason => {
    reasons[i] = reason;
    if (i) c2 = null; else c1 = null;
    if (--open === 0) r.cancel(reasons).then(cancelled.res, cancelled.rej);
    return cancelled.p;
  };
  return [new ReadableStream({ start: c => { c1 = c; }, pull, cancel: cancel(0) }), new ReadableStream({ start: c => { c2 = c; }, pull, cancel: cancel(1) })];
}
// pipeTo: reads and writes in turn, honouring the prevent* options and an AbortSignal.
async function pipe(reader, writer, opts) {
  const { preventClose, preventAbort, preventCancel, signal } = opts;
  let abort = null, onAbort;
  if (signal !== undefined) {
    if (!(signal instanceof G.AbortSignal)) throw new TypeError('ReadableStream.pipeTo: signal must be an AbortSignal');
    abort = new Promise((res, rej) => { onAbort = () => rej({ aborted: signal.reason }); });
    abort.catch(noop);
    if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort);
  }
  const race = p => abort ? Promise.race([p, abort]) : p;
  try {
    for (;;) {
      await race(writer.ready);
      let r;
      try { r = await race(reader.read()); } catch (e) {
        if (e && e.aborted !== undefined) throw e;
        if (!preventAbort) await writer.abort(e).catch(noop);
        throw e;
      }
      if (r.done) break;
      try { await race(writer.write(r.value)); } catch (e) {
        if (e && e.aborted !== undefined) throw e;
        if (!preventCancel) await reader.cancel(e).catch(noop);
        throw e;
      }
    }
    if (!preventClose) await writer.close();
  } catch (e) {
    if (!(e && e.aborted !== undefined && Object.keys(e).length === 1)) throw e;
    const reason = e.aborted;
    await Promise.all([preventAbort ? 0 : writer.abort(reason).catch(noop), preventCancel ? 0 : reader.cancel(reason).catch(noop)]);
    throw reason;
  } finally {
    if (signal !== undefined) signal.removeEventListener('abort', onAbort);
    reader.releaseLock(); writer.releaseLock();
  }
}
const G = globalThis;

// ---- WritableStream -----------------------------------------------------------
let WS;
class WritableStream {
  #st;
  static { WS = s => s.#st; }
  constructor(sink, strat) {
    const w = 'WritableStream';
    sink = sink === undefined ? {} : dict(sink, `${w}: underlyingSink`);
    if (sink.type !== undefined) throw new RangeError(`${w}: invalid type`);
    const [hwm, size] = strategy(strat, 1, w);
    const st = this.#st = { state: 'writable', err: undefined, writer: null, q: [], qsize: 0, hwm, size, started: false, busy: false,
      closeReq: null, write: method(sink, 'write', w), close: method(sink, 'close', w), abort: method(sink, 'abort', w),
      ctrl: null, ac: new G.AbortController(), ready: null, closed: null };
    st.ctrl = new WritableStreamDefaultController(RAW, st);
    call(method(sink, 'start', w), st.ctrl).then(() => { st.started = true; advance(st); }, e => wsError(st, e));
  }
  get locked() { return !!this.#st.writer; }
  abort(reason) { return this.#st.writer ? Promise.reject(new TypeError('Cannot abort a locked WritableStream')) : wsAbort(this.#st, reason); }
  close() { return this.#st.writer ? Promise.reject(new TypeError('Cannot close a locked WritableStream')) : wsClose(this.#st); }
  getWriter() { return new WritableStreamDefaultWriter(this); }
  [INSPECT]() { return { locked: this.locked, state: this.#st.state }; }
}
const wDesired = st => st.state === 'errored' ? null : st.state === 'closed' ? 0 : st.hwm - st.qsize;
function backpressure(st) {
  if (!st.writer || st.state !== 'writable' || st.closeReq) return;
  const full = wDesired(st) <= 0;
  if (full && !st.waiting) { st.ready = quiet(defer()); st.waiting = true; }
  else if (!full && st.waiting) { st.waiting = false; st.ready.res(); }
}
function advance(st) {
  if (!st.started || st.busy || st.state !== 'writable') return;
  if (st.q.length) {
    const [chunk, n, d] = st.q[0];
    st.busy = true;
    call(st.write, chunk, st.ctrl).then(() => {
      st.busy = false; st.q.shift(); st.qsize -= n; d.res(); backpressure(st); advance(st);
    }, e => { st.busy = false; st.q.shift(); d.rej(e); wsError(st, e); });
    return;
  }
  if (st.closeReq) {
    st.busy = true;
    call(st.close).then(() => {
      st.busy = false; st.state = 'closed'; st.closeReq.res();
      if (st.writer) st.closed.res();
    }, e => { st.busy = false; st.closeReq.rej(e); wsError(st, e); });
  }
}
function wsError(st, e) {
  if (st.state !== 'writable') return;
  st.state = 'errored'; st.err = e;
  for (const [, , d] of st.q.splice(0)) d.rej(e);
  st.qsize = 0;
  if (st.closeReq) st.closeReq.rej(e);
  if (st.writer) {
    st.closed.rej(e);
    if (st.waiting) st.ready.rej(e); else st.ready = rejected(e);
  }
}
function wsAbort(st, reason) {
  if (st.state === 'closed' || st.state === 'errored') return Promise.resolve();
  st.ac.abort(reason);
  wsError(st, reason);
  return call(st.abort, reason).then(noop);
}
function wsClose(st) {
  if (st.state !== 'writable' || st.closeReq) return Promise.reject(new TypeError(st.state === 'errored' ? 'The stream is errored' : 'The stream is closed or closing'));
  st.closeReq = defer();
  if (st.waiting) { st.waiting = false; st.ready.res(); }
  advance(st);
  return st.closeReq.p;
}
function wsWrite(st, chunk) {
  if (st.state === 'errored') return Promise.reject(st.err);
  if (st.state === 'closed' || st.closeReq) return Promise.reject(new TypeError('Cannot write to a closed or closing stream'));
  let n = 1;
  if (st.size) {
    try { n = Number(st.size(chunk)); if (!(n >= 0 && n < Infinity)) throw new RangeError('The chunk size must be a finite, non-negative number'); }
    catch (e) { wsError(st, e); return Promise.reject(e); }
  }
  const d = defer();
  st.q.push([chunk, n, d]); st.qsize += n;
  backpressure(st);
  advance(st);
  return d.p;
}
class WritableStreamDefaultController {
  #st;
  constructor(t, st) { illegal(t); this.#st = st; }
  get signal() { return this.#st.ac.signal; }
  error(e) { wsError(this.#st, e); }
}
class WritableStreamDefaultWriter {
  #st; #gone = null;
  constructor(stream) {
    need(arguments, 1, 'WritableStreamDefaultWriter');
    if (!(stream instanceof WritableStream)) throw new TypeError('WritableStreamDefaultWriter: the argument must be a WritableStream');
    const st = WS(stream);
    if (st.writer) throw new TypeError('WritableStreamDefaultWriter: the stream is locked to another writer');
    st.writer = this; this.#st = st;
    st.closed = st.state === 'errored' ? rejected(st.err) : quiet(defer());
    if (st.state === 'closed') st.closed.res();
    st.ready = st.state === 'errored' ? rejected(st.err) : quiet(defer());
    st.waiting = false;
    if (st.state !== 'errored') st.ready.res();
    backpressure(st);
  }
  #need(w) { if (!this.#st) throw new TypeError(`${w}() on a released writer`); return this.#st; }
  get closed() { return this.#st ? this.#st.closed.p : this.#gone; }
  get ready() { return this.#st ? this.#st.ready.p : this.#gone; }
  get desiredSize() { return wDesired(this.#need('desiredSize')); }
  write(chunk) { try { return wsWrite(this.#need('write'), chunk); } catch (e) { return Promise.reject(e); } }
  close() { try { return wsClose(this.#need('close')); } catch (e) { return Promise.reject(e); } }
  abort(reason) { try { return wsAbort(this.#need('abort'), reason); } catch (e) { return Promise.reject(e); } }
  releaseLock() {
    const st = this.#st;
    if (!st) return;
    const e = new TypeError('The writer was released');
    if (st.state === 'writable') { st.closed.rej(e); if (st.waiting) st.ready.rej(e); }
    this.#gone = rejected(e).p;
    st.writer = null; this.#st = null;
  }
}

// ---- TransformStream --------------------------------------------------------------
class TransformStream {
  #r; #w;
  constructor(tr, ws, rs) {
    const w = 'TransformStream';
    tr = tr === undefined ? {} : dict(tr, `${w}: transformer`);
    if (tr.readableType !== undefined || tr.writableType !== undefined) throw new RangeError(`${w}: readableType and writableType are not supported`);
    const transform = method(tr, 'transform', w), flush = method(tr, 'flush', w), cancel = method(tr, 'cancel', w);
    let rc, ctrl;
    const started = defer();
    this.#r = new ReadableStream({
      start: c => { rc = c; },
      cancel: reason => { wsError(WS(this.#w), reason); return call(cancel, reason); },
    }, rs === undefined ? { highWaterMark: 0 } : rs);
    this.#w = new WritableStream({
      start: () => started.p,
      write: chunk => transform ? transform(chunk, ctrl) : ctrl.enqueue(chunk),
      close: () => call(flush, ctrl).then(() => { try { rc.close(); } catch {} }, e => { rc.error(e); throw e; }),
      abort: reason => { rc.error(reason); return call(cancel, reason); },
    }, ws);
    ctrl = new TransformStreamDefaultController(RAW, () => rc, e => wsError(WS(this.#w), e));
    call(method(tr, 'start', w), ctrl).then(started.res, e => { started.rej(e); rc.error(e); });
  }
  get readable() { return this.#r; }
  get writable() { return this.#w; }
}
class TransformStreamDefaultController {
  #rc; #fail;
  constructor(t, rc, fail) { illegal(t); this.#rc = rc; this.#fail = fail; }
  get desiredSize() { return this.#rc().desiredSize; }
  enqueue(chunk) { this.#rc().enqueue(chunk); }
  error(e) { this.#rc().error(e); this.#fail(e); }
  terminate() { try { this.#rc().close(); } catch {} this.#fail(new TypeError('The TransformStream was terminated')); }
}
class TextEncoderStream {
  #t = new TransformStream({ transform(ch, c) { const u = enc(`${ch}`); if (u.length) c.enqueue(u); } });
  get encoding() { return 'utf-8'; }
  get readable() { return this.#t.readable; }
  get writable() { return this.#t.writable; }
}
class TextDecoderStream {
  #d; #t;
  constructor(label = 'utf-8', opts) {
    const d = this.#d = new G.TextDecoder(label, opts);
    this.#t = new TransformStream({
      transform(ch, c) { const s = d.decode(ch, { stream: true }); if (s) c.enqueue(s); },
      flush(c) { const s = d.decode(); if (s) c.enqueue(s); },
    });
  }
  get encoding() { return this.#d.encoding; }
  get fatal() { return this.#d.fatal; }
  get ignoreBOM() { return this.#d.ignoreBOM; }
  get readable() { return this.#t.readable; }
  get writable() { return this.#t.writable; }
}
const hwmOf = (o, w) => {
  need([o], 1, w);
  const h = dict(o, `${w}: init`).highWaterMark;
  if (h === undefined) throw new TypeError(`${w}: highWaterMark is required`);
  return Number(h);
};
const sizeCount = function size() { return 1; }, sizeBytes = function size(c) { return c.byteLength; };
class CountQueuingStrategy {
  #h;
  constructor(o) { this.#h = hwmOf(o, 'CountQueuingStrategy'); }
  get highWaterMark() { return this.#h; }
  get size() { return sizeCount; }
}
class ByteLengthQueuingStrategy {
  #h;
  constructor(o) { this.#h = hwmOf(o, 'ByteLengthQueuingStrategy'); }
  get highWaterMark() { return this.#h; }
  get size() { return sizeBytes; }
}

// ---- for Body ------------------------------------------------------------------------
const streamOf = u => new ReadableStream({ start(c) { c.enqueue(u); c.close(); } });
async function readAll(s) {
  const r = s.getReader(), chunks = [];
  let n = 0;
  try {
    for (;;) {
      const { value, done } = await r.read();
      if (done) break;
      const u = view(value);
      if (!u) throw new TypeError(`A body stream must yield Uint8Array chunks, got ${typeName(value)}`);
      chunks.push(u); n += u.length;
    }
  } finally { r.releaseLock(); }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}
const classes = { ReadableStream, ReadableStreamDefaultReader, ReadableStreamDefaultController, WritableStream, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStream, TransformStreamDefaultController, TextEncoderStream, TextDecoderStream,
  ByteLengthQueuingStrategy, CountQueuingStrategy };
for (const k in classes) def(classes[k].prototype, Symbol.toStringTag, k);
// A Response whose body is a stream goes to the client chunk by chunk when
// the host can stream it (a public route: server-sent events, downloads);
// otherwise it is read to the end and returned whole. Once streamed, the
// Response returns with an empty body: the host has sent it already.
async function sendBody(r) {
  const { bodyStream, bodySet, resParts, drain, hcall, dec } = I;
  const s = bodyStream(r);
  if (!s || r.bodyUsed || r.type === 'error') return r; // response() reports the last two
  const [status, statusText, h] = resParts(r);
  const headers = typeof h === 'string' ? (h ? [['content-type', h]] : []) : h;
  if (dec(hcall('response.start', { status, statusText, headers })) !== '1') return drain(r);
  const rd = s.getReader();
  try {
    for (;;) {
      const { value, done } = await rd.read();
      if (done) break;
      const u = view(value);
      if (!u) throw new TypeError(`A body stream must yield Uint8Array chunks, got ${typeName(value)}`);
      // '0': the client went away; stop the source and end quietly.
      if (u.length && dec(hcall('response.chunk', null, u)) !== '1') { rd.cancel().catch(() => {}); break; }
    }
  } finally { rd.releaseLock(); }
  bodySet(r, null, false);
  return r;
}
return { ...classes, PLATFORM: Object.values(classes), isStream: v => v instanceof ReadableStream, streamOf, readAll, sendBody, disturbed: s => RS(s).disturbed };
})
