// Tenant webhooks: the tenant's events (lifecycle `quasm.*` and its own)
// sent to a URL, signed with `Quasm-Signature`, with a delivery history.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import { PagedList } from "../core/page.js";
import type {
  CreateWebhook,
  UpdateWebhook,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryFilters,
  WebhookDeliveryPage,
} from "../types.js";

export type WebhookDeliveryList = PagedList<WebhookDelivery, WebhookDeliveryPage, number>;

export class Webhooks {
  constructor(private readonly http: Transport) {}

  async list(options?: RequestOptions): Promise<Webhook[]> {
    const r = await this.http.request<{ webhooks: Webhook[] }>({ method: "GET", path: `${API}/webhooks` }, options);
    return r.webhooks;
  }

  get(id: number, options?: RequestOptions): Promise<Webhook> {
    return this.http.request({ method: "GET", path: `${API}/webhooks/${seg(id)}` }, options);
  }

  /** The answer carries `signing_secret`, shown this once: keep it to verify `Quasm-Signature`. */
  create(webhook: CreateWebhook, options?: RequestOptions): Promise<Webhook> {
    return this.http.request({ method: "POST", path: `${API}/webhooks`, body: webhook }, options);
  }

  update(id: number, patch: UpdateWebhook, options?: RequestOptions): Promise<Webhook> {
    return this.http.request({ method: "PATCH", path: `${API}/webhooks/${seg(id)}`, body: patch }, options);
  }

  async delete(id: number, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: `${API}/webhooks/${seg(id)}` }, options);
  }

  /** A new signing secret (in `signing_secret`, shown this once); the old one stops at once. */
  rotateSecret(id: number, options?: RequestOptions): Promise<Webhook> {
    return this.http.request({ method: "POST", path: `${API}/webhooks/${seg(id)}/rotate-secret` }, options);
  }

  /**
   * The webhook's deliveries, newest first, each with every attempt:
   * `for await` goes through every page (`limit` is the page size).
   */
  deliveries(id: number, filters: WebhookDeliveryFilters = {}, options?: RequestOptions): WebhookDeliveryList {
    return new PagedList<WebhookDelivery, WebhookDeliveryPage, number>(
      (cursor, signal) =>
        this.http.request(
          { method: "GET", path: `${API}/webhooks/${seg(id)}/deliveries`, query: { ...filters, cursor } },
          { ...options, signal },
        ),
      (page) => page.deliveries,
      (page) => page.next_cursor,
      options?.signal,
    );
  }

  delivery(id: number, deliveryId: number, options?: RequestOptions): Promise<WebhookDelivery> {
    return this.http.request({ method: "GET", path: `${API}/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}` }, options);
  }

  /** Sends the delivery's event again, as a new delivery (resolves to it, pending). */
  redeliver(id: number, deliveryId: number, options?: RequestOptions): Promise<WebhookDelivery> {
    return this.http.request(
      { method: "POST", path: `${API}/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}/redeliver` },
      options,
    );
  }
}
