// Dead letters: event deliveries that failed every attempt.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import { PagedList } from "../core/page.js";
import type { DeadLetter, DeadLetterFilters, DeadLetterPage, ReplayAccepted } from "../types.js";

export type DeadLetterList = PagedList<DeadLetter, DeadLetterPage, number>;

export class DeadLetters {
  constructor(private readonly http: Transport) {}

  /**
   * Dead letters matching `filters`, newest first: `for await` goes through
   * every page (`limit` is the page size); `.page({cursor})` reads one.
   */
  list(filters: DeadLetterFilters = {}, options?: RequestOptions): DeadLetterList {
    return new PagedList<DeadLetter, DeadLetterPage, number>(
      (cursor, signal) =>
        this.http.request(
          { method: "GET", path: `${API}/dead-letters`, query: { ...filters, cursor } },
          { ...options, signal },
        ),
      (page) => page.dead_letters,
      (page) => page.next_cursor,
      options?.signal,
    );
  }

  get(id: number, options?: RequestOptions): Promise<DeadLetter> {
    return this.http.request({ method: "GET", path: `${API}/dead-letters/${seg(id)}` }, options);
  }

  /** Queues the delivery again, attempts starting from 1. */
  replay(id: number, options?: RequestOptions): Promise<ReplayAccepted> {
    return this.http.request({ method: "POST", path: `${API}/dead-letters/${seg(id)}/replay` }, options);
  }

  async delete(id: number, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: `${API}/dead-letters/${seg(id)}` }, options);
  }
}
