// Writes NAME.br and NAME.gz beside every compressible file of dist/, so
// the gateway (gateway/src/console.rs) sends them as they are: no
// compression at request time and no compression crate in the binary.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = new URL("../dist/", import.meta.url).pathname;
const compressible = /\.(js|mjs|css|html|svg|json|ttf|ts|txt)$/;

function* files(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

let n = 0;
for (const p of files(dir)) {
  if (!compressible.test(p)) continue;
  const data = readFileSync(p);
  if (data.length < 512) continue;
  writeFileSync(`${p}.gz`, gzipSync(data, { level: 9 }));
  writeFileSync(
    `${p}.br`,
    brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    }),
  );
  n++;
}
console.log(`compressed ${n} files in dist/`);
