// Generates src/generated/openapi.ts (request and response types) from
// gateway/openapi.json with the pinned openapi-typescript. Types only: the
// package keeps zero runtime dependencies; the hand-written core does the
// calls. Usage: node scripts/generate.mjs [OUT_DIR] (default src/generated).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SPEC = resolve(root, "../gateway/openapi.json");

/** Writes the generated files into `outDir`; returns their names. */
export function generate(outDir) {
  mkdirSync(outDir, { recursive: true });
  const bin = join(root, "node_modules/openapi-typescript/bin/cli.js");
  const out = join(outDir, "openapi.ts");
  // A default makes a request field optional, not required: without this
  // flag openapi-typescript 7 types `{"enabled": {"default": true}}` in a
  // request body as a field callers must send.
  const flags = ["--default-non-nullable=false"];
  execFileSync(process.execPath, [bin, SPEC, "--output", out, ...flags], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  return ["openapi.ts"];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outDir = resolve(process.argv[2] ?? join(root, "src/generated"));
  for (const f of generate(outDir)) console.log(`generated ${join(outDir, f)}`);
}
