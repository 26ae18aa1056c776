// The tenant's audit log (admin): every configuration change, newest
// first, who made it, on what, with its details. Filters by action and
// actor, and how far back to look, are kept in the URL.

import type { AuditEntry } from "../sdk";
import { useApi } from "../lib/data";
import { Link, setQuery, useLocation } from "../lib/router";
import { can } from "../lib/session";
import { Empty, Forbidden, Loaded, Time } from "../components/ui";

/** The API answers with the newest entries only, at most this many. */
const MAX = 1000;
const STEP = 100;

function targetLink(e: AuditEntry): string | null {
  const [kind] = e.action.split(".");
  if (kind === "function" && e.action !== "function.delete") return `/functions/${encodeURIComponent(e.target)}`;
  if (kind === "version") return `/functions/${encodeURIComponent(e.target)}/versions`;
  if (kind === "schedule") return `/functions/${encodeURIComponent(e.target)}/triggers`;
  const id = (e.details as { id?: unknown } | null)?.id;
  if (kind === "alert" && e.action !== "alert.delete" && typeof id === "number") return `/alerts/${id}`;
  return null;
}

export function Audit() {
  if (!can("admin")) {
    return (
      <section>
        <h1>Audit log</h1>
        <Forbidden role="admin" page="The audit log" />
      </section>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const { query } = useLocation();
  const limit = Math.min(MAX, Math.max(STEP, Number(query.get("limit")) || STEP));
  const action = query.get("action") ?? "";
  const actor = query.get("actor") ?? "";
  const entries = useApi((q) => q.audit.list({ limit }), [limit]);
  return (
    <section>
      <h1>Audit log</h1>
      <p class="q-muted">Every change to functions, versions, triggers, alerts, API keys and tenant settings, newest first.</p>
      <div class="filters">
        <label>
          Action
          <input
            type="search"
            placeholder="e.g. api_key or function.update"
            value={action}
            onInput={(e) => setQuery({ action: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          Actor
          <input type="search" placeholder="subject or api-key:…" value={actor} onInput={(e) => setQuery({ actor: (e.target as HTMLInputElement).value })} />
        </label>
      </div>
      <Loaded state={entries} what="the audit log">
        {(all) => {
          const shown = all.filter((e) => (!action || e.action.includes(action)) && (!actor || e.actor.includes(actor)));
          if (all.length === 0) return <Empty>No changes recorded yet. Creating a function, a key or an alert rule adds the first entry.</Empty>;
          return (
            <>
              {shown.length === 0 ? (
                <Empty>
                  None of the newest {all.length} entries matches. Clear the filters
                  {all.length === limit && limit < MAX ? ", or load older entries below" : ""}.
                </Empty>
              ) : (
                <table aria-label="Audit log" class="q-compact">
                  <thead>
                    <tr>
                      <th>When</th>
                      <th>Actor</th>
                      <th>Action</th>
                      <th>Target</th>
                      <th>Details</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((e) => {
                      const href = targetLink(e);
                      const details = e.details == null ? "" : JSON.stringify(e.details);
                      return (
                        <tr key={e.id}>
                          <td class="q-nowrap">
                            <Time iso={e.at} />
                          </td>
                          <td class="q-clip" title={e.actor}>
                            {e.actor}
                          </td>
                          <td>
                            <code>{e.action}</code>
                          </td>
                          <td class="q-clip" title={e.target}>
                            {href ? <Link href={href}>{e.target}</Link> : e.target}
                          </td>
                          <td class="mono q-small q-clip q-wide" title={details}>
                            {details || <span class="q-muted">—</span>}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
              <div class="pager">
                <span class="q-muted q-small">
                  {shown.length === all.length ? `${all.length} entries` : `${shown.length} of the newest ${all.length} entries`}
                </span>
                {all.length === limit && limit < MAX && (
                  <button type="button" onClick={() => setQuery({ limit: String(limit + STEP) })}>
                    Load older entries
                  </button>
                )}
                {all.length === MAX && <span class="q-muted q-small">The API shows the newest {MAX} entries at most.</span>}
              </div>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
