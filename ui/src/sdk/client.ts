// A stand-in for @quasm/sdk with the public API fixed by issue 11, limited
// to what the console calls. It is replaced by the real package when the
// sdk branch is merged (src/sdk/index.ts is the only import site).

import { ConnectionError, errorFrom } from "./errors";
import type * as T from "./types";

export interface QuasmOptions {
  url: string;
  token?: string;
  apiKey?: string;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

export class Quasm {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  constructor(opts: QuasmOptions) {
    if (!opts.url) throw new TypeError("Quasm: `url` is required");
    const cred = opts.token ?? opts.apiKey;
    if (!cred) throw new TypeError("Quasm: `token` or `apiKey` is required");
    this.#url = opts.url.replace(/\/+$/, "");
    this.#headers = { authorization: `Bearer ${cred}` };
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** One API call; throws the typed error the server's answer names. */
  async request<R>(method: string, path: string, opts: { body?: unknown; query?: Query; signal?: AbortSignal } = {}): Promise<R> {
    const res = await this.#send(method, path, opts);
    if (res.status === 204) return undefined as R;
    return (await res.json()) as R;
  }

  async #send(method: string, path: string, opts: { body?: unknown; query?: Query; signal?: AbortSignal; accept?: string }): Promise<Response> {
    let url = `${this.#url}/api/v1${path}`;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== "") q.set(k, String(v));
    if ([...q].length) url += `?${q}`;
    const headers: Record<string, string> = { ...this.#headers, accept: opts.accept ?? "application/json" };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        signal: opts.signal ?? null,
      });
    } catch (e) {
      if ((e as Error).name === "AbortError") throw e;
      throw new ConnectionError(`cannot reach ${this.#url}: ${(e as Error).message}`);
    }
    if (!res.ok) {
      const body: unknown = await res.json().catch(() => null);
      throw errorFrom(res.status, body);
    }
    return res;
  }

  readonly functions = {
    list: async (): Promise<T.QFunction[]> =>
      (await this.request<{ functions: T.QFunction[] }>("GET", "/functions")).functions,
    get: (name: string) => this.request<T.QFunction>("GET", `/functions/${enc(name)}`),
    create: (spec: T.CreateFunction) => this.request<T.QFunction>("POST", "/functions", { body: spec }),
    update: (name: string, patch: Partial<T.QFunction>) =>
      this.request<T.QFunction>("PATCH", `/functions/${enc(name)}`, { body: patch }),
    delete: (name: string) => this.request<void>("DELETE", `/functions/${enc(name)}`),
    deploy: (name: string, version: number) =>
      this.request<T.QFunction>("POST", `/functions/${enc(name)}/deploy`, { body: { version } }),
    rollback: (name: string, version: number) =>
      this.request<T.QFunction>("POST", `/functions/${enc(name)}/rollback`, { body: { version } }),
  };

  readonly versions = {
    list: async (name: string): Promise<T.Version[]> =>
      (await this.request<{ versions: T.Version[] }>("GET", `/functions/${enc(name)}/versions`)).versions,
    get: (name: string, n: number) => this.request<T.Version>("GET", `/functions/${enc(name)}/versions/${n}`),
    create: (name: string, v: { code: string; message?: string; deploy?: boolean }) =>
      this.request<T.Version>("POST", `/functions/${enc(name)}/versions`, { body: v }),
  };

  readonly runs = {
    start: async (name: string, input: unknown): Promise<Run> => {
      const r = await this.request<{ execution_id: string }>("POST", `/functions/${enc(name)}/runs`, { body: { input } });
      return new Run(r.execution_id, this);
    },
  };

  readonly executions = {
    list: (filters: Omit<T.ExecutionFilters, "cursor"> = {}) =>
      paged<T.ExecutionFilters, T.ExecutionPage, T.Execution>(filters, (f) => this.executions.page(f), (p) => p.executions),
    page: (filters: T.ExecutionFilters = {}) =>
      this.request<T.ExecutionPage>("GET", "/executions", { query: { ...filters } }),
    get: (id: string) => this.request<T.Execution>("GET", `/executions/${enc(id)}`),
    cancel: (id: string) => this.request<unknown>("POST", `/executions/${enc(id)}/cancel`),
    /** @internal the SSE stream of one execution. */
    stream: (id: string, signal?: AbortSignal) =>
      this.#send("GET", `/executions/${enc(id)}/stream`, { accept: "text/event-stream", ...(signal ? { signal } : {}) }),
  };

  readonly schedules = {
    list: async (name: string): Promise<T.Schedule[]> =>
      (await this.request<{ schedules: T.Schedule[] }>("GET", `/functions/${enc(name)}/schedules`)).schedules,
    create: (name: string, spec: T.CreateSchedule) =>
      this.request<T.Schedule>("POST", `/functions/${enc(name)}/schedules`, { body: spec }),
    update: (name: string, id: number, patch: Partial<T.CreateSchedule>) =>
      this.request<T.Schedule>("PATCH", `/functions/${enc(name)}/schedules/${id}`, { body: patch }),
    delete: (name: string, id: number) => this.request<void>("DELETE", `/functions/${enc(name)}/schedules/${id}`),
    preview: (name: string, id: number, opts: { count?: number } = {}) =>
      this.request<{ next: string[] }>("GET", `/functions/${enc(name)}/schedules/${id}/preview`, {
        query: { count: opts.count },
      }),
    runs: async (name: string, id: number): Promise<T.ScheduleRun[]> =>
      (await this.request<{ runs: T.ScheduleRun[] }>("GET", `/functions/${enc(name)}/schedules/${id}/runs`)).runs,
  };

  readonly routes = {
    list: async (): Promise<T.Route[]> => (await this.request<{ routes: T.Route[] }>("GET", "/routes")).routes,
    create: (spec: T.CreateRoute) => this.request<T.Route>("POST", "/routes", { body: spec }),
    delete: (id: number) => this.request<void>("DELETE", `/routes/${id}`),
  };

  readonly subscriptions = {
    list: async (): Promise<T.Subscription[]> =>
      (await this.request<{ subscriptions: T.Subscription[] }>("GET", "/subscriptions")).subscriptions,
    create: (spec: T.CreateSubscription) => this.request<T.Subscription>("POST", "/subscriptions", { body: spec }),
    delete: (id: number) => this.request<void>("DELETE", `/subscriptions/${id}`),
  };

  readonly events = {
    publish: (type: string, payload: unknown) => this.request<unknown>("POST", "/events", { body: { type, payload } }),
  };

  readonly deadLetters = {
    list: (filters: { function?: string; limit?: number } = {}) =>
      paged<{ function?: string; limit?: number; cursor?: number }, T.DeadLetterPage, T.DeadLetter>(
        filters,
        (f) => this.deadLetters.page(f),
        (p) => p.dead_letters,
      ),
    page: (filters: { function?: string; limit?: number; cursor?: number } = {}) =>
      this.request<T.DeadLetterPage>("GET", "/dead-letters", { query: { ...filters } }),
    replay: (id: number) => this.request<unknown>("POST", `/dead-letters/${id}/replay`),
    delete: (id: number) => this.request<void>("DELETE", `/dead-letters/${id}`),
  };

  readonly tenant = {
    get: () => this.request<T.Tenant>("GET", "/tenant"),
  };
}

