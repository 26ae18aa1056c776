// The console's flows as a person does them, in Chromium, against a real
// `quasm serve` on real Postgres. Each test saves a screenshot (SHOTS).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Server, browser, eventually, shot, signedIn } from "./harness.mjs";

const JOB = `export default {
  async run(input, env, ctx) {
    for (let i = 1; i <= input.steps; i++) {
      console.log("step " + i);
      ctx.progress(Math.round(i * 100 / input.steps), "step " + i);
      await new Promise((r) => setTimeout(r, 400));
    }
    return { done: input.steps };
  },
};`;
const FAILS = `export default {
  async run(input) { if (input && input.fail) throw new Error("boom"); return { ok: true }; },
  async event(e) { throw new Error("cannot handle " + e.type); },
};`;

describe("console", { timeout: 600_000 }, () => {
  let s, b, admin, operator, viewer, beta;
  before(async () => {
    s = await Server.start();
    b = await browser();
    admin = s.token("acme", "admin");
    operator = s.token("acme", "operator");
    viewer = s.token("acme", "viewer");
    beta = s.token("beta", "admin");
  });
  after(async () => {
    await b?.close();
    await s?.stop();
  });

  test("the console is served with hashed, cached, compressed assets", async () => {
    const r = await fetch(`${s.url}/functions/anything`, { headers: { "accept-encoding": "br" } });
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /<div id="app">/, "the SPA answers its own routes");
    const asset = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, "index.html names a hashed script");
    const a = await fetch(s.url + asset, { headers: { "accept-encoding": "gzip, br" } });
    assert.equal(a.status, 200);
    assert.equal(a.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(a.headers.get("content-encoding"), "br");
    const nope = await fetch(`${s.url}/nope`);
    assert.equal(nope.status, 404, "unknown paths outside the app stay API 404s");
  });

  test("sign in, bad credential, sign out", async () => {
    const ctx = await b.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(s.url + "/");
    await page.getByLabel("Token or API key").fill("not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    await shot(page, "01-sign-in-error");
    await page.getByLabel("Token or API key").fill(operator);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("tenant acme").waitFor();
    assert.ok(!page.url().includes(operator.slice(0, 20)), "the credential never goes in the URL");
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Token or API key").waitFor();
    await ctx.close();
  });

  test("an API key signs in; once revoked, the console returns to sign-in with the reason", async () => {
    const key = await s.api(admin, "POST", "/api-keys", { name: "console-test", roles: ["viewer"] });
    const page = await signedIn(b, s, key.key);
    await page.getByText("role: viewer").waitFor();
    await s.api(admin, "DELETE", `/api-keys/${key.id}`);
    await page.getByRole("link", { name: "Executions" }).click();
    await page.getByLabel("Token or API key").waitFor();
    const reason = await page.getByRole("alert").textContent();
    assert.match(reason ?? "", /revoked/i);
    await shot(page, "02-revoked");
    await page.context().close();
  });

  test("create a Scheduled function from its template, with its schedule", async () => {
    const page = await signedIn(b, s, operator);
    await page.getByRole("link", { name: "Functions" }).click();
    await page.getByText("No functions yet").waitFor();
    await page.getByRole("button", { name: "New function" }).click();
    await page.getByRole("radio", { name: /Scheduled/ }).check();
    await page.getByLabel("Name").fill("nightly-export");
    await page.getByLabel("Cron expression").fill("0 2 * * *");
    await page.getByRole("combobox", { name: "Time zone" }).fill("Asia/Tokyo");
    await shot(page, "03-new-function");
    await page.getByRole("button", { name: "Create function" }).click();
    await page.waitForURL(/\/functions\/nightly-export$/);
    await page.locator(".q-editor[data-ready]").waitFor();
    const schedules = await s.api(admin, "GET", "/functions/nightly-export/schedules");
    assert.equal(schedules.schedules.length, 1);
    assert.equal(schedules.schedules[0].timezone, "Asia/Tokyo");
    await page.context().close();
  });

  test("editor: env.KV. completes, a syntax error is marked on its line, Ctrl+S saves v2", async () => {
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/functions/nightly-export");
    const editor = page.locator(".q-editor[data-ready] .monaco-editor");
    await editor.waitFor();
    // Autocomplete after env.KV. (types from sdk-js/types/quasm.d.ts).
    // Inside the template's nightly(input, env, ctx), after its first line.
    await page.locator(".view-line", { hasText: "const last = await" }).click();
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("env.KV.");
    const suggest = page.locator(".suggest-widget .monaco-list-row");
    await eventually("KV completions", async () => (await suggest.count()) >= 4);
    const labels = await suggest.allTextContents();
    for (const m of ["get", "put", "delete", "list"]) {
      assert.ok(labels.some((l) => l.startsWith(m)), `${m} offered: ${labels}`);
    }
    await page.waitForTimeout(500);
    await shot(page, "04-autocomplete");
    await page.keyboard.press("Escape");
    // A syntax error typed on a known line gets an error marker there.
    // Braces and a comment (no spaces: Monaco renders them as U+00A0):
    // nothing a completion or auto-closing can change.
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("}}//broken");
    // The squiggle's overlay row sits at the same `top` as the line holding the braces.
    // Monaco renders typed text on its next frame: wait for the line.
    const wantedTop = await eventually("the typed line rendered", () =>
      page.evaluate(() =>
        [...document.querySelectorAll(".view-lines .view-line")]
          .map((l) => [l.style.top, l.textContent ?? ""])
          .find(([, t]) => t.includes("}}//broken"))?.[0],
      ),
    );
    await eventually("an error marker on that line", async () => {
      const tops = await page
        .locator(".view-overlays .squiggly-error")
        .evaluateAll((els) => els.map((el) => el.parentElement?.style.top));
      return tops.includes(wantedTop);
    });
    await shot(page, "05-syntax-marker");
    // Undo until the code is clean again, add a line and save with Ctrl+S.
    for (let i = 0; i < 30 && (await page.locator(".view-overlays .squiggly-error").count()) > 0; i++) {
      await page.keyboard.press("Control+z");
      await page.waitForTimeout(150);
    }
    await page.keyboard.press("Control+End");
    await page.keyboard.type("\n// v2: probes the store");
    await page.getByLabel("Version message").fill("probe the store");
    await editor.click();
    await page.keyboard.press("Control+s");
    await page.getByText("Saved v2 (live)").waitFor();
    const vs = await s.api(admin, "GET", "/functions/nightly-export/versions");
    assert.equal(vs.versions.length, 2);
    await page.context().close();
  });

  test("versions: diff v1/v2 and roll back", async () => {
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/functions/nightly-export/versions");
    await page.locator(".monaco-diff-editor").waitFor();
    await page.getByText("Diff v1 → v2").waitFor();
    await shot(page, "06-versions-diff");
    await page.getByRole("button", { name: "Roll back to v1" }).click();
    await eventually("v1 live", async () => (await s.api(admin, "GET", "/functions/nightly-export")).live_version === 1);
    await page.getByRole("button", { name: "Deploy v2" }).waitFor();
    await page.context().close();
  });

  test("run with input: live log lines and the progress bar reach 100 while it runs", async () => {
    await s.api(admin, "POST", "/functions", { name: "migrate", code: JOB });
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/functions/migrate");
    await page.locator(".q-editor[data-ready]").waitFor();
    await page.getByLabel("Input (JSON)").fill("{ not json");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.getByText("Input is not valid JSON").waitFor();
    await page.getByLabel("Input (JSON)").fill('{"steps": 4}');
    await page.getByRole("button", { name: "Run", exact: true }).click();
    // A log line arrives while the run is still going.
    await page.getByRole("list", { name: "Log lines" }).getByText("step 2").waitFor();
    assert.equal(await page.getByRole("button", { name: "Cancel run" }).count(), 1, "still running");
    const bar = page.getByRole("progressbar", { name: "Run progress" });
    await eventually("progress 100", async () => (await bar.getAttribute("aria-valuenow")) === "100");
    await shot(page, "07-run-panel");
    await page.locator(".run-status .status-ok").waitFor();
    await page.getByLabel("Output").getByText('"done": 4').waitFor();
    await shot(page, "08-run-done");
    await page.context().close();
  });

  test("schedule preview shows fire times in the chosen zone", async () => {
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/functions/nightly-export/triggers");
    const table = page.getByRole("table", { name: "Next fire times" });
    await table.waitFor();
    await page.getByText("every day at 02:00").waitFor();
    const first = await table.locator("tbody tr td").first().textContent();
    assert.match(first ?? "", /02:00:00 Asia\/Tokyo$/);
    const utc = await table.locator("tbody tr td").nth(1).textContent();
    assert.match(utc ?? "", /17:00:00 UTC$/, "and in the viewer's zone");
    assert.equal(await table.locator("tbody tr").count(), 10);
    await shot(page, "09-schedule-preview");
    await page.context().close();
  });

  test("executions: filter by status, kept in the URL", async () => {
    await s.api(admin, "POST", "/functions", { name: "flaky", code: FAILS });
    await s.api(admin, "POST", "/functions/flaky/invoke", { input: { fail: true } }).catch(() => {});
    await s.api(admin, "POST", "/functions/flaky/invoke", { input: {} });
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/executions");
    await page.getByRole("table", { name: "Executions" }).waitFor();
    await page.getByLabel("Status").selectOption("error");
    await page.waitForURL(/status=error/);
    const rows = page.getByRole("table", { name: "Executions" }).locator("tbody tr");
    await eventually("error rows only", async () => {
      const texts = await rows.allTextContents();
      return texts.length > 0 && texts.every((t) => t.includes("error"));
    });
    await page.reload();
    assert.equal(await page.getByLabel("Status").inputValue(), "error", "the filter survives a reload");
    await shot(page, "10-executions-filtered");
    await page.context().close();
  });

  test("replay a dead letter", async () => {
    await s.api(admin, "POST", "/subscriptions", { function: "flaky", event_type: "order.paid", max_attempts: 1 });
    await s.api(admin, "POST", "/events", { type: "order.paid", payload: { id: 7 } });
    await eventually("a dead letter", async () => (await s.api(admin, "GET", "/dead-letters")).dead_letters.length === 1);
    const page = await signedIn(b, s, operator);
    await page.getByRole("link", { name: "Events & dead letters" }).click();
    await page.getByRole("table", { name: "Dead letters" }).waitFor();
    await page.getByText("cannot handle order.paid").waitFor();
    await shot(page, "11-dead-letters");
    const id = (await s.api(admin, "GET", "/dead-letters")).dead_letters[0].id;
    await page.getByRole("button", { name: `Replay dead letter ${id}` }).click();
    await page.getByText("Replayed 1 dead letter.").waitFor();
    // Replayed: delivered again (and, failing again, dead again after one attempt).
    await eventually("the replay ran", async () => {
      const ex = await s.api(admin, "GET", "/executions?function=flaky&trigger=event");
      return ex.executions.length >= 2;
    });
    await page.context().close();
  });

  test("home shows the last 24 hours", async () => {
    const page = await signedIn(b, s, operator);
    await page.getByRole("heading", { name: "Failing functions" }).waitFor();
    await page.getByRole("link", { name: "flaky" }).first().waitFor();
    await page.getByText("nightly-export").first().waitFor();
    await shot(page, "12-home");
    await page.context().close();
  });

  test("a viewer sees a read-only console", async () => {
    const page = await signedIn(b, s, viewer);
    await page.getByRole("link", { name: "Functions" }).click();
    const add = page.getByRole("button", { name: "New function" });
    await add.waitFor();
    assert.ok(await add.isDisabled());
    assert.equal(await add.getAttribute("title"), "Needs the developer role");
    assert.ok(await page.getByLabel("nightly-export enabled").isDisabled());
    await page.getByRole("link", { name: "nightly-export" }).click();
    await page.locator(".q-editor[data-ready]").waitFor();
    await page.getByText("Read-only: editing code needs the developer role.").waitFor();
    assert.ok(await page.getByRole("button", { name: "Save" }).isDisabled());
    assert.ok(await page.getByRole("button", { name: "Run", exact: true }).isDisabled());
    await shot(page, "13-viewer");
    await page.getByRole("navigation", { name: "Function" }).getByRole("link", { name: "Settings" }).click();
    assert.ok(await page.getByRole("button", { name: "Delete" }).isDisabled());
    await page.getByText("need the operator role").waitFor();
    await page.context().close();
  });

  test("tenant B sees nothing of A", async () => {
    const page = await signedIn(b, s, beta);
    await page.getByText("tenant beta").waitFor();
    await page.getByRole("link", { name: "Functions" }).click();
    await page.getByText("No functions yet").waitFor();
    await page.getByRole("link", { name: "Executions" }).click();
    await page.getByText("Nothing has run yet").waitFor();
    await page.goto(s.url + "/functions/nightly-export");
    await page.getByRole("alert").waitFor();
    assert.match((await page.getByRole("alert").textContent()) ?? "", /not found|no function/i);
    const body = await page.locator("body").textContent();
    assert.ok(!body?.includes("flaky") && !body?.includes("acme"), "nothing of tenant A appears");
    await shot(page, "14-tenant-b");
    await page.context().close();
  });
});
