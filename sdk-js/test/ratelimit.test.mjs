// Retries honour a real 429 and its Retry-After: a server started with a
// limit of one request per second per tenant.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Quasm, RateLimitError } from "../dist/esm/index.js";
import { TestServer, recordingFetch, sleep } from "./helpers/server.mjs";

/** Every test and hook is bounded: a hang fails the suite instead of stalling CI. */
const LIMIT = 60_000;

let server;
let token;

before(async () => {
  server = await TestServer.start({ args: ["--rate-limit-tenant-rps", "1"] });
  token = server.token("acme", ["admin"]);
  const q = new Quasm({ url: server.url, token });
  await q.functions.create({ name: "f", code: "export default { run() { return 1; } }" });
  await sleep(1100);
}, { timeout: LIMIT });

after(async () => {
  await server?.stop();
});

test("a GET refused with 429 is retried after Retry-After and succeeds", { timeout: LIMIT }, async () => {
  const log = [];
  const q = new Quasm({ url: server.url, token, fetch: recordingFetch(log) });
  await q.functions.list();
  const started = Date.now();
  const fns = await q.functions.list();
  const waited = Date.now() - started;
  assert.deepEqual(fns.map((f) => f.name), ["f"]);
  assert.deepEqual(log.map((r) => r.status), [200, 429, 200]);
  assert.ok(waited >= 900, `waited ${waited} ms for Retry-After: 1`);
});

test("with maxRetries 0 the 429 is a RateLimitError with retryAfter", { timeout: LIMIT }, async () => {
  await sleep(1100);
  const q = new Quasm({ url: server.url, token });
  await q.functions.get("f");
  const e = await q.functions.get("f", { maxRetries: 0 }).catch((e) => e);
  assert.ok(e instanceof RateLimitError, String(e));
  assert.equal(e.status, 429);
  assert.equal(e.code, "too_many_requests");
  assert.equal(e.retryAfter, 1);
});

test("invoke is not repeated, but a publish is (its idempotency key makes that safe)", { timeout: LIMIT }, async () => {
  await sleep(1100);
  const log = [];
  const q = new Quasm({ url: server.url, token, fetch: recordingFetch(log) });
  await q.functions.get("f");
  await assert.rejects(q.invoke("f", null), RateLimitError);
  assert.deepEqual(log.map((r) => r.status), [200, 429], "one POST, no retry");

  await sleep(1100);
  log.length = 0;
  await q.functions.get("f");
  const published = await q.events.publish("thing.happened", { n: 1 });
  assert.equal(published.duplicate, false);
  assert.deepEqual(log.map((r) => r.status), [200, 429, 202]);
  const [first, retry] = log.slice(1).map((r) => JSON.parse(r.body));
  assert.ok(first.idempotency_key, "the SDK generated an idempotency key");
  assert.equal(retry.idempotency_key, first.idempotency_key, "the retry sends the same key");
});
