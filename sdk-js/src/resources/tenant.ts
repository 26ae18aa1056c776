// The credential's tenant and its audit log.

import { API, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { AuditEntry, Tenant, TenantSettings } from "../types.js";

export class TenantResource {
  constructor(private readonly http: Transport) {}

  get(options?: RequestOptions): Promise<Tenant> {
    return this.http.request({ method: "GET", path: `${API}/tenant` }, options);
  }

  /** Changes settings (`{retention_days}`; null means the operator's default). */
  update(settings: TenantSettings, options?: RequestOptions): Promise<Tenant> {
    return this.http.request({ method: "PATCH", path: `${API}/tenant`, body: settings }, options);
  }
}

export class Audit {
  constructor(private readonly http: Transport) {}

  /** The newest `limit` (default 100) configuration changes, newest first. */
  async list(query: { limit?: number } = {}, options?: RequestOptions): Promise<AuditEntry[]> {
    const r = await this.http.request<{ entries: AuditEntry[] }>({ method: "GET", path: `${API}/audit`, query }, options);
    return r.entries;
  }
}
