// Checks real server answers against gateway/openapi.json while the SDK
// suites run: a `fetch` wrapper finds each request's operation, reads a
// copy of the JSON answer and checks it against the documented schema for
// its status (types, enums, required fields, and no field the document
// lacks). Contract bugs found this way are fixed in the server or the
// document, not papered over in the SDK.

import { readFileSync } from "node:fs";

const spec = JSON.parse(readFileSync(new URL("../../../gateway/openapi.json", import.meta.url), "utf8"));
const METHODS = ["get", "put", "post", "delete", "patch"];

const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const m of METHODS) {
    if (!item[m]) continue;
    const re = path.replace(/\{path\}$/, "(.+)").replace(/\{[^}]+\}/g, "[^/]+");
    const literal = path.split("/").filter((s) => s && !s.startsWith("{")).length;
    operations.push({ method: m.toUpperCase(), path, re: new RegExp(`^${re}$`), literal, op: item[m] });
  }
}
operations.sort((a, b) => b.literal - a.literal);

function deref(node) {
  while (node && node.$ref) {
    node = node.$ref.slice(2).split("/").reduce((o, k) => o[k], spec);
  }
  return node;
}

/** Properties, required names and extras policy of an object schema, through allOf. */
function objectShape(schema) {
  const shape = { properties: {}, required: new Set(), open: false, typed: false };
  const visit = (s) => {
    s = deref(s);
    if (s.allOf) s.allOf.forEach(visit);
    if (s.properties) {
      shape.typed = true;
      Object.assign(shape.properties, s.properties);
    }
    for (const r of s.required ?? []) shape.required.add(r);
    if (s.additionalProperties !== undefined && s.additionalProperties !== false) shape.open = true;
  };
  visit(schema);
  return shape;
}

function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function nullable(schema) {
  schema = deref(schema);
  return schema.nullable === true || (schema.allOf ?? []).some((s) => deref(s).nullable === true);
}

function typeOfSchema(schema) {
  schema = deref(schema);
  if (schema.type) return schema.type;
  for (const s of schema.allOf ?? []) {
    const t = typeOfSchema(s);
    if (t) return t;
  }
  return schema.properties ? "object" : undefined;
}

/** Appends to `errors` every way `value` breaks `schema`. */
export function check(schema, value, where, errors) {
  schema = deref(schema);
  if (value === null) {
    if (!nullable(schema) && typeOfSchema(schema) !== undefined) errors.push(`${where}: null, but not nullable`);
    return;
  }
  const enumOf = schema.enum ?? (schema.allOf ?? []).map(deref).find((s) => s.enum)?.enum;
  if (enumOf && !enumOf.includes(value)) errors.push(`${where}: ${JSON.stringify(value)} is not one of ${enumOf.join(", ")}`);
  const type = typeOfSchema(schema);
  const actual = typeOf(value);
  if (type === undefined) return; // any JSON
  if (type === "number" ? actual !== "number" && actual !== "integer" : type !== actual) {
    errors.push(`${where}: ${actual}, documented as ${type}`);
    return;
  }
  if (type === "array") {
    const items = schema.items ?? (schema.allOf ?? []).map(deref).find((s) => s.items)?.items;
    if (items) value.forEach((v, i) => check(items, v, `${where}[${i}]`, errors));
  }
  if (type === "object") {
    const shape = objectShape(schema);
    for (const r of shape.required) if (!(r in value)) errors.push(`${where}.${r}: required, but missing`);
    for (const [k, v] of Object.entries(value)) {
      if (k in shape.properties) check(shape.properties[k], v, `${where}.${k}`, errors);
      else if (shape.typed && !shape.open) errors.push(`${where}.${k}: sent, but not in the document`);
    }
  }
}

/** The documented operation for a request, if any. */
export function operationFor(method, pathname) {
  return operations.find((o) => o.method === method && o.re.test(pathname));
}

/**
 * A fetch that checks every JSON answer of a documented operation;
 * violations are pushed to `violations` as strings.
 */
export function contractFetch(violations, inner = globalThis.fetch) {
  return async (url, init = {}) => {
    const res = await inner(url, init);
    const method = init.method ?? "GET";
    const { pathname } = new URL(url);
    const op = operationFor(method, pathname);
    const type = res.headers.get("content-type") ?? "";
    if (!op || !type.startsWith("application/json")) return res;
    const documented = deref(op.op.responses[String(res.status)] ?? op.op.responses.default);
    const what = `${method} ${op.path} -> ${res.status}`;
    if (!documented) {
      violations.push(`${what}: status not documented`);
      return res;
    }
    // Public routes answer whatever the function returns.
    if (documented.content?.["*/*"]) return res;
    const schema = documented.content?.["application/json"]?.schema;
    if (!schema) {
      violations.push(`${what}: JSON answer, none documented`);
      return res;
    }
    const body = await res.clone().json();
    const errors = [];
    check(schema, body, "body", errors);
    for (const e of errors) violations.push(`${what}: ${e}`);
    return res;
  };
}
