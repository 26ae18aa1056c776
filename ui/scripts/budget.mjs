// Measures the console's load budget: the JS and CSS a browser fetches to
// sign in and reach the functions list (gzip -9 sizes of those files in
// dist/; target ≤ 250 KiB, Monaco excluded — and Monaco must not load),
// then the editor's extra load. Uses the test harness: a real server,
// Debian's Chromium. `npm run budget` (after `npm run build` and a cargo
// build of quasm).

import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Server, browser } from "../tests/harness.mjs";

const dist = new URL("../dist/", import.meta.url).pathname;
const s = await Server.start();
const b = await browser();
try {
  const token = s.token("budget", "developer");
  const ctx = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const seen = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (/\.(js|css)$/.test(u.pathname)) seen.push(u.pathname);
  });
  const t0 = Date.now();
  await page.goto(s.url + "/functions");
  await page.getByLabel("Token or API key").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("No functions yet").waitFor();
  const listMs = Date.now() - t0;
  const first = [...new Set(seen)];
  await s.api(token, "POST", "/functions", { name: "budget", code: "export default { run() { return 1; } };" });
  seen.length = 0;
  const t1 = Date.now();
  await page.goto(s.url + "/functions/budget");
  await page.locator(".q-editor[data-ready]").waitFor();
  const editorMs = Date.now() - t1;
  const editor = [...new Set(seen)];

  const size = (files) =>
    files.reduce((n, f) => n + gzipSync(readFileSync(dist + f.replace(/^\//, "")), { level: 9 }).length, 0);
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const monaco = first.filter((f) => /monaco|tsMode|worker/.test(f));
  const firstSize = size(first);
  console.log("sign-in + functions list:");
  for (const f of first) console.log(`  ${f}  ${kib(size([f]))}`);
  console.log(`  total ${kib(firstSize)} (gzip -9), budget 250 KiB: ${firstSize <= 250 * 1024 ? "OK" : "OVER"}`);
  console.log(`  Monaco files loaded: ${monaco.length ? monaco.join(", ") : "none"}`);
  console.log(`  wall time from navigation to the list (incl. sign-in): ${listMs} ms`);
  console.log(`editor page (Monaco ready): ${kib(size(editor))} more (gzip -9, workers included), ${editorMs} ms`);
  if (firstSize > 250 * 1024 || monaco.length) process.exitCode = 1;
} finally {
  await b.close();
  await s.stop();
}
