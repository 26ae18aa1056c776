// Paging through more than two pages: executions (UUID cursors) and dead
// letters (numeric cursors), with `for await`, `.pages()` and `.page()`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { NotFoundError, Quasm } from "../dist/esm/index.js";
import { contractFetch } from "./helpers/contract.mjs";
import { TestServer, eventually } from "./helpers/server.mjs";

/** Every test and hook is bounded: a hang fails the suite instead of stalling CI. */
const LIMIT = 60_000;

let server;
let quasm;
const violations = [];

before(async () => {
  server = await TestServer.start();
  quasm = new Quasm({ url: server.url, token: server.token("acme", ["admin"]), fetch: contractFetch(violations) });
  await quasm.functions.create({ name: "tick", code: "export default { run(input) { return input; } }" });
  await quasm.functions.create({ name: "broken", code: "export default { event() { throw new Error('nope'); } }" });
}, { timeout: LIMIT });

after(async () => {
  await server?.stop();
});

test("executions: for await goes through every page", { timeout: LIMIT }, async () => {
  const ids = [];
  for (let i = 0; i < 7; i++) ids.push((await quasm.invoke("tick", i)).execution_id);
  const list = quasm.executions.list({ function: "tick", limit: 3 });
  const seen = [];
  for await (const e of list) seen.push(e.id);
  assert.deepEqual(seen, [...ids].reverse(), "every execution once, newest first");

  const sizes = [];
  for await (const page of list.pages()) sizes.push(page.executions.length);
  assert.deepEqual(sizes, [3, 3, 1]);

  const first = await list.page();
  assert.equal(first.executions.length, 3);
  assert.equal(typeof first.next_cursor, "string");
  const second = await list.page({ cursor: first.next_cursor });
  assert.deepEqual(second.executions.map((e) => e.id), seen.slice(3, 6));
  assert.deepEqual((await list.toArray({ max: 4 })).map((e) => e.id), seen.slice(0, 4));
  // Filters are the API's query parameters.
  assert.deepEqual(await quasm.executions.list({ function: "tick", status: "error" }).toArray(), []);
});

test("dead letters: paging, replay and delete", { timeout: LIMIT }, async () => {
  await quasm.subscriptions.create({ function: "broken", event_type: "job.*", max_attempts: 1 });
  for (let i = 0; i < 5; i++) await quasm.events.publish(`job.${i}`, { i });
  const all = await eventually("5 dead letters", async () => {
    const dl = await quasm.deadLetters.list({ function: "broken" }).toArray();
    return dl.length === 5 && dl;
  });
  const list = quasm.deadLetters.list({ function: "broken", limit: 2 });
  const sizes = [];
  for await (const page of list.pages()) sizes.push(page.dead_letters.length);
  assert.deepEqual(sizes, [2, 2, 1]);
  const seen = [];
  for await (const d of list) seen.push(d.id);
  assert.deepEqual(seen, all.map((d) => d.id));

  const one = await quasm.deadLetters.get(seen[0]);
  assert.equal(one.function, "broken");
  assert.equal(one.last_error.name, "Error");
  assert.equal(one.last_error.message, "nope");
  assert.equal((await quasm.deadLetters.replay(seen[0])).status, "pending");
  await quasm.deadLetters.delete(seen[1]);
  await assert.rejects(quasm.deadLetters.get(seen[1]), NotFoundError);
});

test("every answer matched the API document", () => {
  assert.deepEqual(violations, [], "answers that differ from gateway/openapi.json");
});
