// The packed package as users get it: `npm pack`, install the tarball into a
// temporary project (offline: it has no dependencies), then load it with
// ESM `import` and CJS `require`, and compile TypeScript examples with
// `tsc --strict` against its .d.ts files (the client, from a module and
// from CommonJS, and a function typed with @quasm/sdk/function-types).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules/typescript/bin/tsc");
const tmp = mkdtempSync(join(tmpdir(), "quasm-sdk-pack-"));
const run = (cmd, args, cwd = tmp) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });

try {
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tmp], root));
  const files = packed.files.map((f) => f.path);
  for (const f of ["dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/cjs/package.json", "types/quasm.d.ts", "README.md"]) {
    if (!files.includes(f)) throw new Error(`the tarball lacks ${f}`);
  }
  if (files.some((f) => f.startsWith("src/") || f.startsWith("test/"))) throw new Error("the tarball ships sources or tests");
  console.log(`packed ${packed.filename}: ${files.length} files, ${packed.size} bytes`);

  const app = join(tmp, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", join(tmp, packed.filename)], app);
  const installed = JSON.parse(readFileSync(join(app, "node_modules/@quasm/sdk/package.json"), "utf8"));
  if (Object.keys(installed.dependencies ?? {}).length) throw new Error("the package has runtime dependencies");

  const check = `
    const bad = (() => { try { new Quasm({ token: "t" }); } catch (e) { return e; } })();
    if (!(bad instanceof ConfigurationError) || !(bad instanceof QuasmError) || bad.field !== "url") throw new Error("construction check: " + bad);
    const q = new Quasm({ url: "http://127.0.0.1:1/", token: "t", maxRetries: 0 });
    if (q.url !== "http://127.0.0.1:1" || typeof q.functions.list !== "function") throw new Error("client shape");
    q.functions.list().then(() => { throw new Error("no server, yet it answered"); }, (e) => {
      if (!(e instanceof ConnectionError)) throw e;
      console.log(FORMAT + ": ok (" + e.name + ")");
    });`;
  writeFileSync(join(app, "esm.mjs"), `import { Quasm, QuasmError, ConfigurationError, ConnectionError } from "@quasm/sdk";\nconst FORMAT = "import";\n${check}`);
  writeFileSync(join(app, "cjs.cjs"), `const { Quasm, QuasmError, ConfigurationError, ConnectionError } = require("@quasm/sdk");\nconst FORMAT = "require";\n${check}`);
  process.stdout.write(run(process.execPath, ["esm.mjs"], app));
  process.stdout.write(run(process.execPath, ["cjs.cjs"], app));

  // TypeScript, strict, against the shipped declarations.
  const client = `
import { Quasm, QuasmError, RateLimitError, ValidationError, type InvokeResult, type RunEvent, type FunctionInfo } from "@quasm/sdk";

const quasm = new Quasm({ url: "http://127.0.0.1:8080", apiKey: "qk_example", timeoutMs: 2_000, maxRetries: 3 });

export async function price(order: { items: number[] }): Promise<number> {
  try {
    const r: InvokeResult<{ total: number }> = await quasm.invoke<{ total: number }>("pricing", order, { timeoutMs: 500 });
    if (r.status !== "ok" || r.output === null) throw new Error(r.error?.message ?? r.status);
    return r.output.total;
  } catch (e) {
    if (e instanceof RateLimitError) return e.retryAfter ?? 1;
    if (e instanceof ValidationError) return e.field === undefined ? -1 : -2;
    if (e instanceof QuasmError) return e.status;
    throw e;
  }
}

export async function follow(): Promise<string> {
  const run = await quasm.runs.start("migrate", { batch: 100 });
  for await (const ev of run.events()) {
    const e: RunEvent = ev;
    if (e.type === "progress") console.log(e.data.percent.toFixed(0), e.data.message ?? "");
    if (e.type === "log") console.log(e.data.level, e.data.message);
  }
  return (await run.result()).status;
}

export async function lists(): Promise<FunctionInfo[]> {
  for await (const e of quasm.executions.list({ function: "billing", status: "error", limit: 50 })) console.log(e.id, e.duration_ms);
  const page = await quasm.executions.list().page({ cursor: null });
  console.log(page.next_cursor?.toUpperCase());
  // @ts-expect-error: not a filter of GET /api/v1/executions
  quasm.executions.list({ functions: "x" });
  await quasm.events.publish("order.created", { id: 7 }, { key: "order-7", idempotencyKey: "order-7-created" });
  await quasm.schedules.create("export", { cron: "0 2 * * *", timezone: "Europe/Paris", overlap: "skip" });
  return quasm.functions.list();
}
`;
  writeFileSync(join(app, "client.mts"), client);
  writeFileSync(join(app, "client.cts"), client);
  writeFileSync(
    join(app, "handler.ts"),
    `/// <reference types="@quasm/sdk/function-types" />
export default {
  async run(input: { n: number }, env: Env, ctx: ExecutionContext) {
    ctx.progress(50, "halfway");
    await env.KV.put("last", JSON.stringify(input));
    return { double: input.n * 2 };
  },
} satisfies QuasmHandlers;
`,
  );
  const strict = { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", types: [], skipLibCheck: false };
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...strict, lib: ["ES2022", "DOM"] }, files: ["client.mts", "client.cts"] }));
  writeFileSync(join(app, "tsconfig.fn.json"), JSON.stringify({ compilerOptions: { ...strict, lib: ["ES2023"] }, files: ["handler.ts"] }));
  run(process.execPath, [tsc, "-p", "tsconfig.json"], app);
  run(process.execPath, [tsc, "-p", "tsconfig.fn.json"], app);
  console.log("tsc --strict: the client (ESM and CJS) and a function typed with @quasm/sdk/function-types compile");
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
