// Measures the console's budgets (figures printed, not timed tests):
//  1. the JS and CSS a browser fetches to sign in and reach the functions
//     list (gzip -9 sizes of those files in dist/; ≤ 250 KiB, Monaco
//     excluded — and Monaco must not load);
//  2. the functions list with 1,000 functions (created through the API)
//     interactive after navigation (≤ 1 s on this machine): from the click
//     on "Functions" (and from a full page load) to the first page of rows
//     rendered with the main thread free again;
//  3. an editor page with Monaco ready (≤ 1.5 s), and its extra load.
// Uses the test harness: a real `quasm serve` on real Postgres, Debian's
// Chromium. `npm run budget` (after `npm run build` and a cargo build of
// quasm). QUASM_BUDGET_FUNCTIONS changes the 1,000.

import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { SHOTS, Server, browser } from "../tests/harness.mjs";

const dist = new URL("../dist/", import.meta.url).pathname;
const N = Number(process.env.QUASM_BUDGET_FUNCTIONS ?? 1000);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const size = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(dist + f.replace(/^\//, "")), { level: 9 }).length, 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Resolves once the page has painted and its main thread ran a task after that. */
const settled = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));

const s = await Server.start();
const b = await browser();
let over = false;
try {
  const token = s.token("budget", "operator");
  const ctx = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(60_000);
  const seen = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (/\.(js|css)$/.test(u.pathname)) seen.push(u.pathname);
  });

  // 1. Sign in and reach the (empty) functions list.
  const t0 = Date.now();
  await page.goto(s.url + "/functions");
  await page.getByLabel("Token or API key").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("No functions yet").waitFor();
  const signInMs = Date.now() - t0;
  const first = [...new Set(seen)];
  const firstSize = size(first);
  const monaco = first.filter((f) => /monaco|tsMode|worker|editor/i.test(f));
  console.log("1. sign-in + functions list, JS+CSS fetched:");
  for (const f of first) console.log(`     ${f}  ${kib(size([f]))}`);
  console.log(`   total ${kib(firstSize)} (gzip -9); budget 250 KiB: ${firstSize <= 250 * 1024 ? "OK" : "OVER"}`);
  console.log(`   Monaco files loaded: ${monaco.length ? monaco.join(", ") : "none"}`);
  console.log(`   wall time from navigation to the list, sign-in included: ${signInMs} ms`);
  if (firstSize > 250 * 1024 || monaco.length) over = true;

  // 2. 1,000 functions, created through the API (4 at a time: 8 at once with the
  // harness's pool of 8 database connections stalled the server here).
  const tc = Date.now();
  const code = "export default { run(input) { return input; } };";
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < N) {
        const i = next++;
        const name = `fn-${String(i).padStart(4, "0")}`;
        await s.api(token, "POST", "/functions", { name, code, description: `budget function ${i}`, tags: [i % 2 ? "odd" : "even"] });
      }
    }),
  );
  console.log(`2. ${N} functions created through the API in ${((Date.now() - tc) / 1000).toFixed(1)} s`);
  const rows = page.getByRole("table", { name: "Functions" }).locator("tbody tr");
  const nav = (name) => page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });
  const navMs = [];
  const loadMs = [];
  const detailsMs = [];
  for (let i = 0; i < 3; i++) {
    // From another page of the console, a click on "Functions".
    await nav("Home").click();
    await page.getByRole("heading", { name: "Home" }).waitFor();
    await settled(page);
    const a = Date.now();
    await nav("Functions").click();
    await rows.nth(49).waitFor();
    await settled(page);
    navMs.push(Date.now() - a);
    // The per-page details (schedules, last runs) arrive after the rows.
    await page.waitForFunction(() => !document.querySelector('table[aria-label="Functions"] tbody')?.textContent?.includes("…"));
    detailsMs.push(Date.now() - a);
    // A full load of the bookmarked URL (session restored from the tab).
    const c = Date.now();
    await page.reload();
    await rows.nth(49).waitFor();
    await settled(page);
    loadMs.push(Date.now() - c);
  }
  const shown = await rows.count();
  // Interactive: a click on a control of the list takes effect at once.
  const c0 = Date.now();
  await page.getByRole("checkbox", { name: "Select all on this page" }).check();
  await page.getByText("50 functions selected").waitFor();
  const clickMs = Date.now() - c0;
  const c1 = Date.now();
  await page.getByRole("button", { name: `Select all ${N} functions` }).click();
  await page.getByText(`${N} functions selected`).waitFor();
  const allMs = Date.now() - c1;
  await page.screenshot({ path: join(SHOTS, "budget-functions-1000.png") });
  const m = median(navMs);
  console.log(`   functions list with ${N} functions (${shown} rows rendered per page, pages of 50):`);
  console.log(`     click on "Functions" → rows rendered, main thread free: median ${m} ms (runs: ${navMs.join(", ")}); budget 1000 ms: ${m <= 1000 ? "OK" : "OVER"}`);
  console.log(`     full page load of /functions → same: median ${median(loadMs)} ms (runs: ${loadMs.join(", ")})`);
  console.log(`     … with the page's schedules and last runs filled in: median ${median(detailsMs)} ms`);
  console.log(`     "Select all on this page" click → 50 selected shown: ${clickMs} ms; "Select all ${N} functions" → shown: ${allMs} ms`);
  if (m > 1000) over = true;

  // 3. The editor, Monaco ready (cold: first editor of this tab).
  seen.length = 0;
  const t1 = Date.now();
  await page.goto(s.url + "/functions/fn-0000");
  await page.locator(".q-editor[data-ready]").waitFor();
  const editorMs = Date.now() - t1;
  const editor = [...new Set(seen)];
  // Workers load in parallel with the editor: say which ones came before "ready".
  for (const f of editor) console.log(`     ${f}  ${kib(size([f]))}`);
  console.log(`3. editor page, Monaco ready: ${editorMs} ms (full page load; budget 1500 ms: ${editorMs <= 1500 ? "OK" : "OVER"}), ${kib(size(editor))} of JS+CSS (gzip -9, workers included)`);
  const eds = [];
  for (let i = 0; i < 3; i++) {
    await nav("Functions").click();
    await rows.nth(49).waitFor();
    const e0 = Date.now();
    await page.getByRole("link", { name: `fn-000${i + 1}`, exact: true }).click();
    await page.locator(".q-editor[data-ready]").waitFor();
    eds.push(Date.now() - e0);
  }
  console.log(`   from the list to another function's editor, Monaco ready: median ${median(eds)} ms (runs: ${eds.join(", ")})`);
  if (editorMs > 1500) over = true;
} finally {
  await b.close();
  await s.stop();
}
if (over) process.exitCode = 1;
