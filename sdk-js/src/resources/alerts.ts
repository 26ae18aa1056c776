// Alert rules: notify Slack, a webhook or email when functions fail or recover.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { AlertNotification, AlertRule, CreateAlertRule, UpdateAlertRule } from "../types.js";

export class Alerts {
  constructor(private readonly http: Transport) {}

  async list(options?: RequestOptions): Promise<AlertRule[]> {
    const r = await this.http.request<{ alerts: AlertRule[] }>({ method: "GET", path: `${API}/alerts` }, options);
    return r.alerts;
  }

  get(id: number, options?: RequestOptions): Promise<AlertRule> {
    return this.http.request({ method: "GET", path: `${API}/alerts/${seg(id)}` }, options);
  }

  /** A webhook rule's answer carries `signing_secret` once, when the server generated it. */
  create(rule: CreateAlertRule, options?: RequestOptions): Promise<AlertRule> {
    return this.http.request({ method: "POST", path: `${API}/alerts`, body: rule }, options);
  }

  update(id: number, patch: UpdateAlertRule, options?: RequestOptions): Promise<AlertRule> {
    return this.http.request({ method: "PATCH", path: `${API}/alerts/${seg(id)}`, body: patch }, options);
  }

  async delete(id: number, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: `${API}/alerts/${seg(id)}` }, options);
  }

  /** Sends a `test` message through the rule's channel at once; resolves to what was sent. */
  test(id: number, options?: RequestOptions): Promise<AlertNotification> {
    return this.http.request({ method: "POST", path: `${API}/alerts/${seg(id)}/test` }, options);
  }

  /** What the rule sent, newest first, with delivery errors. */
  async notifications(id: number, query: { limit?: number } = {}, options?: RequestOptions): Promise<AlertNotification[]> {
    const r = await this.http.request<{ notifications: AlertNotification[] }>(
      { method: "GET", path: `${API}/alerts/${seg(id)}/notifications`, query },
      options,
    );
    return r.notifications;
  }
}
