// GET /api/v1/types against a live `quasm serve` with a service binding
// that has an OpenAPI document: the served declarations (quasm.d.ts plus the
// binding's generated ones) compile with `tsc --strict` together with a
// function that uses env.HOST's typed methods and ctx.user, and a misuse of
// those methods does not compile (the types are real, not `any`).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { TestServer } from "./helpers/server.mjs";

const LIMIT = 60_000;
const TSC = new URL("../node_modules/typescript/bin/tsc", import.meta.url).pathname;

const OPENAPI = {
  openapi: "3.0.3",
  info: { title: "host", version: "1" },
  paths: {
    "/clients": {
      get: {
        operationId: "list", tags: ["clients"],
        parameters: [{ name: "limit", in: "query", schema: { type: "integer" } }],
        responses: { 200: { description: "ok", content: { "application/json": { schema: { type: "array", items: { $ref: "#/components/schemas/Client" } } } } } },
      },
      post: {
        operationId: "create", tags: ["clients"],
        requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/NewClient" } } } },
        responses: { 201: { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Client" } } } } },
      },
    },
    "/clients/{id}": {
      get: {
        operationId: "get", tags: ["clients"],
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Client" } } } } },
      },
    },
    "/health": { get: { operationId: "health", responses: { 200: { description: "ok" } } } },
  },
  components: {
    schemas: {
      Client: {
        type: "object", required: ["id", "name"],
        properties: { id: { type: "string" }, name: { type: "string" }, tier: { type: "string", enum: ["gold", "silver"], nullable: true }, tags: { type: "array", items: { type: "string" } } },
      },
      NewClient: { type: "object", required: ["name"], properties: { name: { type: "string" }, "e-mail": { type: "string" } } },
    },
  },
};

const USE = `
export default {
  async run(input: unknown, env: Env, ctx: ExecutionContext) {
    const clients = await env.HOST.clients.list({ limit: 10 });
    const names: string[] = clients.map((c) => c.name);
    const created = await env.HOST.clients.create({ body: { name: "Ada", "e-mail": "ada@example.com" } });
    const one = await env.HOST.clients.get({ id: created.id });
    const tier: "gold" | "silver" | null | undefined = one.tier;
    await env.HOST.health();
    const raw: Response = await env.HOST.fetch("/clients?limit=1", { method: "GET" });
    const user = ctx.user;
    const who: string = user ? user.id + user.roles.join() + user.permissions.join() : "cron";
    await env.PLAIN.fetch("/x");
    return { names, tier, status: raw.status, who };
  },
} satisfies QuasmHandlers;
`;

const MISUSE = `
export default {
  async run(input: unknown, env: Env) {
    await env.HOST.clients.list({ limit: "ten" });
    await env.HOST.clients.get({});
    const n: number = (await env.HOST.clients.get({ id: "1" })).name;
    return n;
  },
} satisfies QuasmHandlers;
`;

let server;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "quasm-types-"));
  writeFileSync(join(dir, "host.json"), JSON.stringify(OPENAPI));
  server = await TestServer.start({
    env: {
      QUASM_BINDING_HOST_URL: "http://127.0.0.1:9/api",
      QUASM_BINDING_HOST_OPENAPI: join(dir, "host.json"),
      QUASM_BINDING_HOST_TENANTS: "acme",
      QUASM_BINDING_PLAIN_URL: "http://127.0.0.1:9/plain",
      QUASM_BINDING_OTHER_URL: "http://127.0.0.1:9/other",
      QUASM_BINDING_OTHER_TENANTS: "zeta",
    },
  });
}, { timeout: LIMIT });

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function types(tenant) {
  const res = await fetch(`${server.url}/api/v1/types`, { headers: { authorization: `Bearer ${server.token(tenant, ["viewer"])}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/typescript/);
  return res.text();
}

async function tsc(decls, code) {
  const d = mkdtempSync(join(dir, "tsc-"));
  writeFileSync(join(d, "quasm.d.ts"), decls);
  writeFileSync(join(d, "fn.ts"), code);
  // No lib.dom and no @types: quasm.d.ts is the whole world of a function.
  const compilerOptions = { strict: true, noEmit: true, target: "es2022", module: "es2022", lib: ["es2023"], types: [] };
  writeFileSync(join(d, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["quasm.d.ts", "fn.ts"] }));
  try {
    await promisify(execFile)(process.execPath, [TSC, "-p", d]);
    return "";
  } catch (e) {
    return `${e.stdout}${e.stderr}` || String(e);
  }
}

test("the served declarations compile with tsc --strict and type the binding's methods", { timeout: LIMIT }, async () => {
  const decls = await types("acme");
  assert.ok(decls.includes("interface QuasmHostBinding extends ServiceBinding"), decls.slice(-2000));
  assert.ok(!decls.includes("OTHER"), "a binding of another tenant is not declared");
  assert.equal(await tsc(decls, USE), "");
  const errors = await tsc(decls, MISUSE);
  assert.match(errors, /Type 'string' is not assignable to type 'number'/);
  assert.match(errors, /Property 'id' is missing/);
  assert.equal((errors.match(/error TS/g) ?? []).length, 3, errors);
});

test("another tenant gets only its own bindings", { timeout: LIMIT }, async () => {
  const decls = await types("zeta");
  assert.ok(decls.includes("OTHER: ServiceBinding;"));
  assert.ok(decls.includes("PLAIN: ServiceBinding;"));
  assert.ok(!decls.includes("QuasmHostBinding"), "HOST is for acme only");
});
