// The one place requests are made: URL and headers, the per-attempt timeout,
// the caller's AbortSignal, retries of requests safe to repeat, and the
// mapping of every failure to a QuasmError.

import {
  AbortError,
  ConnectionError,
  QuasmError,
  TimeoutError,
  errorFromResponse,
  parseRetryAfter,
} from "../errors.js";
import type { RequestOptions, ResolvedOptions } from "./options.js";
import { MAX_RETRY_AFTER_MS, RETRYABLE_STATUS, retryDelayMs, sleep } from "./retry.js";

/** The admin API's path prefix. */
export const API = "/api/v1";

export type QueryValue = string | number | boolean | null | undefined;

export interface ApiRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Absolute path on the server, e.g. `/api/v1/functions/hello`. */
  path: string;
  query?: Record<string, QueryValue> | undefined;
  /** Sent as JSON when not undefined. */
  body?: unknown;
  /** Safe to repeat although not GET/DELETE (e.g. a publish with an idempotency key). */
  idempotent?: boolean;
  /** How to read a successful answer: JSON (default; empty for 204) or text. */
  read?: "json" | "text";
}

/** An open response whose body the caller reads (event streams, public routes). */
export interface OpenResponse {
  response: Response;
  /** Aborts the request and its body. */
  close(): void;
}

/** `/a/{x}` segment encoding for names and ids. */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const detail =
      cause instanceof Error ? ((cause as { code?: string }).code ?? cause.message) : cause !== undefined ? String(cause) : "";
    return detail && detail !== e.message ? `${e.message} (${detail})` : e.message;
  }
  return String(e);
}

export class Transport {
  /** Headers of requests without a body, and with a JSON body: built once, shared by every call. */
  private readonly plainHeaders: Record<string, string>;
  private readonly jsonHeaders: Record<string, string>;

  constructor(readonly options: ResolvedOptions) {
    this.plainHeaders = { ...options.headers };
    this.jsonHeaders = { ...options.headers, "content-type": "application/json" };
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    let url = this.options.origin + path;
    if (query) {
      let sep = "?";
      for (const key in query) {
        const v = query[key];
        if (v === undefined || v === null) continue;
        url += `${sep}${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`;
        sep = "&";
      }
    }
    return url;
  }

  private headers(json: boolean, extra?: Record<string, string>): Record<string, string> {
    const base = json ? this.jsonHeaders : this.plainHeaders;
    if (extra === undefined) return base;
    const merged = { ...base };
    for (const k in extra) merged[k.toLowerCase()] = extra[k] as string;
    return merged;
  }

