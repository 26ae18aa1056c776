// Starts a real `quasm serve` for the SDK's tests, like the Rust harness
// (tests/common/mod.rs): a fresh Postgres database on 127.0.0.1:5432, a
// temporary data directory, `--listen 127.0.0.1:0` (the address is read
// from stderr), tokens from `quasm token create`. Stopping it kills the
// process, drops the database and removes the directory.
//
// The binary is $QUASM_BIN (scripts/test.sh sets it), else
// $CARGO_TARGET_DIR/debug/quasm, else ../target/debug/quasm.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export function quasmBin() {
  const candidates = [
    process.env.QUASM_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, "debug/quasm"),
    join(repo, "target/debug/quasm"),
  ].filter(Boolean);
  const bin = candidates.find((p) => existsSync(p));
  if (!bin) {
    throw new Error(`no quasm binary (tried ${candidates.join(", ")}): run \`cargo build --bin quasm\` and set QUASM_BIN`);
  }
  return bin;
}

const PG = ["-h", process.env.QUASM_TEST_PGHOST ?? "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAtc"];

function psql(sql) {
  execFileSync("psql", [...PG, sql], { stdio: ["ignore", "ignore", "pipe"] });
}

/** The child's environment: none of the developer's own QUASM_* settings. */
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("QUASM_") || k === "QUASM_CACHE_DIR") env[k] = v;
  }
  env.QUASM_LOG = process.env.QUASM_E2E_LOG ?? "warn";
  return { ...env, ...extra };
}

let counter = 0;

export class TestServer {
  /** Starts `quasm serve` with extra flags and environment. */
  static async start({ args = [], env = {} } = {}) {
    const bin = quasmBin();
    const db = `quasm_sdk_${process.pid}_${counter++}_${Math.floor(Math.random() * 1e9)}`;
    psql(`CREATE DATABASE ${db}`);
    const dataDir = mkdtempSync(join(tmpdir(), "quasm-sdk-"));
    const child = spawn(
      bin,
      [
        "serve",
        "--listen", "127.0.0.1:0",
        "--database-url", `host=127.0.0.1 port=5432 user=postgres dbname=${db}`,
        "--database-pool-size", "4",
        "--data-dir", dataDir,
        ...args,
      ],
      { env: childEnv(env), stdio: ["ignore", "ignore", "pipe"] },
    );
    const server = new TestServer(bin, db, dataDir, child);
    try {
      server.url = await server.#address();
    } catch (e) {
      await server.stop();
      throw e;
    }
    return server;
  }

  constructor(bin, db, dataDir, child) {
    this.bin = bin;
    this.db = db;
    this.dataDir = dataDir;
    this.child = child;
    this.log = "";
    this.url = "";
    this.tokens = new Map();
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => {
      this.log += d;
    });
  }

  #address() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`quasm serve printed no address in 60 s:\n${this.log}`)), 60_000);
      const check = () => {
        // The whole line: stderr may arrive cut anywhere ("...on http").
        const m = /quasm listening on (\S+)\r?\n/.exec(this.log);
        if (m) {
          clearTimeout(timer);
          this.child.stderr.off("data", check);
          resolve(m[1]);
        }
      };
      this.child.stderr.on("data", check);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`quasm serve exited (${code}) before listening:\n${this.log}`));
      });
    });
  }

  /** A JWT for `tenant` with `roles` (cached). */
  token(tenant, roles) {
    const key = `${tenant}|${roles.join(",")}`;
    if (!this.tokens.has(key)) {
      const args = ["token", "create", "--tenant", tenant, "--data-dir", this.dataDir];
      for (const r of roles) args.push("--role", r);
      const out = execFileSync(this.bin, args, { env: childEnv({}), encoding: "utf8" });
      this.tokens.set(key, out.trim());
    }
    return this.tokens.get(key);
  }

  /** Kills the server and drops what it used. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGKILL");
      await exited;
    }
    try {
      psql(`DROP DATABASE IF EXISTS ${this.db} WITH (FORCE)`);
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /** Drops the database under the running server (to see it fail for real). */
  dropDatabase() {
    psql(`DROP DATABASE IF EXISTS ${this.db} WITH (FORCE)`);
  }
}

/**
 * A TCP proxy in front of `target` (`http://host:port`) whose connections
 * the test can cut, as a network failure would.
 */
export async function startProxy(target) {
  const { hostname, port } = new URL(target);
  const pairs = new Set();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(Number(port), hostname);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get connections() {
      return accepted;
    },
    /** Cuts every open connection (a reset, not a clean close). */
    cut() {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy?.() ?? client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    close() {
      this.cut();
      return new Promise((r) => server.close(r));
    },
  };
}

/** A `fetch` that records each request's method, path and selected headers before passing it on. */
export function recordingFetch(log, inner = globalThis.fetch) {
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    const entry = {
      method: init.method ?? "GET",
      path: new URL(url).pathname,
      url,
      lastEventId: headers.get("last-event-id"),
      body: typeof init.body === "string" ? init.body : undefined,
      status: undefined,
    };
    log.push(entry);
    const res = await inner(url, init);
    entry.status = res.status;
    return res;
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until it returns a truthy value (at most `ms`). */
export async function eventually(what, f, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
