// The life cycle of every resource through the SDK against a live
// `quasm serve` on real Postgres; every JSON answer is also checked against
// gateway/openapi.json (helpers/contract.mjs).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { AuthenticationError, NotFoundError, Quasm } from "../dist/esm/index.js";
import { contractFetch } from "./helpers/contract.mjs";
import { TestServer, eventually } from "./helpers/server.mjs";

const HELLO = (v) => `export default {
  async fetch(req, env, ctx) { return Response.json({ hi: ctx.params.who, v: ${v} }); },
  async run(input, env, ctx) { console.log("running"); return { echo: input, v: ${v} }; },
  async scheduled(event) { return { cron: event.cron }; },
  async event(event) { return { got: event.type }; },
};`;

/** Every test and hook is bounded: a hang fails the suite instead of stalling CI. */
const LIMIT = 60_000;

let server;
let quasm;
let receiver;
const violations = [];
const hooks = [];

before(async () => {
  server = await TestServer.start({ env: { QUASM_FETCH_ALLOW_NETS: "127.0.0.1/32" } });
  quasm = new Quasm({ url: server.url, token: server.token("acme", ["admin"]), fetch: contractFetch(violations) });
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d)).on("end", () => {
      hooks.push({ path: req.url, headers: req.headers, body: JSON.parse(body) });
      res.end("ok");
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
}, { timeout: LIMIT });

after(async () => {
  receiver?.close();
  await server?.stop();
});

test("health, readiness, metrics and the API document", { timeout: LIMIT }, async () => {
  assert.equal(await quasm.health(), "ok\n");
  assert.equal(await quasm.ready(), "ready\n");
  assert.match(await quasm.metrics(), /^# TYPE quasm_\w+ (gauge|counter|histogram)$/m);
  const doc = await quasm.openapi();
  assert.equal(doc.openapi, "3.0.3");
});

test("functions and versions: create, read, change, deploy, roll back, invoke, delete", { timeout: LIMIT }, async () => {
  const created = await quasm.functions.create({ name: "hello", code: HELLO(1), description: "greets", tags: ["demo"] });
  assert.equal(created.live_version, 1);
  assert.deepEqual(created.tags, ["demo"]);
  assert.ok((await quasm.functions.list()).some((f) => f.name === "hello"));
  assert.equal((await quasm.functions.get("hello")).description, "greets");
  const updated = await quasm.functions.update("hello", { description: "greets you", env: { GREETING: "hi" } });
  assert.equal(updated.description, "greets you");
  assert.deepEqual(updated.env, { GREETING: "hi" });

  const v2 = await quasm.versions.create("hello", { code: HELLO(2), message: "second" });
  assert.equal(v2.number, 2);
  assert.equal(v2.live, true);
  const staged = await quasm.versions.create("hello", { code: HELLO(3), deploy: false });
  assert.equal(staged.live, false);
  const versions = await quasm.versions.list("hello");
  assert.deepEqual(versions.map((v) => v.number), [3, 2, 1]);
  assert.match((await quasm.versions.get("hello", 1)).code, /v: 1/);

  let r = await quasm.invoke("hello", { x: 1 });
  assert.equal(r.status, "ok");
  assert.deepEqual(r.output, { echo: { x: 1 }, v: 2 });
  assert.equal(r.version, 2);
  assert.deepEqual(r.logs.map((l) => l.message), ["running"]);
  await quasm.functions.rollback("hello", 1);
  assert.equal((await quasm.invoke("hello", null)).output.v, 1);
  await quasm.functions.deploy("hello", 3);
  r = await quasm.invoke("hello", { x: 2 });
  assert.equal(r.output.v, 3);
  const ev = await quasm.invoke("hello", { type: "x" }, { handler: "event" });
  assert.equal(ev.status, "ok");

  const exec = await quasm.executions.get(r.execution_id);
  assert.equal(exec.function, "hello");
  assert.deepEqual(exec.input, { x: 2 });
  const accepted = await quasm.invokeAsync("hello", { later: true });
  const done = await quasm.runs.get(accepted.execution_id).result();
  assert.equal(done.status, "ok");
  assert.deepEqual(done.output, { echo: { later: true }, v: 3 });
});

test("schedules: create in a time zone, preview, runs, update, delete", { timeout: LIMIT }, async () => {
  const s = await quasm.schedules.create("hello", { cron: "0 3 * * *", timezone: "Europe/Paris", input: { nightly: true } });
  assert.equal(s.timezone, "Europe/Paris");
  assert.deepEqual((await quasm.schedules.list("hello")).map((x) => x.id), [s.id]);
  assert.equal((await quasm.schedules.get("hello", s.id)).cron, "0 3 * * *");
  const next = await quasm.schedules.preview("hello", s.id, { count: 3 });
  assert.equal(next.length, 3);
  for (const t of next) {
    const paris = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });
    assert.equal(paris.format(new Date(t)), "03:00", t);
  }
  assert.deepEqual(await quasm.schedules.runs("hello", s.id, { limit: 5 }), []);
  const off = await quasm.schedules.update("hello", s.id, { enabled: false });
  assert.equal(off.enabled, false);
  await quasm.schedules.delete("hello", s.id);
  assert.deepEqual(await quasm.schedules.list("hello"), []);
});

