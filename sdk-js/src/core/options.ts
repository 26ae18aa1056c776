// The client's options, checked once at construction so a mistake is a clear
// ConfigurationError naming the option, never a failed request later.

import { ConfigurationError } from "../errors.js";

/** The `fetch` the client calls (the global one unless given). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** The server's base URL, e.g. `https://quasm.example.com` (a trailing `/api/v1` is accepted). */
  url: string;
  /** A JWT, sent as `Authorization: Bearer <token>`. Give this or `apiKey`. */
  token?: string;
  /** An API key (`qk_...`), sent as `X-API-Key`. Give this or `token`. */
  apiKey?: string;
  /** A `fetch` implementation (default: the global one). */
  fetch?: FetchLike;
  /** Time allowed for each attempt of a request, in ms (default 60 000). */
  timeoutMs?: number;
  /** Retries of requests safe to repeat (GET, DELETE, event publishing), default 2. */
  maxRetries?: number;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** Options every method accepts as its last argument. */
export interface RequestOptions {
  /** Cancels the request (or stream); the method then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Overrides the client's `maxRetries` for this call (only requests safe to repeat are retried). */
  maxRetries?: number;
  /** Extra headers for this call. */
  headers?: Record<string, string>;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;

/** What the transport needs, validated. */
export interface ResolvedOptions {
  /** `https://host[/prefix]` without a trailing slash. */
  origin: string;
  fetch: FetchLike;
  timeoutMs: number;
  maxRetries: number;
  /** Credential + extra headers, sent with every request. */
  headers: Record<string, string>;
}

/** A header value must be one line of visible text. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function credential(field: "token" | "apiKey", value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ConfigurationError(field, `${field} must be a string, got ${typeof value}`);
  const v = value.trim();
  if (v === "") throw new ConfigurationError(field, `${field} is empty`);
  if (!HEADER_VALUE.test(v)) throw new ConfigurationError(field, `${field} contains characters not allowed in a header`);
  return v;
}

function positive(field: string, value: unknown, fallback: number, integer: boolean, min: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new ConfigurationError(
      field,
      `${field} must be ${integer ? "an integer" : "a number"} >= ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The base URL, checked: http(s), no query or fragment, no trailing slash or `/api/v1`. */
export function checkUrl(value: unknown): string {
  if (value === undefined || value === null || value === "") {
    throw new ConfigurationError("url", "url is required: the Quasm server's base URL, e.g. http://127.0.0.1:8080");
  }
  if (typeof value !== "string") throw new ConfigurationError("url", `url must be a string, got ${typeof value}`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigurationError("url", `url: ${JSON.stringify(value)} is not a valid absolute URL (e.g. http://127.0.0.1:8080)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigurationError("url", `url: ${JSON.stringify(value)} must use http or https, not ${parsed.protocol}`);
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new ConfigurationError("url", `url: ${JSON.stringify(value)} must not have a query or fragment`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new ConfigurationError("url", "url must not carry credentials; pass token or apiKey");
  }
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return `${parsed.origin}${path}`;
}

export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("options", "new Quasm(options): options must be an object with url and token or apiKey");
  }
  const origin = checkUrl(options.url);
  const token = credential("token", options.token);
  const apiKey = credential("apiKey", options.apiKey);
  if (token === undefined && apiKey === undefined) {
    throw new ConfigurationError("token", "a credential is required: pass token (a JWT) or apiKey (qk_...)");
  }
  if (token !== undefined && apiKey !== undefined) {
    throw new ConfigurationError("apiKey", "pass token or apiKey, not both");
  }
  const f = options.fetch ?? (typeof globalThis.fetch === "function" ? globalThis.fetch.bind(globalThis) : undefined);
  if (typeof f !== "function") {
    throw new ConfigurationError("fetch", "no fetch available: pass options.fetch (Node 18+, Deno, Bun and browsers have one)");
  }
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.headers !== undefined && options.headers !== null) {
    if (typeof options.headers !== "object") throw new ConfigurationError("headers", "headers must be an object");
    for (const [k, v] of Object.entries(options.headers)) {
      if (typeof v !== "string" || !HEADER_VALUE.test(v)) {
        throw new ConfigurationError(`headers.${k}`, `headers.${k} must be a one-line string`);
      }
      headers[k.toLowerCase()] = v;
    }
  }
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
  if (apiKey !== undefined) headers["x-api-key"] = apiKey;
  return {
    origin,
    fetch: f as FetchLike,
    timeoutMs: positive("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS, false, 1),
    maxRetries: positive("maxRetries", options.maxRetries, DEFAULT_MAX_RETRIES, true, 0),
    headers,
  };
}
