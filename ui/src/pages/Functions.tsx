// Every function of the tenant: search and tag filter (kept in the URL),
// enabled state (operators switch it), live version, last run.

import { useState } from "preact/hooks";
import type { Execution, QFunction } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { Link, navigate, setQuery, useLocation } from "../lib/router";
import { can } from "../lib/session";
import { Action, Empty, ErrorBox, Loaded, Status, Time } from "../components/ui";

interface Row {
  fn: QFunction;
  last?: Execution;
}

async function load(q: import("../sdk").Quasm): Promise<Row[]> {
  const [fns, recent] = await Promise.all([q.functions.list(), q.executions.list({ limit: 500 }).page()]);
  const last = new Map<string, Execution>();
  for (const e of recent.executions) if (!last.has(e.function)) last.set(e.function, e);
  return fns.map((fn) => ({ fn, last: last.get(fn.name) }));
}

export function Functions() {
  const { query } = useLocation();
  const search = query.get("q") ?? "";
  const tag = query.get("tag") ?? "";
  const rows = useApi(load, []);
  const toggle = useAction((q, name: string, enabled: boolean) => q.functions.update(name, { enabled }));
  const [pending, setPending] = useState<string | null>(null);
  return (
    <section>
      <div class="page-head">
        <h1>Functions</h1>
        <span class="q-spacer" />
        {can("developer") ? (
          <button type="button" class="q-primary" onClick={() => navigate("/functions/new")}>
            New function
          </button>
        ) : (
          <Action needs="developer">New function</Action>
        )}
      </div>
      <div class="filters">
        <label>
          Search
          <input
            type="search"
            placeholder="name or description"
            value={search}
            onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value })}
          />
        </label>
        {tag && (
          <span class="q-chip">
            tag: {tag}{" "}
            <button type="button" class="q-link" aria-label={`Remove tag filter ${tag}`} onClick={() => setQuery({ tag: "" })}>
              ×
            </button>
          </span>
        )}
      </div>
      <ErrorBox error={toggle.error} what="Changing the enabled state" />
      <Loaded state={rows} what="functions">
        {(all) => {
          const s = search.toLowerCase();
          const shown = all.filter(
            ({ fn }) =>
              (!s || fn.name.includes(s) || fn.description.toLowerCase().includes(s)) && (!tag || fn.tags.includes(tag)),
          );
          if (all.length === 0)
            return (
              <Empty>
                No functions yet.{" "}
                {can("developer") ? (
                  <Link href="/functions/new">Create your first function</Link>
                ) : (
                  "A developer can create the first one."
                )}
              </Empty>
            );
          if (shown.length === 0) return <Empty>No function matches “{search || tag}”. Clear the search to see all {all.length}.</Empty>;
          return (
            <table class="list">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Tags</th>
                  <th>Enabled</th>
                  <th>Live</th>
                  <th>Last run</th>
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {shown.map(({ fn, last }) => (
                  <tr key={fn.name}>
                    <td>
                      <Link href={`/functions/${encodeURIComponent(fn.name)}`}>{fn.name}</Link>
                      {fn.description && <div class="q-muted q-small">{fn.description}</div>}
                    </td>
                    <td>
                      {fn.tags.map((t) => (
                        <button type="button" key={t} class="q-chip" onClick={() => setQuery({ tag: t })}>
                          {t}
                        </button>
                      ))}
                    </td>
                    <td>
                      <label class="q-switch" title={can("operator") ? undefined : "Needs the operator role"}>
                        <input
                          type="checkbox"
                          checked={fn.enabled}
                          disabled={!can("operator") || pending === fn.name}
                          aria-label={`${fn.name} enabled`}
                          onChange={async (e) => {
                            setPending(fn.name);
                            if (await toggle.run(fn.name, (e.target as HTMLInputElement).checked)) rows.reload();
                            setPending(null);
                          }}
                        />
                        <span>{fn.enabled ? "enabled" : "disabled"}</span>
                      </label>
                    </td>
                    <td>{fn.live_version != null ? `v${fn.live_version}` : "—"}</td>
                    <td>
                      {last ? (
                        <Link href={`/executions/${last.id}`}>
                          <Status status={last.status} /> <Time iso={last.created_at} />
                        </Link>
                      ) : (
                        <span class="q-muted">never run</span>
                      )}
                    </td>
                    <td>
                      <Time iso={fn.updated_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Loaded>
    </section>
  );
}
