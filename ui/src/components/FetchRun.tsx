// The run panel's `fetch` handler: an HTTP request through one of the
// function's routes (`/fn/{tenant}{path}`), as a client would send it,
// with the signed-in credential for routes that need one; the response's
// status, headers and body are shown.

import { useState } from "preact/hooks";
import type { Route } from "../sdk";
import type { Loaded } from "../lib/data";
import { session } from "../lib/session";
import { Link } from "../lib/router";
import { duration } from "../lib/format";
import { ErrorBox, Loading } from "./ui";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

export interface Answer {
  status: number;
  statusText: string;
  type: string;
  body: string;
  ms: number;
}

/** The request's route, method and path; the answer goes to `onResult`. */
export function FetchRun(props: {
  fn: string;
  routes: Loaded<Route[]>;
  bind: (api: { send: (body: unknown) => void }) => void;
  onResult: (r: { busy: boolean; answer?: Answer; error?: Error }) => void;
}) {
  const routes = props.routes.data ?? [];
  const [routeId, setRouteId] = useState<number>();
  const route = routes.find((r) => r.id === routeId) ?? routes[0];
  const [method, setMethod] = useState<string>();
  const [path, setPath] = useState<string>();
  const [busy, setBusy] = useState(false);
  const m = route?.method ?? method ?? "POST";
  const p = path ?? route?.path ?? "";

  props.bind({
    send: async (body: unknown) => {
      const s = session();
      if (!s || !route || busy) return;
      setBusy(true);
      props.onResult({ busy: true });
      const headers: Record<string, string> = {};
      if (route.auth !== "public") headers.authorization = `Bearer ${s.credential}`;
      const hasBody = m !== "GET" && m !== "HEAD";
      if (hasBody) headers["content-type"] = "application/json";
      const t0 = performance.now();
      try {
        const r = await fetch(`${location.origin}/fn/${encodeURIComponent(s.who.tenant)}${p}`, {
          method: m,
          headers,
          ...(hasBody ? { body: JSON.stringify(body) } : {}),
        });
        const text = await r.text();
        props.onResult({
          busy: false,
          answer: { status: r.status, statusText: r.statusText, type: r.headers.get("content-type") ?? "", body: text, ms: performance.now() - t0 },
        });
      } catch (e) {
        props.onResult({ busy: false, error: e instanceof Error ? e : new Error(String(e)) });
      } finally {
        setBusy(false);
      }
    },
  });

  if (props.routes.loading && !props.routes.data) return <Loading what="routes" />;
  if (routes.length === 0)
    return (
      <p class="q-note" role="note">
        The fetch handler answers HTTP requests through a route, and {props.fn} has none.{" "}
        <Link href={`/functions/${encodeURIComponent(props.fn)}/triggers`}>Add a route</Link> to call it from here.
      </p>
    );
  return (
    <div class="q-fetch">
      {routes.length > 1 && (
        <label>
          Route
          <select value={route?.id} onChange={(e) => (setRouteId(Number((e.target as HTMLSelectElement).value)), setPath(undefined))}>
            {routes.map((r) => (
              <option key={r.id} value={r.id}>
                {r.method ?? "ANY"} {r.path}
              </option>
            ))}
          </select>
        </label>
      )}
      <div class="q-row">
        {route?.method ? (
          <code>{route.method}</code>
        ) : (
          <select aria-label="Method" value={m} onChange={(e) => setMethod((e.target as HTMLSelectElement).value)} class="q-method">
            {METHODS.map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>
        )}
        <input class="mono" aria-label="Request path" value={p} onInput={(e) => setPath((e.target as HTMLInputElement).value)} />
      </div>
      <span class="q-muted q-small">
        {route?.auth === "public" ? "public route" : `${route?.auth} route: sent with your credential`}; replace <code>:params</code> in
        the path. The request is recorded in Runs with trigger http.
      </span>
    </div>
  );
}

/** The response of a request sent by FetchRun. */
export function FetchAnswer({ busy, answer, error }: { busy: boolean; answer?: Answer | undefined; error?: Error | undefined }) {
  return (
    <>
      <ErrorBox error={error} what="Request" />
      {busy && <Loading what="the response" />}
      {answer && (
        <>
          <h3>Response</h3>
          <p class="q-small">
            <strong class={answer.status < 400 ? "q-ok" : "err-text"}>
              {answer.status} {answer.statusText}
            </strong>{" "}
            <span class="q-muted">
              {answer.type} · {duration(answer.ms)}
            </span>
          </p>
          <pre class="q-code" aria-label="Response body">
            {answer.body || "(empty body)"}
          </pre>
        </>
      )}
    </>
  );
}
