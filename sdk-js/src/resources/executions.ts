// Execution history, live following and cancellation; manual runs.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import { PagedList } from "../core/page.js";
import type { CancelAccepted, Execution, ExecutionFilters, ExecutionPage, RunAccepted } from "../types.js";
import { Run, type RunEvent, type StreamOptions } from "./run.js";

export type ExecutionList = PagedList<Execution, ExecutionPage, string>;

export class Executions {
  constructor(private readonly http: Transport) {}

  /**
   * Executions matching `filters` (the query parameters of
   * `GET /api/v1/executions`; `limit` is the page size), newest first:
   * `for await` goes through every page; `.page({cursor})` reads one.
   */
  list(filters: ExecutionFilters = {}, options?: RequestOptions): ExecutionList {
    return new PagedList<Execution, ExecutionPage, string>(
      (cursor, signal) =>
        this.http.request(
          { method: "GET", path: `${API}/executions`, query: { ...filters, cursor } },
          { ...options, signal },
        ),
      (page) => page.executions,
      (page) => page.next_cursor,
      options?.signal,
    );
  }

  /** One execution with its logs (and input/output when kept). */
  get(id: string, options?: RequestOptions): Promise<Execution> {
    return this.http.request({ method: "GET", path: `${API}/executions/${seg(id)}` }, options);
  }

  /** Follows any execution's events until it ends (see `Run.events`). */
  stream(id: string, options?: StreamOptions): AsyncGenerator<RunEvent, void, undefined> {
    return new Run(this.http, id).events(options);
  }

  /** Stops a queued or running durable execution; 409 ConflictError when it already finished. */
  cancel(id: string, options?: RequestOptions): Promise<CancelAccepted> {
    return new Run(this.http, id).cancel(options);
  }
}

export class Runs {
  constructor(private readonly http: Transport) {}

  /** Starts `name`'s `run` handler in the background with `input`; follow it with the returned Run. */
  async start(name: string, input?: unknown, options?: RequestOptions): Promise<Run> {
    const accepted = await this.http.request<RunAccepted>(
      { method: "POST", path: `${API}/functions/${seg(name)}/runs`, body: { input: input ?? null } },
      options,
    );
    return new Run(this.http, accepted.execution_id);
  }

  /** A handle on an execution already started (by `invokeAsync`, a schedule, an event...). */
  get(id: string): Run {
    return new Run(this.http, id);
  }
}
