// GET /api/v1/stats, GET /api/v1/whoami and POST /api/v1/check: endpoints
// added for the console that @quasm/sdk has no method for yet. They use the
// SDK's method when it has one (same names), else one fetch with the same
// credential, answering with the SDK's own error classes.

import {
  AuthenticationError,
  CodeSyntaxError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionError,
  QuasmError,
  RateLimitError,
  ServerError,
  ValidationError,
} from "@quasm/sdk";
import type { Quasm } from "@quasm/sdk";
import type { CheckResult, Stats, Whoami } from "./types";

interface Extras {
  stats(): Promise<Stats>;
  whoami(): Promise<Whoami>;
  check(code: string): Promise<CheckResult>;
}

type Maybe = Partial<Extras>;

export function extras(q: Quasm, url: string, credential: string): Extras {
  const sdk = q as unknown as Maybe;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${credential}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (e) {
      throw new ConnectionError(`cannot reach ${url}: ${(e as Error).message}`, e);
    }
    const json: unknown = await res.json().catch(() => null);
    if (!res.ok) throw errorFor(res.status, json, res.headers);
    return json as T;
  };
  return {
    stats: () => sdk.stats?.() ?? call<Stats>("GET", "/stats"),
    whoami: () => sdk.whoami?.() ?? call<Whoami>("GET", "/whoami"),
    check: (code) => sdk.check?.(code) ?? call<CheckResult>("POST", "/check", { code }),
  };
}

function errorFor(status: number, body: unknown, headers: Headers): QuasmError {
  const e = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> | null } } | null)?.error;
  const init = {
    status,
    code: e?.code ?? `http_${status}`,
    message: e?.message ?? `HTTP ${status}`,
    details: e?.details ?? null,
    headers,
  };
  if (status === 400 && init.code === "syntax_error") return new CodeSyntaxError(init);
  if (status === 400 || status === 413 || status === 422) return new ValidationError(init);
  if (status === 401) return new AuthenticationError(init);
  if (status === 403) return new PermissionError(init);
  if (status === 404) return new NotFoundError(init);
  if (status === 409) return new ConflictError(init);
  if (status === 429) return new RateLimitError(init);
  if (status >= 500) return new ServerError(init);
  return new QuasmError(init);
}
