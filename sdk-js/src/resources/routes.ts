// HTTP routes (`/fn/{tenant}{path}` → a function's `fetch` handler), and
// calling them.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { CreateRoute, Route } from "../types.js";

export class Routes {
  constructor(private readonly http: Transport) {}

  /** Every route of the tenant, ordered by path, then method. */
  async list(options?: RequestOptions): Promise<Route[]> {
    const r = await this.http.request<{ routes: Route[] }>({ method: "GET", path: `${API}/routes` }, options);
    return r.routes;
  }

  create(route: CreateRoute, options?: RequestOptions): Promise<Route> {
    return this.http.request({ method: "POST", path: `${API}/routes`, body: route }, options);
  }

  async delete(id: number, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: `${API}/routes/${seg(id)}` }, options);
  }

  /**
   * Calls a route of `tenant` (`path` starts with `/`, e.g. `/orders/7`)
   * with the client's credential and returns the function's Response as
   * is, whatever its status (a `fetch`, not an API call: nothing is retried,
   * only a failure without an answer rejects).
   */
  fetch(tenant: string, path: string, init: RequestInit = {}, options?: RequestOptions): Promise<Response> {
    const rest = path.startsWith("/") ? path : `/${path}`;
    return this.http.raw(this.http.url(`/fn/${seg(tenant)}${rest}`), init, options);
  }
}
