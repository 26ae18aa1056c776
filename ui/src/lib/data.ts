// Loading API data into a component, with the states every page shows:
// loading, error (where it happened), and the two that leave the page:
// a credential that stopped working (back to sign-in with the reason) and a
// lost connection (a banner, and the request is retried).

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { AuthenticationError, ConnectionError } from "../sdk";
import type { Quasm } from "../sdk";
import { session, signOut } from "./session";

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

let offline = false;
const offlineListeners = new Set<(o: boolean) => void>();
export function onOffline(l: (o: boolean) => void): () => void {
  offlineListeners.add(l);
  return () => void offlineListeners.delete(l);
}
function setOffline(o: boolean): void {
  if (o !== offline) {
    offline = o;
    offlineListeners.forEach((l) => l(o));
  }
}

/** Handles the errors that concern the whole console; returns the error. */
export function handle(e: unknown): Error {
  if (e instanceof AuthenticationError) signOut(`Signed out: ${e.message}`);
  if (e instanceof ConnectionError) setOffline(true);
  return e instanceof Error ? e : new Error(String(e));
}

/** Runs `fn` with the session's client; a lost connection retries every 3 s. */
export function useApi<T>(fn: (q: Quasm) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  useEffect(() => {
    const s = session();
    if (!s) return;
    let stale = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    setState((p) => ({ ...p, loading: true }));
    fn(s.client).then(
      (data) => {
        setOffline(false);
        if (!stale) setState({ data, loading: false });
      },
      (e: unknown) => {
        const err = handle(e);
        if (stale) return;
        if (err instanceof ConnectionError) retry = setTimeout(() => setTick((t) => t + 1), 3000);
        setState((p) => ({ ...p, error: err, loading: false }));
      },
    );
    return () => {
      stale = true;
      clearTimeout(retry);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload } as Loaded<T>;
}

/** An action's pending state and error, shown beside the control that ran it. */
export function useAction<A extends unknown[]>(
  fn: (q: Quasm, ...args: A) => Promise<unknown>,
): { run: (...args: A) => Promise<boolean>; busy: boolean; error: Error | undefined; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const run = async (...args: A) => {
    const s = session();
    if (!s) return false;
    setBusy(true);
    setError(undefined);
    try {
      await fn(s.client, ...args);
      setOffline(false);
      return true;
    } catch (e) {
      setError(handle(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(undefined) };
}