/** An async iterator over every page, with `.page()` for one. */
function paged<F extends { cursor?: unknown }, P extends { next_cursor: unknown }, I>(
  filters: Omit<F, "cursor">,
  page: (f: F) => Promise<P>,
  items: (p: P) => I[],
): AsyncIterable<I> & { page: (o?: { cursor?: F["cursor"] }) => Promise<P> } {
  return {
    page: (o = {}) => page({ ...filters, ...o } as F),
    async *[Symbol.asyncIterator]() {
      let cursor: F["cursor"] | undefined;
      do {
        const p = await page({ ...filters, cursor } as F);
        yield* items(p);
        cursor = (p.next_cursor ?? undefined) as F["cursor"] | undefined;
      } while (cursor !== undefined);
    },
  };
}

/** A manual run: its live events (SSE over fetch, so the token stays in a header). */
export class Run {
  readonly #abort = new AbortController();
  constructor(
    readonly id: string,
    readonly client: Quasm,
  ) {}

  async *events(): AsyncGenerator<T.RunEvent> {
    const res = await this.client.executions.stream(this.id, this.#abort.signal);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) type = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
          }
          if (!data.length) continue;
          const ev = { type, data: JSON.parse(data.join("\n")) } as T.RunEvent;
          yield ev;
          if (ev.type === "end") return;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  result = () => this.client.executions.get(this.id);
  cancel = () => this.client.executions.cancel(this.id);
  close = () => this.#abort.abort();
}

const enc = encodeURIComponent;
