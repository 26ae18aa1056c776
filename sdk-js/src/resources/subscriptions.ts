// Event subscriptions: which events reach which function's `event` handler.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { CreateSubscription, Subscription } from "../types.js";

export class Subscriptions {
  constructor(private readonly http: Transport) {}

  async list(options?: RequestOptions): Promise<Subscription[]> {
    const r = await this.http.request<{ subscriptions: Subscription[] }>(
      { method: "GET", path: `${API}/subscriptions` },
      options,
    );
    return r.subscriptions;
  }

  get(id: number, options?: RequestOptions): Promise<Subscription> {
    return this.http.request({ method: "GET", path: `${API}/subscriptions/${seg(id)}` }, options);
  }

  /** `{function, event_type, filter?, max_attempts?, backoff?}`; `event_type` may be a glob (`payment.*`). */
  create(subscription: CreateSubscription, options?: RequestOptions): Promise<Subscription> {
    return this.http.request({ method: "POST", path: `${API}/subscriptions`, body: subscription }, options);
  }

  /** Deletes it with its pending deliveries and dead letters. */
  async delete(id: number, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: `${API}/subscriptions/${seg(id)}` }, options);
  }
}
