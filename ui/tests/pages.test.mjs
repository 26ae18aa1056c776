// The tenant pages and bulk actions as people use them, in Chromium,
// against a real `quasm serve` on real Postgres: API keys, alert rules with
// a test notification received by a real webhook, the audit log, tenant
// settings, bulk actions on functions, running a chosen handler. Each test
// saves a screenshot (SHOTS).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { Server, browser, eventually, shot, signedIn } from "./harness.mjs";

const TWO_HANDLERS = `export default {
  async run(input) { return { ran: input }; },
  async scheduled(slot, env, ctx) {
    console.log("slot " + slot.cron + " in " + slot.timezone);
    ctx.progress(100, "done");
    return { cron: slot.cron };
  },
};`;
const HTTP = `export default {
  async fetch(request) {
    const body = request.method === "POST" ? await request.json() : null;
    return Response.json({ method: request.method, got: body });
  },
};`;
const THROWS = `export default {
  async run(input) {
    const x = 1;
    throw new Error("bad input " + JSON.stringify(input));
  },
};`;

describe("tenant pages", { timeout: 600_000 }, () => {
  let s, b, admin, operator, hook;
  const received = [];
  before(async () => {
    // A webhook receiver for alert notifications (functions and alerts may reach it: allow-listed).
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ url: req.url, headers: req.headers, body });
        res.end("ok");
      });
    });
    await new Promise((r) => hook.listen(0, "127.0.0.1", r));
    // A service binding (GET /api/v1/types declares it for the editor).
    s = await Server.start(["--fetch-allow-nets", "127.0.0.1/32"], { QUASM_BINDING_CRM_URL: "http://127.0.0.1:9/api" });
    b = await browser();
    admin = s.token("acme", "admin");
    operator = s.token("acme", "operator");
  });
  after(async () => {
    await b?.close();
    await s?.stop();
    hook?.close();
  });

  test("API keys: create one, its secret shown once with Copy, then revoke it after a confirmation", async () => {
    const page = await signedIn(b, s, admin);
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByText("No API keys yet").waitFor();
    await shot(page, "20-api-keys-empty");
    await page.getByRole("button", { name: "Create API key" }).click();
    await page.getByText("Give the key a name").waitFor();
    await page.getByLabel("Name").fill("ci-deploy");
    await page.getByRole("checkbox", { name: /developer/ }).check();
    await page.getByRole("button", { name: "Create API key" }).click();
    const secret = page.getByLabel("The new API key");
    await secret.waitFor();
    const key = await secret.inputValue();
    assert.match(key, /^qk_/);
    await page.getByText("this is the only time it is shown").waitFor();
    await page.getByRole("button", { name: "Copy key" }).waitFor();
    await shot(page, "21-api-key-created");
    // The key works, with the roles chosen.
    const who = await s.api(key, "GET", "/whoami");
    assert.deepEqual(who.roles.sort(), ["developer", "viewer"]);
    await page.getByRole("button", { name: "I have copied it" }).click();
    assert.equal(await page.getByLabel("The new API key").count(), 0, "the secret is gone once dismissed");
    const row = page.getByRole("table", { name: "API keys" }).getByRole("row", { name: /ci-deploy/ });
    await row.waitFor();
    await row.getByRole("button", { name: "Revoke API key ci-deploy" }).click();
    await page.getByText("Revoke ci-deploy? Anything using it is refused at once.").waitFor();
    await shot(page, "22-api-key-revoke-confirm");
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot(page, "22-api-key-revoke-confirm-1024");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("button", { name: "Yes, revoke" }).click();
    await page.getByText(/Revoked ci-deploy/).waitFor();
    await page.getByText("No API keys yet").waitFor();
    await assert.rejects(s.api(key, "GET", "/whoami"), /401/, "a revoked key is refused");
    await page.context().close();
  });

  test("API keys and the audit log need the admin role: said in the navigation and on the page", async () => {
    const page = await signedIn(b, s, operator);
    const nav = page.getByRole("navigation", { name: "Console" });
    assert.equal(await nav.getByRole("link", { name: /API keys/ }).getAttribute("title"), "Needs the admin role");
    await nav.getByRole("link", { name: /Audit log/ }).click();
    await page.getByText("The audit log needs the admin role; you are signed in as operator.").waitFor();
    await page.reload();
    await page.getByText("The audit log needs the admin role").waitFor();
    await shot(page, "23-audit-forbidden");
    await page.context().close();
  });

  test("alerts: create a webhook rule, errors under their field, Send test reaches the webhook", async () => {
    await s.api(admin, "POST", "/functions", { name: "payments", code: THROWS });
    const page = await signedIn(b, s, operator);
    await page.getByRole("link", { name: "Alerts" }).click();
    await page.getByText("No alert rules").waitFor();
    await page.getByRole("button", { name: "New alert rule" }).click();
    await page.waitForURL(/\/alerts\/new$/);
    await page.getByLabel("Name").fill("Payments Failing!");
    await page.getByLabel("Function").selectOption("payments");
    await page.getByLabel("Channel").selectOption("webhook");
    await page.getByLabel("Webhook URL").fill("not a url");
    await page.getByRole("button", { name: "Create alert rule" }).click();
    await page.getByText("An http:// or https:// URL.").waitFor();
    await page.getByLabel("Webhook URL").fill(`http://127.0.0.1:${hook.address().port}/alerts`);
    await page.getByRole("button", { name: "Create alert rule" }).click();
    // The server refuses the name; the console says so under the Name field.
    const nameError = page.locator("#alert-name-error");
    await nameError.waitFor();
    assert.equal(await page.getByLabel("Name").getAttribute("aria-invalid"), "true");
    await shot(page, "24-alert-field-error");
    await page.getByLabel("Name").fill("payments-failing");
    await page.getByRole("button", { name: "Create alert rule" }).click();
    await page.waitForURL(/\/alerts\/\d+$/);
    const secret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
    assert.ok(secret.length >= 16, "the generated signing secret is shown once");
    await page.getByText("Nothing sent yet").waitFor();
    await page.getByRole("button", { name: "Send test" }).click();
    await page.getByText("Test notification delivered.").waitFor();
    const sent = page.getByRole("table", { name: "Sent notifications" });
    await sent.getByRole("cell", { name: "test", exact: true }).waitFor();
    await eventually("the webhook got it", async () => received.length === 1);
    assert.match(received[0].headers["quasm-signature"] ?? "", /^t=\d+,v1=[0-9a-f]+$/);
    await shot(page, "25-alert-test-sent");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "25-alert-test-sent-dark");
    await page.emulateMedia({ colorScheme: "light" });
    // Reload: the page comes back the same (the secret is not shown twice once dismissed).
    await page.getByRole("button", { name: "I have copied it" }).click();
    await page.reload();
    await sent.getByRole("cell", { name: "test", exact: true }).waitFor();
    assert.equal(await page.getByLabel("Signing secret", { exact: true }).count(), 0);
    // Edit: a streak alert instead of every failure.
    await page.getByRole("checkbox", { name: /on every failure/ }).uncheck();
    await page.getByRole("checkbox", { name: /once a failing streak reaches/ }).check();
    await page.getByLabel("Consecutive failures").fill("5");
    await page.getByRole("button", { name: "Save rule" }).click();
    await page.getByText("Saved.").waitFor();
    const rules = (await s.api(admin, "GET", "/alerts")).alerts;
    assert.equal(rules[0].consecutive_failures, 5);
    assert.equal(rules[0].on_failure, false);
    await page.getByRole("link", { name: "Alerts" }).first().click();
    await page.getByRole("table", { name: "Alert rules" }).getByText("5 failures in a row").waitFor();
    await shot(page, "26-alerts-list");
    await page.context().close();
  });

  test("audit log shows the changes, filtered by action in the URL", async () => {
    const page = await signedIn(b, s, admin);
    await page.getByRole("link", { name: "Audit log" }).click();
    const log = page.getByRole("table", { name: "Audit log" });
    await log.getByText("api_key.create").waitFor();
    await log.getByText("api_key.delete").waitFor();
    await log.getByText("alert.update").waitFor();
    await page.getByLabel("Action").fill("alert");
    await page.waitForURL(/action=alert/);
    await eventually("alert rows only", async () => {
      const actions = await log.locator("tbody tr td:nth-child(3)").allTextContents();
      return actions.length >= 2 && actions.every((a) => a.startsWith("alert."));
    });
    await page.reload();
    await log.getByText("alert.create").waitFor();
    assert.equal(await log.getByText("api_key.create").count(), 0, "the filter survives a reload");
    await shot(page, "27-audit-log");
    await page.context().close();
  });

  test("tenant settings: retention, checked before sending and saved", async () => {
    const page = await signedIn(b, s, admin);
    await page.getByRole("link", { name: "Tenant settings" }).click();
    await page.getByText("30 days (the installation's default)").waitFor();
    await page.getByRole("radio", { name: "Keep executions for" }).check();
    await page.getByLabel("Retention (days)").fill("5000");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Retention: a whole number of days from 1 to 3650.").waitFor();
    await page.getByLabel("Retention (days)").fill("7");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Saved: executions are kept 7 days.").waitFor();
    assert.equal((await s.api(admin, "GET", "/tenant")).settings.retention_days, 7);
    await page.getByText("7 days (this tenant's setting)").waitFor();
    await shot(page, "28-tenant-settings");
    await page.context().close();
  });

  test("functions list: trigger badges; bulk disable; bulk delete reports the one that failed", async () => {
    const code = "export default { run() { return 1; }, fetch() { return new Response('x'); }, scheduled() {}, event() {} };";
    for (const name of ["bulk-a", "bulk-b", "bulk-c"]) await s.api(admin, "POST", "/functions", { name, code });
    await s.api(admin, "POST", "/routes", { function: "bulk-a", path: "/bulk-a", auth: "public" });
    await s.api(admin, "POST", "/functions/bulk-b/schedules", { cron: "0 3 * * *", timezone: "UTC" });
    await s.api(admin, "POST", "/subscriptions", { function: "bulk-c", event_type: "order.*" });
    const page = await signedIn(b, s, operator);
    await page.getByRole("link", { name: "Functions" }).click();
    const table = page.getByRole("table", { name: "Functions" });
    const row = (n) => table.getByRole("row", { name: new RegExp(`\\b${n}\\b`) });
    await row("bulk-a").locator(".t-route").waitFor();
    await row("bulk-b").locator(".t-schedule").waitFor();
    await row("bulk-c").locator(".t-subscription").waitFor();
    await page.getByRole("checkbox", { name: "Select bulk-a" }).check();
    await page.getByRole("checkbox", { name: "Select bulk-b" }).check();
    await page.getByText("2 functions selected").waitFor();
    await shot(page, "29-functions-bulk-selected");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "29-functions-bulk-selected-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot(page, "29-functions-bulk-selected-1024");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("group", { name: "Bulk actions" }).getByRole("button", { name: "Disable" }).click();
    await page.getByText("Disabled 2 functions.").waitFor();
    for (const n of ["bulk-a", "bulk-b"]) assert.equal((await s.api(admin, "GET", `/functions/${n}`)).enabled, false);
    assert.equal((await s.api(admin, "GET", "/functions/bulk-c")).enabled, true);
    await eventually("the list shows them disabled", async () => !(await page.getByLabel("bulk-a enabled").isChecked()));
    // Someone else deletes bulk-c meanwhile: deleting all three reports it by name.
    for (const n of ["bulk-a", "bulk-b", "bulk-c"]) await page.getByRole("checkbox", { name: `Select ${n}` }).check();
    await s.api(admin, "DELETE", "/functions/bulk-c");
    await page.getByRole("button", { name: "Delete selected functions" }).click();
    await page.getByText("Delete 3 functions with their versions, triggers and history?").waitFor();
    await page.getByRole("button", { name: "Yes, delete 3 functions" }).click();
    const outcome = page.getByRole("status").filter({ hasText: "Deleted 2 functions." });
    await outcome.waitFor();
    await outcome.getByText("1 failed:").waitFor();
    await outcome.getByRole("listitem").filter({ hasText: "bulk-c" }).waitFor();
    await shot(page, "30-functions-bulk-delete");
    const left = (await s.api(admin, "GET", "/functions")).functions.map((f) => f.name);
    assert.ok(!left.some((n) => n.startsWith("bulk-")), `bulk functions gone: ${left}`);
    await page.context().close();
  });

  test("run panel: the handlers the code defines; run the scheduled one; fetch through a route", async () => {
    await s.api(admin, "POST", "/functions", { name: "nightly", code: TWO_HANDLERS });
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/functions/nightly");
    await page.locator(".q-editor[data-ready]").waitFor();
    const handler = page.getByLabel("Handler");
    assert.deepEqual(await handler.locator("option").allTextContents(), ["run", "scheduled"]);
    await handler.selectOption("scheduled");
    const input = page.getByLabel("Schedule slot (JSON)");
    assert.match(await input.inputValue(), /"cron"/, "a sample slot to start from");
    await input.fill('{"cron": "0 2 * * *", "timezone": "Asia/Tokyo"');
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.getByText("Input is not valid JSON").waitFor();
    await input.fill('{"cron": "0 2 * * *", "timezone": "Asia/Tokyo"}');
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.getByRole("list", { name: "Log lines" }).getByText("slot 0 2 * * * in Asia/Tokyo").waitFor();
    await page.getByLabel("Output").getByText('"cron": "0 2 * * *"').waitFor();
    await shot(page, "31-run-scheduled-handler");
    // fetch: through the function's public route.
    await s.api(admin, "POST", "/functions", { name: "api", code: HTTP });
    await s.api(admin, "POST", "/routes", { function: "api", method: "POST", path: "/echo", auth: "public" });
    await page.goto(s.url + "/functions/api");
    await page.locator(".q-editor[data-ready]").waitFor();
    assert.equal(await page.getByLabel("Handler").inputValue(), "fetch");
    await page.getByLabel("Request body (JSON)").fill('{"n": 1}');
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.getByLabel("Response body").getByText('"got":{"n":1}').waitFor();
    await page.getByText("200 OK").waitFor();
    await shot(page, "32-run-fetch-handler");
    await page.context().close();
  });

  test("an HTTP endpoint created with 'without /fn/{tenant}' sees the path a Worker expects", async () => {
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/functions");
    await page.getByRole("button", { name: "New function" }).click();
    await page.getByRole("radio", { name: /HTTP endpoint/ }).check();
    await page.getByLabel("Name").fill("worker-style");
    await page.getByRole("textbox", { name: /^Path/ }).fill("/api/*");
    await page.getByLabel(/request\.url without \/fn/).check();
    await shot(page, "34-new-http-strip-prefix");
    await page.getByRole("button", { name: "Create function" }).click();
    await page.waitForURL(/\/functions\/worker-style$/);
    const routes = await s.api(admin, "GET", "/routes");
    const route = routes.routes.find((r) => r.function === "worker-style");
    assert.equal(route.strip_prefix, true);
    // Its code from the template answers; the path it sees has no /fn/acme.
    await s.api(admin, "POST", "/functions/worker-style/versions", {
      code: "export default { fetch(req) { return new Response(new URL(req.url).pathname); } };",
    });
    const res = await fetch(`${s.url}/fn/acme/api/orders/7`, { method: "POST" });
    assert.equal(await res.text(), "/api/orders/7");
    await page.getByRole("link", { name: "Triggers", exact: true }).click();
    await page.getByText("request.url without /fn/acme").waitFor();
    await shot(page, "35-route-strip-prefix");
    await page.context().close();
  });

  test("the editor completes the tenant's service bindings from GET /api/v1/types", async () => {
    await s.api(admin, "POST", "/functions", { name: "uses-crm", code: "export default {\n  /** @param {any} input @param {Env} env */\n  async run(input, env) {\n    return 1;\n  },\n};\n", bindings: ["CRM"] });
    const page = await signedIn(b, s, operator);
    await page.goto(s.url + "/functions/uses-crm");
    await page.locator(".q-editor[data-ready] .monaco-editor").waitFor();
    await page.locator(".view-line", { hasText: "return" }).click();
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("env.CRM.");
    const suggest = page.locator(".suggest-widget .monaco-list-row");
    await eventually("CRM completions", async () => (await suggest.allTextContents()).some((l) => l.startsWith("fetch")));
    await shot(page, "36-binding-completion");
    await page.context().close();
  });

  test("a stack frame on an execution opens the editor at its line", async () => {
    await s.api(admin, "POST", "/functions", { name: "thrower", code: THROWS });
    const r = await s.api(admin, "POST", "/functions/thrower/invoke", { input: { n: 1 } });
    const page = await signedIn(b, s, operator);
    await page.goto(`${s.url}/executions/${r.execution_id}`);
    const frame = page.getByRole("link", { name: /Open the editor at line 4/ });
    await frame.waitFor();
    await shot(page, "33-execution-stack");
    await frame.click();
    await page.waitForURL(/\/functions\/thrower\?line=4/);
    await page.locator(".q-editor[data-ready]").waitFor();
    // The cursor sits on that line: Monaco highlights the current line.
    await eventually("line 4 current", async () =>
      page.evaluate(() => {
        const cur = document.querySelector(".view-overlays .current-line");
        const line = [...document.querySelectorAll(".view-lines .view-line")].find((l) => /throw\snew\sError/.test(l.textContent ?? ""));
        return cur && line && cur.parentElement?.style.top === line.style.top;
      }),
    );
    await page.context().close();
  });

  test("webhooks: create one, its secret shown once; a lifecycle event arrives signed; the delivery listed and sent again", async () => {
    const page = await signedIn(b, s, operator);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByText("No webhooks").waitFor();
    await page.getByRole("button", { name: "New webhook" }).click();
    await page.waitForURL(/\/webhooks\/new$/);
    await page.getByLabel("Endpoint URL").fill("crm.example.com/hooks");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.locator("#webhook-url-error").getByText("Give an http:// or https:// URL").waitFor();
    await page.getByLabel("Endpoint URL").fill(`http://127.0.0.1:${hook.address().port}/quasm-hooks`);
    await page.getByRole("checkbox", { name: /quasm\.function\.created/ }).check();
    // The server's own check, shown under the field it names.
    await page.getByLabel(/Your own event types/).fill("order.*, not a type!");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.locator("#webhook-types-error").waitFor();
    await shot(page, "37-webhook-field-error");
    await page.getByLabel(/Your own event types/).fill("order.*");
    await page.getByLabel("Description (optional)").fill("Audit trail in the CRM");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.waitForURL(/\/webhooks\/\d+$/);
    const secret = await page.getByRole("textbox", { name: "Signing secret" }).inputValue();
    assert.ok(secret.length >= 32, secret);
    await page.getByText("Nothing sent yet").waitFor();
    await shot(page, "38-webhook-created");

    // A lifecycle event: the receiver gets it, signed with that secret.
    await s.api(admin, "POST", "/functions", { name: "hooked", code: TWO_HANDLERS });
    const mine = () => received.filter((r) => r.url === "/quasm-hooks");
    await eventually("the webhook got quasm.function.created", async () => mine().length === 1);
    const got = mine()[0];
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(got.headers["quasm-signature"] ?? "") ?? [];
    assert.equal(v1, createHmac("sha256", secret).update(`${t}.${got.body}`).digest("hex"), "Quasm-Signature verifies with the secret shown");
    assert.equal(JSON.parse(got.body).type, "quasm.function.created");

    // Listed with its status; sent again on request.
    await page.getByRole("button", { name: "I have copied it" }).click();
    await page.getByRole("button", { name: "Refresh" }).click();
    const rows = page.getByRole("table", { name: "Deliveries" }).getByRole("row");
    await eventually("the delivery succeeded", async () => /quasm\.function\.created[\s\S]*succeeded/.test((await rows.nth(1).textContent()) ?? ""));
    await shot(page, "39-webhook-deliveries");
    await page.getByRole("button", { name: /Send delivery \d+ again/ }).first().click();
    await page.getByText(/queued again as delivery/).waitFor();
    await eventually("the event sent again", async () => mine().length === 2);
    assert.equal(mine()[1].headers["quasm-event-id"], mine()[0].headers["quasm-event-id"], "the same event");
    assert.notEqual(mine()[1].headers["quasm-delivery-id"], mine()[0].headers["quasm-delivery-id"], "a new delivery");

    // The list names it.
    await page.getByRole("link", { name: "Webhooks" }).first().click();
    await page.getByRole("table", { name: "Webhooks" }).getByText("quasm.function.created").waitFor();
    await shot(page, "40-webhooks-list");
    await page.context().close();
  });
});
