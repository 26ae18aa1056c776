// API keys of the tenant (admin only).

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { ApiKey, CreateApiKey, CreatedApiKey } from "../types.js";

export class ApiKeys {
  constructor(private readonly http: Transport) {}

  async list(options?: RequestOptions): Promise<ApiKey[]> {
    const r = await this.http.request<{ api_keys: ApiKey[] }>({ method: "GET", path: `${API}/api-keys` }, options);
    return r.api_keys;
  }

  /** Creates a key; the answer's `key` (`qk_...`) is the only time the secret is shown. */
  create(key: CreateApiKey, options?: RequestOptions): Promise<CreatedApiKey> {
    return this.http.request({ method: "POST", path: `${API}/api-keys`, body: key }, options);
  }

  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: `${API}/api-keys/${seg(id)}` }, options);
  }
}
