// Publishing domain events to the tenant's event bus.

import { randomId } from "../core/ids.js";
import { API, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { PublishEvent, PublishedEvent } from "../types.js";

export interface PublishOptions extends RequestOptions {
  /** Free-form key (an order id...), passed to handlers as `event.key`. */
  key?: string;
  /**
   * Makes publishing safe to repeat: a second publish with the same key is
   * accepted once. The SDK generates one when you give none, so its own
   * retries never publish twice.
   */
  idempotencyKey?: string;
}

/** One event of a batch: `type` and `payload` plus the publish options. */
export interface BatchEvent {
  type: string;
  payload?: unknown;
  key?: string;
  idempotencyKey?: string;
}

export class Events {
  constructor(private readonly http: Transport) {}

  /**
   * Publishes one event; resolves to `{id, duplicate, deliveries}`
   * (`duplicate` is true when the idempotency key was used before).
   */
  publish(type: string, payload?: unknown, options: PublishOptions = {}): Promise<PublishedEvent> {
    const { key, idempotencyKey, ...request } = options;
    const body: PublishEvent = { type, payload, idempotency_key: idempotencyKey ?? randomId() };
    if (key !== undefined) body.key = key;
    return this.http.request({ method: "POST", path: `${API}/events`, body, idempotent: true }, request);
  }

  /**
   * Publishes up to 100 events in one transaction (all or none); resolves
   * to one `{id, duplicate, deliveries}` per event, in order.
   */
  async publishBatch(events: BatchEvent[], options?: RequestOptions): Promise<PublishedEvent[]> {
    const body = {
      events: events.map((e): PublishEvent => {
        const out: PublishEvent = { type: e.type, payload: e.payload, idempotency_key: e.idempotencyKey ?? randomId() };
        if (e.key !== undefined) out.key = e.key;
        return out;
      }),
    };
    const r = await this.http.request<{ events: PublishedEvent[] }>(
      { method: "POST", path: `${API}/events/batch`, body, idempotent: true },
      options,
    );
    return r.events;
  }
}
