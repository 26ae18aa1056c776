// Functions: create, read, change, delete, and move the live version.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { CreateFunction, FunctionInfo, UpdateFunction, Version } from "../types.js";

export class Functions {
  constructor(private readonly http: Transport) {}

  /** Every function of the tenant, ordered by name. */
  async list(options?: RequestOptions): Promise<FunctionInfo[]> {
    const r = await this.http.request<{ functions: FunctionInfo[] }>({ method: "GET", path: `${API}/functions` }, options);
    return r.functions;
  }

  get(name: string, options?: RequestOptions): Promise<FunctionInfo> {
    return this.http.request({ method: "GET", path: `${API}/functions/${seg(name)}` }, options);
  }

  /** Creates a function with its version 1, live at once. */
  create(spec: CreateFunction, options?: RequestOptions): Promise<FunctionInfo> {
    return this.http.request({ method: "POST", path: `${API}/functions`, body: spec }, options);
  }

  /** Changes settings; `limits` and `secrets` merge (a `null` secret deletes it). */
  update(name: string, patch: UpdateFunction, options?: RequestOptions): Promise<FunctionInfo> {
    return this.http.request({ method: "PATCH", path: `${API}/functions/${seg(name)}`, body: patch }, options);
  }

  /** Deletes the function with its versions, schedules, routes and subscriptions. */
  async delete(name: string, options?: RequestOptions): Promise<void> {
    await this.http.request({ method: "DELETE", path: `${API}/functions/${seg(name)}` }, options);
  }

  /** Makes version `version` live. */
  deploy(name: string, version: number, options?: RequestOptions): Promise<Version> {
    return this.http.request({ method: "POST", path: `${API}/functions/${seg(name)}/deploy`, body: { version } }, options);
  }

  /** Makes an earlier version `version` live again. */
  rollback(name: string, version: number, options?: RequestOptions): Promise<Version> {
    return this.http.request({ method: "POST", path: `${API}/functions/${seg(name)}/rollback`, body: { version } }, options);
  }
}
