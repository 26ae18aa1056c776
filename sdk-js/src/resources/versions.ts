// Versions: the immutable code history of a function.

import { API, seg, type Transport } from "../core/http.js";
import type { RequestOptions } from "../core/options.js";
import type { CreateVersion, Version } from "../types.js";

export class Versions {
  constructor(private readonly http: Transport) {}

  /** Every version of `name`, newest first, without code. */
  async list(name: string, options?: RequestOptions): Promise<Version[]> {
    const r = await this.http.request<{ versions: Version[] }>(
      { method: "GET", path: `${API}/functions/${seg(name)}/versions` },
      options,
    );
    return r.versions;
  }

  /** Version `version` of `name`, with its code. */
  get(name: string, version: number, options?: RequestOptions): Promise<Version> {
    return this.http.request({ method: "GET", path: `${API}/functions/${seg(name)}/versions/${seg(version)}` }, options);
  }

  /**
   * Uploads new code as the next version; it goes live unless `deploy` is
   * false (deploying needs the operator role). A syntax error rejects with
   * a CodeSyntaxError giving `line` and `column`.
   */
  create(name: string, version: CreateVersion, options?: RequestOptions): Promise<Version> {
    return this.http.request({ method: "POST", path: `${API}/functions/${seg(name)}/versions`, body: version }, options);
  }
}
