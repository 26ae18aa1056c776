// A durable run (a manual run, an async invoke, a cron slot, an event
// delivery) followed through its server-sent event stream.
//
// The server numbers the stream's events (`id:` lines); when a connection
// drops, `events()` reconnects with `Last-Event-ID` and the server resumes
// after the last event received, so nothing is lost or repeated.

import { API, seg, type OpenResponse, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import { retryDelayMs, sleep } from "../core/retry.js";
import { parseSse, type SseMessage } from "../core/sse.js";
import {
  AbortError,
  ConnectionError,
  QuasmError,
  RateLimitError,
  ServerError,
  TimeoutError,
  parseRetryAfter,
} from "../errors.js";
import type { CancelAccepted, Execution, ExecutionStatus, LogEntry } from "../types.js";

/** What `run.events()` yields; `data` is what the server sent. */
export type RunEvent =
  /** Once, first: the status when following began. */
  | { type: "status"; data: { status: ExecutionStatus } }
  /** A console line, as it happened. */
  | { type: "log"; data: LogEntry }
  /** A `ctx.progress(percent, message)` call. */
  | { type: "progress"; data: { percent: number; message: string | null } }
  /** Rare: `skipped` events could not be sent (more than the server keeps for a run). */
  | { type: "lagged"; data: { skipped: number } }
  /** Last: the final execution record (without logs); the stream then ends. */
  | { type: "end"; data: Execution };

export interface StreamOptions extends RequestOptions {
  /** Reconnections allowed in a row without receiving an event (default 5). */
  maxReconnects?: number;
  /**
   * A connection silent for this long is presumed dead and reopened
   * (default 45 000 ms; the server sends a keep-alive every 15 s).
   */
  idleTimeoutMs?: number;
}

const DEFAULT_MAX_RECONNECTS = 5;
const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
const EVENT_TYPES = new Set(["status", "log", "progress", "lagged", "end"]);

export class Run {
  /** The execution's final record, once an `end` event was seen. */
  private final: Execution | undefined;

  constructor(
    private readonly http: Transport,
    /** The execution id. */
    readonly id: string,
  ) {}

  /**
   * The run's events until `end`: `for await (const ev of run.events())`.
   * Reconnects after a dropped connection without losing or repeating
   * events; stopping the loop early closes the connection.
   */
  async *events(options: StreamOptions = {}): AsyncGenerator<RunEvent, void, undefined> {
    const path = `${API}/executions/${seg(this.id)}/stream`;
    const maxReconnects = options.maxReconnects ?? DEFAULT_MAX_RECONNECTS;
    const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    let lastEventId: string | undefined;
    let failures = 0;
    for (;;) {
      let open: OpenResponse | undefined;
      let idle: ReturnType<typeof setTimeout> | undefined;
      let failure: unknown;
      try {
        const headers: Record<string, string> = { accept: "text/event-stream" };
        if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
        open = await this.http.open(path, headers, options);
        const body = open.response.body;
        if (!body) throw new QuasmError({ status: open.response.status, code: "invalid_response", message: `${path}: no body` });
        const current = open;
        const touch = () => {
          clearTimeout(idle);
          idle = setTimeout(() => current.close(), idleMs);
        };
        touch();
        for await (const msg of parseSse(body, touch)) {
          if (msg.id !== undefined) lastEventId = msg.id;
          const event = decode(msg, path);
          if (event === undefined) continue;
          failures = 0;
          if (event.type === "end") this.final = event.data;
          yield event;
          if (event.type === "end") return;
        }
        // Closed without `end` (the server stopped, a proxy cut it): resume.
        failure = new ConnectionError(`${path}: the stream closed before the end event`);
      } catch (e) {
        if (options.signal?.aborted) throw new AbortError(`${path}: aborted by the caller`, options.signal.reason);
        if (!resumable(e)) throw e;
        failure = e instanceof QuasmError ? e : new ConnectionError(`${path}: the connection dropped`, e);
      } finally {
        clearTimeout(idle);
        open?.close();
      }
      if (++failures > maxReconnects) throw failure;
      const retryAfter = failure instanceof QuasmError ? parseRetryAfter(failure.headers?.get("retry-after")) : undefined;
      await sleep(retryDelayMs(failures - 1, retryAfter), options.signal);
    }
  }

  /**
   * The final execution record (without logs; `quasm.executions.get(id)`
   * has them) once the run ends, whatever its status.
   */
  async result(options: StreamOptions = {}): Promise<Execution> {
    if (this.final === undefined) {
      for await (const _ of this.events(options)) {
        // Drained for the `end` event, which sets `final`.
      }
    }
    if (this.final === undefined) {
      throw new QuasmError({ status: 0, code: "invalid_response", message: `execution ${this.id}: no end event` });
    }
    return this.final;
  }

  /** Asks the node running it to stop; its final status (normally `cancelled`) follows. */
  cancel(options?: RequestOptions): Promise<CancelAccepted> {
    return this.http.request({ method: "POST", path: `${API}/executions/${seg(this.id)}/cancel` }, options);
  }
}

function decode(msg: SseMessage, path: string): RunEvent | undefined {
  if (msg.event === "error") {
    let message = msg.data;
    try {
      const d = JSON.parse(msg.data) as { message?: unknown };
      if (typeof d.message === "string") message = d.message;
    } catch {
      // The raw text is the message.
    }
    throw new ServerError({ status: 500, code: "stream_error", message: `${path}: ${message}` });
  }
  if (!EVENT_TYPES.has(msg.event)) return undefined;
  try {
    return { type: msg.event, data: JSON.parse(msg.data) } as RunEvent;
  } catch (e) {
    throw new QuasmError({ status: 200, code: "invalid_response", message: `${path}: event data is not JSON`, cause: e });
  }
}

/** Whether following can go on after `e` by reconnecting. */
function resumable(e: unknown): boolean {
  if (!(e instanceof QuasmError)) return true; // a body read that failed: the connection dropped
  if (e.code === "stream_error") return false;
  return e instanceof ConnectionError || e instanceof TimeoutError || e instanceof ServerError || e instanceof RateLimitError;
}
