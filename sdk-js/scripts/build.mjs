// Builds the package with tsc, twice from the same sources: ES modules in
// dist/esm (the package is "type": "module") and CommonJS in dist/cjs, which
// gets its own {"type": "commonjs"} package.json so Node loads it as such.
// Each folder carries its own .d.ts files, so `import` and `require` users
// both get types that match the module format they load.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules/typescript/bin/tsc");
rmSync(join(root, "dist"), { recursive: true, force: true });
for (const config of ["tsconfig.esm.json", "tsconfig.cjs.json"]) {
  execFileSync(process.execPath, [tsc, "-p", config], { cwd: root, stdio: "inherit" });
}
mkdirSync(join(root, "dist/cjs"), { recursive: true });
writeFileSync(join(root, "dist/cjs/package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
console.log("built dist/esm and dist/cjs");
