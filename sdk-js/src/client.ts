// The client users construct: `new Quasm({url, token | apiKey, ...})`, one
// property per resource and the invoke calls at the top level.

import { API, seg, Transport } from "./core/http.js";
import { resolveOptions, type ClientOptions, type RequestOptions } from "./core/options.js";
import { Alerts } from "./resources/alerts.js";
import { ApiKeys } from "./resources/api-keys.js";
import { DeadLetters } from "./resources/dead-letters.js";
import { Events } from "./resources/events.js";
import { Executions, Runs } from "./resources/executions.js";
import { Functions } from "./resources/functions.js";
import { Routes } from "./resources/routes.js";
import { Schedules } from "./resources/schedules.js";
import { Subscriptions } from "./resources/subscriptions.js";
import { Audit, TenantResource } from "./resources/tenant.js";
import { Versions } from "./resources/versions.js";
import { Webhooks } from "./resources/webhooks.js";
import type { CheckResult, Handler, InvokeAccepted, InvokeResult, Stats, Whoami } from "./types.js";

export interface InvokeOptions extends RequestOptions {
  /** Which handler runs: `run` (default), `scheduled` or `event`. */
  handler?: Handler;
}

export class Quasm {
  readonly functions: Functions;
  readonly versions: Versions;
  readonly runs: Runs;
  readonly executions: Executions;
  readonly schedules: Schedules;
  readonly routes: Routes;
  readonly subscriptions: Subscriptions;
  readonly events: Events;
  readonly deadLetters: DeadLetters;
  readonly alerts: Alerts;
  readonly webhooks: Webhooks;
  readonly apiKeys: ApiKeys;
  readonly tenant: TenantResource;
  readonly audit: Audit;
  private readonly http: Transport;

  /** Checks the options at once: a missing or malformed `url` or no credential throws a ConfigurationError. */
  constructor(options: ClientOptions) {
    this.http = new Transport(resolveOptions(options));
    this.functions = new Functions(this.http);
    this.versions = new Versions(this.http);
    this.runs = new Runs(this.http);
    this.executions = new Executions(this.http);
    this.schedules = new Schedules(this.http);
    this.routes = new Routes(this.http);
    this.subscriptions = new Subscriptions(this.http);
    this.events = new Events(this.http);
    this.deadLetters = new DeadLetters(this.http);
    this.alerts = new Alerts(this.http);
    this.webhooks = new Webhooks(this.http);
    this.apiKeys = new ApiKeys(this.http);
    this.tenant = new TenantResource(this.http);
    this.audit = new Audit(this.http);
  }

  /** The base URL requests go to. */
  get url(): string {
    return this.http.options.origin;
  }

  /**
   * Runs `name` with `input` and resolves to its result: one request, not
   * retried (the function may have side effects). What the function did,
   * throwing or timing out included, is in `status` and `error`; a
   * QuasmError means the call itself failed (unknown function, quota...).
   */
  invoke<Output = unknown>(name: string, input?: unknown, options?: InvokeOptions): Promise<InvokeResult<Output>> {
    return this.http.request(
      {
        method: "POST",
        path: `${API}/functions/${seg(name)}/invoke`,
        body: { input: input ?? null, handler: options?.handler },
      },
      options,
    );
  }

  /** Starts `name` in the background; resolves to `{execution_id}` at once. */
  invokeAsync(name: string, input?: unknown, options?: InvokeOptions): Promise<InvokeAccepted> {
    return this.http.request(
      {
        method: "POST",
        path: `${API}/functions/${seg(name)}/invoke`,
        body: { input: input ?? null, async: true, handler: options?.handler },
      },
      options,
    );
  }

  /**
   * Compiles `code` with the server's own compiler and resolves to its
   * diagnostics (`ok` false with line and column on a syntax error);
   * nothing is stored. Editors call it as the user types.
   */
  check(code: string, options?: RequestOptions): Promise<CheckResult> {
    return this.http.request({ method: "POST", path: `${API}/check`, body: { code } }, options);
  }

  /** The tenant's last 24 hours: runs by status, failing functions, next scheduled runs, dead letters waiting. */
  stats(options?: RequestOptions): Promise<Stats> {
    return this.http.request({ method: "GET", path: `${API}/stats` }, options);
  }

  /** Who the credential speaks for: tenant, subject and roles. */
  whoami(options?: RequestOptions): Promise<Whoami> {
    return this.http.request({ method: "GET", path: `${API}/whoami` }, options);
  }

  /** `GET /healthz`: resolves when the process is up. */
  async health(options?: RequestOptions): Promise<string> {
    return this.http.request({ method: "GET", path: "/healthz", read: "text" }, options);
  }

  /** `GET /readyz`: resolves when the server and its database answer; ServerError (503) otherwise. */
  async ready(options?: RequestOptions): Promise<string> {
    return this.http.request({ method: "GET", path: "/readyz", read: "text" }, options);
  }

  /**
   * `GET /api/v1/types`: TypeScript declarations of the in-function API
   * (`quasm.d.ts`) and of the service bindings this tenant may use, for editors.
   */
  types(options?: RequestOptions): Promise<string> {
    return this.http.request({ method: "GET", path: `${API}/types`, read: "text" }, options);
  }

  /** `GET /.well-known/jwks.json`: the public keys host services verify binding tokens with. */
  bindingKeys(options?: RequestOptions): Promise<{ keys: Record<string, unknown>[] }> {
    return this.http.request({ method: "GET", path: "/.well-known/jwks.json" }, options);
  }

  /** `GET /metrics`: the OpenMetrics text. */
  metrics(options?: RequestOptions): Promise<string> {
    return this.http.request({ method: "GET", path: "/metrics", read: "text" }, options);
  }

  /** The server's OpenAPI document. */
  openapi(options?: RequestOptions): Promise<Record<string, unknown>> {
    return this.http.request({ method: "GET", path: `${API}/openapi.json` }, options);
  }
}
