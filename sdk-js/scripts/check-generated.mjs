// The drift check: regenerates the types from gateway/openapi.json into a
// temporary directory and fails when they differ from the committed ones
// (someone changed the API document without running `npm run generate`).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "./generate.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tmp = mkdtempSync(join(tmpdir(), "quasm-sdk-gen-"));
let drift = 0;
try {
  for (const f of generate(tmp)) {
    const fresh = readFileSync(join(tmp, f), "utf8");
    const committed = readFileSync(join(root, "src/generated", f), "utf8");
    if (fresh !== committed) {
      drift++;
      console.error(`FAIL: sdk-js/src/generated/${f} differs from what gateway/openapi.json generates;` +
        " run `npm run generate` in sdk-js and commit the result");
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (drift) process.exit(1);
console.log("generated types match gateway/openapi.json");
