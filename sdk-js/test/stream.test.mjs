// Runs: progress and logs streamed in order, resumed without loss or repeat
// after the test cuts the connection mid-run, results and cancellation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Quasm } from "../dist/esm/index.js";
import { contractFetch } from "./helpers/contract.mjs";
import { TestServer, recordingFetch, startProxy } from "./helpers/server.mjs";

const STEPS = `export default {
  async run(input, env, ctx) {
    for (let i = 1; i <= 4; i++) {
      console.log("step " + i);
      ctx.progress(i * 25, "step " + i + " of 4");
      await new Promise(r => setTimeout(r, input.pause));
    }
    return { done: input.n };
  }
};`;
const FOREVER = `export default { async run() { await new Promise(r => setTimeout(r, 60000)); } };`;

/** Every test and hook is bounded: a hang fails the suite instead of stalling CI. */
const LIMIT = 60_000;

let server;
let token;
let quasm;
const violations = [];

before(async () => {
  server = await TestServer.start();
  token = server.token("acme", ["developer", "operator"]);
  quasm = new Quasm({ url: server.url, token, fetch: contractFetch(violations) });
  await quasm.functions.create({ name: "job", code: STEPS });
  await quasm.functions.create({ name: "forever", code: FOREVER });
}, { timeout: LIMIT });

after(async () => {
  await server?.stop();
});

function expectSteps(events, n) {
  assert.deepEqual(
    events.map((e) => e.type),
    ["status", ...Array(4).fill(["log", "progress"]).flat(), "end"],
    JSON.stringify(events),
  );
  assert.deepEqual(events.filter((e) => e.type === "log").map((e) => e.data.message), ["step 1", "step 2", "step 3", "step 4"]);
  assert.deepEqual(events.filter((e) => e.type === "progress").map((e) => e.data.percent), [25, 50, 75, 100]);
  assert.equal(events.find((e) => e.type === "progress").data.message, "step 1 of 4");
  const end = events.at(-1).data;
  assert.equal(end.status, "ok");
  assert.deepEqual(end.output, { done: n });
}

test("a run's logs and progress arrive in order, then its result", { timeout: LIMIT }, async () => {
  const run = await quasm.runs.start("job", { n: 1, pause: 100 });
  const events = [];
  for await (const ev of run.events()) events.push(ev);
  expectSteps(events, 1);
  assert.ok(["queued", "running"].includes(events[0].data.status));
  const result = await run.result();
  assert.equal(result.id, run.id);
  assert.equal(result.trigger, "manual");
  assert.deepEqual(result.output, { done: 1 });
});

test("a stream cut mid-run resumes without losing or repeating events", { timeout: LIMIT }, async () => {
  const proxy = await startProxy(server.url);
  try {
    const log = [];
    const q = new Quasm({ url: proxy.url, token, fetch: recordingFetch(log) });
    const run = await q.runs.start("job", { n: 2, pause: 300 });
    const events = [];
    let cut = false;
    for await (const ev of run.events()) {
      events.push(ev);
      if (ev.type === "progress" && !cut) {
        cut = true;
        proxy.cut();
      }
    }
    expectSteps(events, 2);
    const streams = log.filter((r) => r.path.endsWith("/stream"));
    assert.ok(streams.length >= 2, `reconnected: ${JSON.stringify(streams)}`);
    assert.equal(streams[0].lastEventId, null);
    assert.equal(streams[1].lastEventId, "1.1", "resumed after step 1's progress");
    // Following the finished run again replays its logs, then the end.
    const replay = [];
    for await (const ev of q.executions.stream(run.id)) replay.push(ev.type);
    assert.deepEqual(replay, ["log", "log", "log", "log", "end"]);
  } finally {
    await proxy.close();
  }
});

test("a run can be cancelled; its result says so", { timeout: LIMIT }, async () => {
  const run = await quasm.runs.start("forever");
  const seen = [];
  for await (const ev of run.events()) {
    seen.push(ev.type);
    if (ev.type === "status") assert.equal((await run.cancel()).status, "cancelling");
  }
  assert.deepEqual(seen, ["status", "end"]);
  const result = await run.result();
  assert.equal(result.status, "cancelled");
  assert.equal((await quasm.executions.get(run.id)).status, "cancelled");
});

test("leaving the loop early closes the stream; the run goes on", { timeout: LIMIT }, async () => {
  const run = await quasm.runs.start("job", { n: 3, pause: 50 });
  for await (const ev of run.events()) {
    if (ev.type === "log") break;
  }
  const result = await run.result();
  assert.deepEqual(result.output, { done: 3 });
});

test("every answer matched the API document", () => {
  assert.deepEqual(violations, [], "answers that differ from gateway/openapi.json");
});
