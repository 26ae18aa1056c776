// Every operationId of gateway/openapi.json has a client method (the map in
// src/operations.ts), and calling that method sends the operation's HTTP
// method and path. The requests go to a recording fetch that answers a
// canned reply: this checks the routing only; the live-server suites check
// the behaviour.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Quasm, operationMethods } from "../dist/esm/index.js";

const spec = JSON.parse(readFileSync(new URL("../../gateway/openapi.json", import.meta.url), "utf8"));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** operationId -> {method, path} from the document. */
function documented() {
  const ops = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) {
      if (item[m]?.operationId) ops.set(item[m].operationId, { method: m.toUpperCase(), path });
    }
  }
  return ops;
}

const EXEC = "0190c0de-0000-7000-8000-000000000000";
/** Arguments for each operation's method (public routes differ by HTTP method only). */
const ARGS = {
  getOpenApi: [], healthz: [], readyz: [], metrics: [], getTypes: [], getBindingKeys: [],
  listFunctions: [], createFunction: [{ name: "f", code: "x" }], getFunction: ["f"],
  updateFunction: ["f", { description: "d" }], deleteFunction: ["f"],
  deployFunction: ["f", 2], rollbackFunction: ["f", 1],
  listVersions: ["f"], createVersion: ["f", { code: "x" }], getVersion: ["f", 3],
  invokeFunction: ["f", { a: 1 }], startRun: ["f", {}], checkCode: ["export default {}"], getStats: [], getWhoami: [],
  listSchedules: ["f"], createSchedule: ["f", { cron: "* * * * *" }], getSchedule: ["f", 4],
  updateSchedule: ["f", 4, { enabled: false }], deleteSchedule: ["f", 4],
  listScheduleRuns: ["f", 4, { limit: 2 }], previewSchedule: ["f", 4, { count: 2 }],
  listExecutions: [{ limit: 5 }], getExecution: [EXEC], streamExecution: [EXEC], cancelExecution: [EXEC],
  listRoutes: [], createRoute: [{ path: "/a", function: "f", auth: "public" }], deleteRoute: [5],
  publicRouteGet: ["acme", "/a/b", { method: "GET" }],
  publicRoutePut: ["acme", "/a/b", { method: "PUT", body: "x" }],
  publicRoutePost: ["acme", "/a/b", { method: "POST", body: "x" }],
  publicRouteDelete: ["acme", "/a/b", { method: "DELETE" }],
  publicRouteOptions: ["acme", "/a/b", { method: "OPTIONS" }],
  publicRouteHead: ["acme", "/a/b", { method: "HEAD" }],
  publicRoutePatch: ["acme", "/a/b", { method: "PATCH", body: "x" }],
  publicRouteTrace: ["acme", "/a/b", { method: "TRACE" }],
  listApiKeys: [], createApiKey: [{ name: "k", roles: ["viewer"] }], deleteApiKey: ["0123456789abcdef"],
  getTenant: [], updateTenant: [{ retention_days: 3 }], listAuditEntries: [{ limit: 3 }],
  listAlerts: [], createAlert: [{ name: "a", channel: { type: "slack", url: "https://h" } }], getAlert: [6],
  updateAlert: [6, { enabled: false }], deleteAlert: [6], testAlert: [6], listAlertNotifications: [6, { limit: 1 }],
  publishEvent: ["order.created", { id: 1 }], publishEvents: [[{ type: "a" }, { type: "b" }]],
  listSubscriptions: [], createSubscription: [{ function: "f", event_type: "a.*" }], getSubscription: [7],
  deleteSubscription: [7],
  listDeadLetters: [{ limit: 2 }], getDeadLetter: [8], deleteDeadLetter: [8], replayDeadLetter: [8],
  listWebhooks: [], createWebhook: [{ url: "https://h", event_types: ["quasm.*"] }], getWebhook: [9],
  updateWebhook: [9, { enabled: false }], deleteWebhook: [9], rotateWebhookSecret: [9],
  listWebhookDeliveries: [9, { limit: 2 }], getWebhookDelivery: [9, 10], redeliverWebhookDelivery: [9, 10],
};

/** One answer that fits every method: each list's wrapper field, ids, an SSE `end`. */
function cannedReply(url) {
  if (url.endsWith("/stream")) {
    return new Response(`id: 0.0\nevent: status\ndata: {"status":"running"}\n\nevent: end\ndata: {"status":"ok"}\n\n`, {
      headers: { "content-type": "text/event-stream" },
    });
  }
  const body = {
    functions: [], versions: [], schedules: [], runs: [], next: [], executions: [], routes: [], api_keys: [],
    entries: [], alerts: [], notifications: [], events: [], subscriptions: [], dead_letters: [], webhooks: [], deliveries: [], next_cursor: null,
    execution_id: EXEC, status: "queued", stream: `/api/v1/executions/${EXEC}/stream`,
  };
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

function resolveMethod(client, dotted) {
  let owner = client;
  const parts = dotted.split(".");
  for (const p of parts.slice(0, -1)) owner = owner?.[p];
  const fn = owner?.[parts.at(-1)];
  return typeof fn === "function" ? fn.bind(owner) : undefined;
}

function pathPattern(template) {
  const re = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{path\}$/, ".+").replace(/\{[^}]+\}/g, "[^/]+");
  return new RegExp(`^${re}$`);
}

test("every operationId of the API document has a client method", () => {
  const ops = documented();
  assert.ok(ops.size > 50, `the document lists ${ops.size} operations`);
  const missing = [...ops.keys()].filter((id) => !(id in operationMethods));
  assert.deepEqual(missing, [], "operations without a client method: add them to src/operations.ts");
  const stale = Object.keys(operationMethods).filter((id) => !ops.has(id));
  assert.deepEqual(stale, [], "src/operations.ts names operations the document does not have");
  const client = new Quasm({ url: "http://127.0.0.1:1", token: "t" });
  for (const [id, dotted] of Object.entries(operationMethods)) {
    assert.ok(resolveMethod(client, dotted), `${id}: quasm.${dotted} is not a method`);
  }
});

test("each method sends its operation's HTTP method and path", async () => {
  const sent = [];
  const client = new Quasm({
    url: "http://quasm.test",
    token: "t",
    maxRetries: 0,
    fetch: async (url, init) => {
      sent.push({ method: init.method ?? "GET", path: new URL(url).pathname });
      return cannedReply(url);
    },
  });
  for (const [id, { method, path }] of documented()) {
    const args = ARGS[id];
    assert.ok(args, `${id}: no sample arguments in this test`);
    sent.length = 0;
    const result = resolveMethod(client, operationMethods[id])(...args);
    // Lists page lazily and streams are async iterators: consume them.
    if (result && typeof result[Symbol.asyncIterator] === "function") {
      for await (const _ of result) break;
    } else {
      await result;
    }
    assert.ok(sent.length >= 1, `${id}: quasm.${operationMethods[id]} sent nothing`);
    assert.equal(sent[0].method, method, `${id}: HTTP method`);
    assert.match(sent[0].path, pathPattern(path), `${id}: path ${sent[0].path} is not ${path}`);
  }
});
