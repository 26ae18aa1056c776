// When and how long to wait before repeating a request.

import { AbortError } from "../errors.js";

/** Statuses worth another try: timeouts, rate limits, gateways and overload. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
/** A `Retry-After` longer than this is not waited for: the error goes to the caller. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Exponential backoff with jitter for the `attempt`-th retry (0-based):
 * 0.5 s, 1 s, 2 s ... up to 8 s, each reduced by up to a quarter at random
 * so that many clients refused at once do not come back at once.
 */
export function backoffMs(attempt: number): number {
  const full = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return full * (1 - Math.random() * 0.25);
}

/** The wait before retry `attempt`: the server's `Retry-After` when it gave one, else backoff. */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined): number {
  return retryAfterMs !== undefined ? retryAfterMs : backoffMs(attempt);
}

/** Sleeps `ms`, or rejects with AbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError("the request was aborted", signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError("the request was aborted", signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