  /** Sends `req`, retrying when that is safe, and returns the decoded answer. */
  async request<T>(req: ApiRequest, opts?: RequestOptions): Promise<T> {
    const url = this.url(req.path, req.query);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers = this.headers(body !== undefined, opts?.headers);
    const safe = req.idempotent ?? (req.method === "GET" || req.method === "DELETE");
    const maxRetries = safe ? (opts?.maxRetries ?? this.options.maxRetries) : 0;
    const timeoutMs = opts?.timeoutMs ?? this.options.timeoutMs;
    const signal = opts?.signal;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.once(req, url, headers, body, timeoutMs, signal)) as T;
      } catch (e) {
        if (attempt >= maxRetries || !retryable(e)) throw e;
        const wait = retryDelayMs(attempt, retryAfterMs(e as QuasmError));
        if (wait > MAX_RETRY_AFTER_MS) throw e;
        await sleep(wait, signal);
      }
    }
  }

  private async once(
    req: ApiRequest,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const call = new Call(signal, timeoutMs);
    try {
      const res = await this.options.fetch(url, { method: req.method, headers, body, signal: call.signal });
      const text = await res.text();
      if (!res.ok) throw errorFromResponse(res.status, parseJsonOrUndefined(text), res.headers, `${req.method} ${req.path}: HTTP ${res.status}`);
      if (req.read === "text") return text;
      if (text === "") return undefined;
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new QuasmError({
          status: res.status,
          code: "invalid_response",
          message: `${req.method} ${req.path}: the answer is not JSON: ${text.slice(0, 120)}`,
          headers: res.headers,
          cause: e,
        });
      }
    } catch (e) {
      throw call.failure(e, `${req.method} ${req.path}`);
    } finally {
      call.done();
    }
  }

  /**
   * Opens a GET whose body the caller reads (an event stream). The timeout
   * covers the wait for the response head only; an error answer is mapped
   * like any other, and nothing is retried here.
   */
  async open(path: string, extra: Record<string, string>, opts?: RequestOptions): Promise<OpenResponse> {
    const call = new Call(opts?.signal, opts?.timeoutMs ?? this.options.timeoutMs);
    const what = `GET ${path}`;
    try {
      const res = await this.options.fetch(this.url(path), {
        method: "GET",
        headers: this.headers(false, { ...opts?.headers, ...extra }),
        signal: call.signal,
      });
      call.headersArrived();
      if (!res.ok) {
        const text = await res.text();
        throw errorFromResponse(res.status, parseJsonOrUndefined(text), res.headers, `${what}: HTTP ${res.status}`);
      }
      return { response: res, close: () => call.abort() };
    } catch (e) {
      call.done();
      throw call.failure(e, what);
    }
  }

  /**
   * A request passed through as is (public function routes): the answer is
   * returned whatever its status; only failures without one are errors.
   */
  async raw(url: string, init: RequestInit, opts?: RequestOptions): Promise<Response> {
    const call = new Call(opts?.signal ?? init.signal ?? undefined, opts?.timeoutMs ?? this.options.timeoutMs);
    const headers = new Headers(init.headers);
    for (const k in this.plainHeaders) if (!headers.has(k)) headers.set(k, this.plainHeaders[k] as string);
    for (const k in opts?.headers) headers.set(k, opts.headers[k] as string);
    try {
      const res = await this.options.fetch(url, { ...init, headers, signal: call.signal });
      call.headersArrived();
      return res;
    } catch (e) {
      call.done();
      throw call.failure(e, `${init.method ?? "GET"} ${url}`);
    }
  }
}

/** One attempt's abort wiring: its own timeout plus the caller's signal. */
class Call {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly caller: AbortSignal | undefined,
    private readonly timeoutMs: number,
  ) {
    if (caller) {
      if (caller.aborted) {
        this.controller.abort(caller.reason);
      } else {
        this.onAbort = () => this.controller.abort(caller.reason);
        caller.addEventListener("abort", this.onAbort, { once: true });
      }
    }
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The head arrived: the body may take as long as it needs. */
  headersArrived(): void {
    clearTimeout(this.timer);
  }

  abort(): void {
    this.done();
    this.controller.abort();
  }

  done(): void {
    clearTimeout(this.timer);
    if (this.onAbort) this.caller?.removeEventListener("abort", this.onAbort);
  }

  /** `e` as a QuasmError: the caller aborted, the attempt timed out, or the connection failed. */
  failure(e: unknown, what: string): QuasmError {
    if (this.caller?.aborted) return new AbortError(`${what}: aborted by the caller`, this.caller.reason);
    if (this.timedOut) return new TimeoutError(`${what}: no answer within ${this.timeoutMs} ms`, e);
    if (e instanceof QuasmError) return e;
    return new ConnectionError(`${what}: ${describe(e)}`, e);
  }
}

function retryable(e: unknown): boolean {
  if (e instanceof ConnectionError || e instanceof TimeoutError) return true;
  return e instanceof QuasmError && !(e instanceof AbortError) && RETRYABLE_STATUS.has(e.status);
}

function retryAfterMs(e: QuasmError): number | undefined {
  return parseRetryAfter(e.headers?.get("retry-after"));
}

function parseJsonOrUndefined(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
