// Every error class, each produced by a real answer of a live server (or
// by a real failure to get one).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AbortError,
  AuthenticationError,
  CodeSyntaxError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionError,
  Quasm,
  QuasmError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "../dist/esm/index.js";
import { contractFetch } from "./helpers/contract.mjs";
import { TestServer } from "./helpers/server.mjs";

const SLOW = `export default { async run(input) { await new Promise(r => setTimeout(r, input.ms)); return "late"; } };`;

/** Every test and hook is bounded: a hang fails the suite instead of stalling CI. */
const LIMIT = 60_000;

let server;
let admin;
/** Error answers are checked against the document too (their Problem schema and documented status). */
const violations = [];
const checked = () => contractFetch(violations);

before(async () => {
  server = await TestServer.start();
  admin = new Quasm({ url: server.url, token: server.token("acme", ["admin"]), fetch: checked() });
  await admin.functions.create({ name: "slow", code: SLOW });
}, { timeout: LIMIT });

after(async () => {
  await server?.stop();
});

/** Asserts `promise` rejects with `Class` and returns the error. */
async function rejection(promise, Class) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e?.name}: ${e?.message}`);
    assert.ok(e instanceof QuasmError, "every error is a QuasmError");
    assert.equal(e.name, Class.name);
    return e;
  }
  assert.fail(`expected ${Class.name}, but it resolved`);
}

test("400 invalid_request is a ValidationError naming the field", { timeout: LIMIT }, async () => {
  const e = await rejection(admin.functions.create({ name: "Bad Name!", code: "export default {}" }), ValidationError);
  assert.equal(e.status, 400);
  assert.equal(e.code, "invalid_request");
  assert.equal(e.field, "name");
  const limits = await rejection(admin.functions.update("slow", { limits: { memory_mb: 100000 } }), ValidationError);
  assert.equal(limits.field, "limits.memory_mb");
});

test("400 syntax_error is a CodeSyntaxError with line and column", { timeout: LIMIT }, async () => {
  const e = await rejection(admin.versions.create("slow", { code: "export default {\n  run( {\n}" }), CodeSyntaxError);
  assert.ok(e instanceof ValidationError, "a syntax error is a kind of validation error");
  assert.equal(e.code, "syntax_error");
  assert.equal(typeof e.line, "number");
  assert.equal(typeof e.column, "number");
  assert.ok(e.line >= 2, `line ${e.line}`);
});

test("401 is an AuthenticationError", { timeout: LIMIT }, async () => {
  const bad = new Quasm({ url: server.url, token: "not-a-jwt", fetch: checked() });
  const e = await rejection(bad.functions.list(), AuthenticationError);
  assert.equal(e.status, 401);
  assert.equal(e.code, "invalid_token");
  assert.equal(e.headers.get("www-authenticate"), "Bearer");
});

test("403 is a PermissionError naming the role needed", { timeout: LIMIT }, async () => {
  const viewer = new Quasm({ url: server.url, token: server.token("acme", ["viewer"]), fetch: checked() });
  const e = await rejection(viewer.functions.create({ name: "x", code: "export default {}" }), PermissionError);
  assert.equal(e.status, 403);
  assert.equal(e.requiredRole, "developer");
  const dev = new Quasm({ url: server.url, token: server.token("acme", ["developer"]), fetch: checked() });
  assert.equal((await rejection(dev.versions.create("slow", { code: SLOW }), PermissionError)).requiredRole, "operator");
});

test("404 is a NotFoundError, also for another tenant's resources", { timeout: LIMIT }, async () => {
  const e = await rejection(admin.functions.get("missing"), NotFoundError);
  assert.equal(e.code, "not_found");
  const other = new Quasm({ url: server.url, token: server.token("globex", ["admin"]), fetch: checked() });
  await rejection(other.functions.get("slow"), NotFoundError);
});

test("409 is a ConflictError", { timeout: LIMIT }, async () => {
  const e = await rejection(admin.functions.create({ name: "slow", code: SLOW }), ConflictError);
  assert.equal(e.status, 409);
  const run = await admin.runs.start("slow", { ms: 1 });
  await run.result();
  const finished = await rejection(run.cancel(), ConflictError);
  assert.equal(finished.code, "invalid_state");
});

test("no answer within timeoutMs is a TimeoutError; an aborted call is an AbortError", { timeout: LIMIT }, async () => {
  const started = Date.now();
  await rejection(admin.invoke("slow", { ms: 3000 }, { timeoutMs: 300 }), TimeoutError);
  assert.ok(Date.now() - started < 2500, "invoke is not retried after a timeout");
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await rejection(admin.invoke("slow", { ms: 3000 }, { signal: controller.signal }), AbortError);
  await rejection(admin.functions.list({ signal: AbortSignal.abort() }), AbortError);
});

test("a refused connection is a ConnectionError after the retries", { timeout: LIMIT }, async () => {
  const gone = await TestServer.start();
  const url = gone.url;
  await gone.stop();
  const client = new Quasm({ url, token: "t", maxRetries: 1 });
  const started = Date.now();
  const e = await rejection(client.functions.list(), ConnectionError);
  assert.equal(e.status, 0);
  assert.equal(e.code, "connection_error");
  assert.match(e.message, /ECONNREFUSED|fetch failed/);
  assert.ok(Date.now() - started >= 300, "one retry after a backoff");
});

test("every error answer matched the API document", () => {
  assert.deepEqual(violations, [], "answers that differ from gateway/openapi.json");
});

test("5xx is a ServerError (the database is gone)", { timeout: LIMIT }, async () => {
  server.dropDatabase();
  const client = new Quasm({ url: server.url, token: server.token("acme", ["admin"]), maxRetries: 0 });
  const e = await rejection(client.ready(), ServerError);
  assert.equal(e.status, 503);
  assert.equal(e.code, "not_ready");
});
