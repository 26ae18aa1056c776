// Quasm prelude, loaded when a function has service bindings: env.NAME with
// fetch(path, init) below the URL the operator configured, plus typed methods
// from the binding's OpenAPI document (env.NAME.<tag>.<operationId>(params)).
// Whether this function may use a binding is the host's decision, made on
// each call, so the refusal names the binding and what is missing.
(I => {
'use strict';
const { RAW, illegal, need, typeName, dict, jstr, jparse, def, send, bodyStream, drain, Request } = I;
const { freeze, keys: okeys } = Object;

class ServiceBinding {
  #n;
  constructor(t, n) { illegal(t); this.#n = n; }
  fetch(path, init) {
    const n = this.#n;
    need(arguments, 1, `${n}.fetch`);
    if (typeof path !== 'string') return Promise.reject(new TypeError(`${n}.fetch: the path must be a string like "/clients?limit=100", got ${typeName(path)}`));
    let req;
    // The URL is a placeholder: only the path travels; the host adds the base.
    try { req = new Request('http://binding.invalid/', init); } catch (e) { return Promise.reject(e); }
    return bodyStream(req) ? Promise.resolve(drain(req)).then(r => send(r, [n, path])) : send(req, [n, path]);
  }
}
def(ServiceBinding.prototype, Symbol.toStringTag, 'ServiceBinding');

// What a typed method throws when the service answers outside 2xx.
class BindingHttpError extends Error {
  constructor(message, status, body) { super(message); def(this, 'status', status); def(this, 'body', body); }
}
def(BindingHttpError.prototype, 'name', 'BindingHttpError');

const enc = v => encodeURIComponent(`${v}`);
function method(b, n, o) {
  const label = `${n}.${o.tag ? `${o.tag}.` : ''}${o.id}`;
  return async function (params) {
    params = dict(params, `${label}: params`);
    let missing;
    const path = `${o.path}`.replace(/\{([^}]+)\}/g, (_, k) => {
      const v = params[k];
      if (v == null) missing ??= k;
      return v == null ? '' : enc(v);
    });
    if (missing) throw new TypeError(`${label}: the path parameter "${missing}" is required`);
    const qs = [];
    for (const k of o.query || []) {
      const v = params[k];
      if (v == null) continue;
      for (const x of Array.isArray(v) ? v : [v]) qs.push(`${enc(k)}=${enc(x)}`);
    }
    const init = { method: o.method, headers: { accept: 'application/json' } };
    if (o.body && params.body !== undefined) {
      init.body = jstr(params.body);
      init.headers['content-type'] = 'application/json';
    }
    const res = await b.fetch(qs.length ? `${path}?${qs.join('&')}` : path, init);
    const text = await res.text();
    let body = text;
    if (text && /json/i.test(res.headers.get('content-type') || '')) { try { body = jparse(text); } catch {} }
    if (!res.ok) throw new BindingHttpError(`${label}: ${o.method} ${o.path} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, res.status, body);
    return text ? body : null;
  };
}

// env.NAME from the host's descriptor {ops: [{tag, id, method, path, query, body}]}.
function binding(n, desc) {
  const b = new ServiceBinding(RAW, n), groups = {};
  for (const o of Array.isArray(desc.ops) ? desc.ops : []) {
    if ((o.tag || o.id) === 'fetch') continue; // never shadow fetch()
    const m = method(b, n, o);
    if (o.tag) (groups[o.tag] ??= {})[o.id] = m;
    else def(b, o.id, m);
  }
  for (const t of okeys(groups)) def(b, t, freeze(groups[t]));
  return freeze(b);
}

return { binding, BindingHttpError, PLATFORM: [ServiceBinding] };
})