test("routes: create, call, list, delete", { timeout: LIMIT }, async () => {
  const route = await quasm.routes.create({ path: "/hello/:who", function: "hello", auth: "public" });
  assert.deepEqual((await quasm.routes.list()).map((r) => r.id), [route.id]);
  const res = await quasm.routes.fetch("acme", "/hello/ada");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { hi: "ada", v: 3 });
  await quasm.routes.delete(route.id);
  assert.equal((await quasm.routes.fetch("acme", "/hello/ada")).status, 404);
});

test("subscriptions and events: publish, idempotency, batches", { timeout: LIMIT }, async () => {
  const sub = await quasm.subscriptions.create({ function: "hello", event_type: "order.*" });
  assert.equal((await quasm.subscriptions.get(sub.id)).event_type, "order.*");
  assert.deepEqual((await quasm.subscriptions.list()).map((s) => s.id), [sub.id]);

  const one = await quasm.events.publish("order.created", { id: 7 }, { key: "order-7" });
  assert.equal(one.deliveries, 1);
  assert.equal(one.duplicate, false);
  const first = await quasm.events.publish("order.paid", { id: 7 }, { idempotencyKey: "pay-7" });
  const again = await quasm.events.publish("order.paid", { id: 7 }, { idempotencyKey: "pay-7" });
  assert.equal(again.duplicate, true);
  assert.equal(again.id, first.id);
  const batch = await quasm.events.publishBatch([{ type: "order.a", payload: 1 }, { type: "other.b", key: "k" }]);
  assert.deepEqual(batch.map((b) => b.deliveries), [1, 0]);

  // Every delivery ran the event handler.
  await eventually("3 event executions", async () => {
    let n = 0;
    for await (const e of quasm.executions.list({ function: "hello", trigger: "event" })) if (e.status === "ok") n++;
    return n >= 3;
  });
  await quasm.subscriptions.delete(sub.id);
  await assert.rejects(quasm.subscriptions.get(sub.id), NotFoundError);
});

test("alerts: create a webhook rule, test it, read its notifications, change, delete", { timeout: LIMIT }, async () => {
  const { port } = receiver.address();
  const rule = await quasm.alerts.create({
    name: "ops",
    function: "hello",
    on_failure: true,
    channel: { type: "webhook", url: `http://127.0.0.1:${port}/hook` },
  });
  assert.match(rule.signing_secret, /^whsec_/);
  assert.deepEqual((await quasm.alerts.list()).map((a) => a.name), ["ops"]);
  assert.equal((await quasm.alerts.get(rule.id)).signing_secret, undefined, "the secret is shown once");
  const sent = await quasm.alerts.test(rule.id);
  assert.equal(sent.delivered, true, JSON.stringify(sent));
  assert.equal(hooks.at(-1).body.type, "test");
  assert.match(hooks.at(-1).headers["quasm-signature"], /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal((await quasm.alerts.notifications(rule.id, { limit: 10 })).length, 1);
  assert.equal((await quasm.alerts.update(rule.id, { enabled: false })).enabled, false);
  await quasm.alerts.delete(rule.id);
  assert.deepEqual(await quasm.alerts.list(), []);
});

test("API keys: create, authenticate with one, list, delete", { timeout: LIMIT }, async () => {
  const key = await quasm.apiKeys.create({ name: "ci", roles: ["viewer"] });
  assert.match(key.key, /^qk_/);
  const withKey = new Quasm({ url: server.url, apiKey: key.key, fetch: contractFetch(violations) });
  assert.ok((await withKey.functions.list()).some((f) => f.name === "hello"));
  assert.ok((await quasm.apiKeys.list()).some((k) => k.id === key.id));
  await quasm.apiKeys.delete(key.id);
  await assert.rejects(withKey.functions.list(), AuthenticationError);
});

test("tenant settings and the audit log", { timeout: LIMIT }, async () => {
  const t = await quasm.tenant.get();
  assert.equal(t.id, "acme");
  const changed = await quasm.tenant.update({ retention_days: 7 });
  assert.equal(changed.settings.retention_days, 7);
  assert.equal(changed.effective_retention_days, 7);
  const actions = (await quasm.audit.list({ limit: 100 })).map((e) => e.action);
  for (const a of ["function.create", "version.rollback", "api_key.delete", "tenant.update"]) assert.ok(actions.includes(a), a);
});

test("deleting a function, and every answer matched the API document", { timeout: LIMIT }, async () => {
  await quasm.functions.delete("hello");
  await assert.rejects(quasm.functions.get("hello"), NotFoundError);
  assert.deepEqual(violations, [], "answers that differ from gateway/openapi.json");
});
