// Test harness: a real `quasm serve` (debug binary) on a fresh Postgres
// database and a temp data dir, tokens from `quasm token create`, and
// Debian's Chromium driven by playwright-core (never a downloaded browser).

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const target = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "/root", ".cache/quasm-target");
export const BIN = process.env.QUASM_BIN ?? join(target, "debug/quasm");
const PG = process.env.QUASM_TEST_PG ?? "postgres://postgres@127.0.0.1:5432";
export const SHOTS = process.env.QUASM_UI_SHOTS ?? join(tmpdir(), "quasm-ui-shots");
mkdirSync(SHOTS, { recursive: true });

export class Server {
  /** @type {import("node:child_process").ChildProcess} */ child;
  url = "";
  log = "";

  /** `extra`: more `quasm serve` flags; `vars`: its QUASM_* environment. */
  static async start(extra = [], vars = {}) {
    const s = new Server();
    s.db = `quasm_ui_${process.pid}_${Date.now()}`;
    execFileSync("psql", [`${PG}/postgres`, "-qc", `CREATE DATABASE ${s.db}`]);
    s.dataDir = mkdtempSync(join(tmpdir(), "quasm-ui-"));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("QUASM_")));
    env.QUASM_LOG = "warn";
    Object.assign(env, vars);
    s.child = spawn(
      BIN,
      ["serve", "--listen", "127.0.0.1:0", "--database-url", `${PG}/${s.db}`, "--database-pool-size", "8", "--data-dir", s.dataDir, ...extra],
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    s.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`quasm serve did not start:\n${s.log}`)), 60_000);
      s.child.stderr.setEncoding("utf8").on("data", (chunk) => {
        s.log += chunk;
        const m = /quasm listening on (\S+)\n/.exec(s.log);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      s.child.on("exit", (code) => reject(new Error(`quasm serve exited (${code}):\n${s.log}`)));
    });
    return s;
  }

  token(tenant, role, extra = []) {
    return execFileSync(BIN, ["token", "create", "--tenant", tenant, "--role", role, "--data-dir", this.dataDir, ...extra], {
      encoding: "utf8",
    }).trim();
  }

  /** A direct API call (test set-up and checks; the console itself uses the SDK). */
  async api(token, method, path, body) {
    const r = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async stop() {
    if (this.child.exitCode === null) {
      this.child.kill("SIGTERM");
      await new Promise((r) => {
        const t = setTimeout(() => (this.child.kill("SIGKILL"), r()), 15_000);
        this.child.on("exit", () => (clearTimeout(t), r()));
      });
    }
    try {
      execFileSync("psql", [`${PG}/postgres`, "-qc", `DROP DATABASE IF EXISTS ${this.db} WITH (FORCE)`]);
    } catch {
      /* best effort */
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A fresh page at 1280x800, signed in with `token` through the form. */
export async function signedIn(b, server, token) {
  const ctx = await b.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "UTC" });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(server.url + "/");
  await page.getByLabel("Token or API key").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Polls `fn` until it returns a truthy value (≤ `ms`). */
export async function eventually(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
