// Executions, global or of one function: filters (function, status,
// trigger, time range) and the page cursor live in the URL.

import type { ExecutionFilters, ExecutionStatus, Trigger } from "../sdk";
import { useApi } from "../lib/data";
import { Link, setQuery, useLocation } from "../lib/router";
import { duration, shortId } from "../lib/format";
import { Empty, Loaded, Status, Time } from "../components/ui";

const STATUSES = ["ok", "error", "timeout", "out_of_memory", "limit_exceeded", "cancelled", "running", "queued"];
const TRIGGERS = ["http", "invoke", "cron", "event", "manual"];
const RANGES: [string, string][] = [
  ["", "any time"],
  ["1h", "last hour"],
  ["24h", "last 24 hours"],
  ["7d", "last 7 days"],
];

function since(range: string): string | undefined {
  const ms = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 }[range];
  return ms ? new Date(Date.now() - ms).toISOString() : undefined;
}

export function Executions() {
  return (
    <section>
      <h1>Executions</h1>
      <ExecutionsTable />
    </section>
  );
}

export function ExecutionsTable({ fixedFunction }: { fixedFunction?: string }) {
  const { query } = useLocation();
  const f = {
    function: fixedFunction ?? query.get("function") ?? "",
    status: query.get("status") ?? "",
    trigger: query.get("trigger") ?? "",
    range: query.get("range") ?? "",
    cursor: query.get("cursor") ?? "",
  };
  const page = useApi(
    (q) => {
      const filters: ExecutionFilters = { limit: 50 };
      if (f.function) filters.function = f.function;
      // Checked by the server: an unknown value from a hand-edited URL is a 400 shown here.
      if (f.status) filters.status = f.status as ExecutionStatus;
      if (f.trigger) filters.trigger = f.trigger as Trigger;
      const s = since(f.range);
      if (s) filters.since = s;
      return q.executions.list(filters).page(f.cursor ? { cursor: f.cursor } : {});
    },
    [f.function, f.status, f.trigger, f.range, f.cursor],
  );
  const filtered = !!(f.status || f.trigger || f.range || (!fixedFunction && f.function));
  return (
    <div>
      <form class="filters" aria-label="Filter executions" onSubmit={(e) => e.preventDefault()}>
        {!fixedFunction && (
          <label>
            Function
            <input
              type="search"
              value={f.function}
              placeholder="any"
              onChange={(e) => setQuery({ function: (e.target as HTMLInputElement).value.trim(), cursor: "" })}
            />
          </label>
        )}
        <label>
          Status
          <select value={f.status} onChange={(e) => setQuery({ status: (e.target as HTMLSelectElement).value, cursor: "" })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select value={f.trigger} onChange={(e) => setQuery({ trigger: (e.target as HTMLSelectElement).value, cursor: "" })}>
            <option value="">any</option>
            {TRIGGERS.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Time
          <select value={f.range} onChange={(e) => setQuery({ range: (e.target as HTMLSelectElement).value, cursor: "" })}>
            {RANGES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        {filtered && (
          <button type="button" class="q-link" onClick={() => setQuery({ function: "", status: "", trigger: "", range: "", cursor: "" })}>
            Clear filters
          </button>
        )}
      </form>
      <Loaded state={page} what="executions">
        {(p) =>
          p.executions.length === 0 ? (
            <Empty>
              {filtered
                ? "No execution matches these filters. Clear them to see everything."
                : "Nothing has run yet. Open a function and press Run, or wait for its trigger."}
            </Empty>
          ) : (
            <>
              <table class="list" aria-label="Executions">
                <thead>
                  <tr>
                    <th>Execution</th>
                    {!fixedFunction && <th>Function</th>}
                    <th>Status</th>
                    <th>Trigger</th>
                    <th>Version</th>
                    <th>Started</th>
                    <th>Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {p.executions.map((e) => (
                    <tr key={e.id}>
                      <td>
                        <Link href={`/executions/${e.id}`} class="mono" title={e.id}>
                          …{shortId(e.id)}
                        </Link>
                      </td>
                      {!fixedFunction && (
                        <td>
                          <Link href={`/functions/${encodeURIComponent(e.function)}`}>{e.function}</Link>
                        </td>
                      )}
                      <td>
                        <Status status={e.status} />
                      </td>
                      <td>{e.trigger}</td>
                      <td>{e.version != null ? `v${e.version}` : "—"}</td>
                      <td>
                        <Time iso={e.created_at} />
                      </td>
                      <td>{duration(e.duration_ms)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div class="pager">
                {f.cursor && (
                  <button type="button" onClick={() => setQuery({ cursor: "" })}>
                    First page
                  </button>
                )}
                {p.next_cursor && (
                  <button type="button" onClick={() => setQuery({ cursor: p.next_cursor ?? "" })}>
                    Older executions
                  </button>
                )}
              </div>
            </>
          )
        }
      </Loaded>
    </div>
  );
}
