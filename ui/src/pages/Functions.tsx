// Every function of the tenant: search and tag filter and page (kept in
// the URL), trigger types, enabled state (operators switch it), live
// version, last run; bulk enable / disable / delete (operator).
//
// The API lists all functions in one answer; the table renders one page
// of them, and asks for the per-function details (schedules, last run
// when it is not among the tenant's latest runs) for that page only.

import { useMemo, useState } from "preact/hooks";
import type { Execution, QFunction, Quasm } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { eachLimited } from "../lib/pool";
import { Link, navigate, setQuery, useLocation } from "../lib/router";
import { can } from "../lib/session";
import { BulkBar } from "../components/BulkBar";
import { Action, Empty, ErrorBox, Loaded, Status, Time } from "../components/ui";

const PAGE = 50;

interface Tenantwide {
  fns: QFunction[];
  /** The latest run of each function among the tenant's latest 500. */
  last: Map<string, Execution>;
  routes: Map<string, string[]>;
  subscriptions: Map<string, string[]>;
}

function group<T>(items: T[], key: (t: T) => string, label: (t: T) => string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const i of items) m.set(key(i), [...(m.get(key(i)) ?? []), label(i)]);
  return m;
}

async function load(q: Quasm): Promise<Tenantwide> {
  const [fns, recent, routes, subs] = await Promise.all([
    q.functions.list(),
    q.executions.list({ limit: 500 }).page(),
    q.routes.list(),
    q.subscriptions.list(),
  ]);
  const last = new Map<string, Execution>();
  for (const e of recent.executions) if (!last.has(e.function)) last.set(e.function, e);
  return {
    fns,
    last,
    routes: group(routes, (r) => r.function, (r) => `${r.method ?? "ANY"} ${r.path}`),
    subscriptions: group(subs, (s) => s.function, (s) => s.event_type),
  };
}

interface PageDetails {
  schedules: Map<string, string[]>;
  last: Map<string, Execution | null>;
}

/** Schedules of the page's functions, and the last run of those not among the latest runs. */
async function details(q: Quasm, names: string[], known: Map<string, Execution>): Promise<PageDetails> {
  const schedules = new Map<string, string[]>();
  const last = new Map<string, Execution | null>();
  await eachLimited(names, 6, async (name) => {
    const [sc, ex] = await Promise.all([
      q.schedules.list(name),
      known.has(name) ? Promise.resolve(null) : q.executions.list({ function: name, limit: 1 }).page(),
    ]);
    schedules.set(name, sc.map((s) => `${s.cron} ${s.timezone}`));
    if (ex) last.set(name, ex.executions[0] ?? null);
  });
  return { schedules, last };
}

export function Functions() {
  const { query } = useLocation();
  const search = query.get("q") ?? "";
  const tag = query.get("tag") ?? "";
  const page = Math.max(1, Number(query.get("page")) || 1);
  const all = useApi(load, []);
  return (
    <section>
      <div class="page-head">
        <h1>Functions</h1>
        {all.data && <span class="q-muted">{all.data.fns.length}</span>}
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
            onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value, page: undefined })}
          />
        </label>
        {tag && (
          <span class="q-chip">
            tag: {tag}{" "}
            <button type="button" class="q-link" aria-label={`Remove tag filter ${tag}`} onClick={() => setQuery({ tag: "", page: undefined })}>
              ×
            </button>
          </span>
        )}
      </div>
      <Loaded state={all} what="functions">
        {(t) => <Table t={t} search={search} tag={tag} page={page} reload={all.reload} />}
      </Loaded>
    </section>
  );
}

function Table(props: { t: Tenantwide; search: string; tag: string; page: number; reload: () => void }) {
  const { t, search, tag } = props;
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const toggle = useAction((q, name: string, enabled: boolean) => q.functions.update(name, { enabled }));
  const [pending, setPending] = useState<string | null>(null);
  const shown = useMemo(() => {
    const s = search.toLowerCase();
    return t.fns.filter(
      (fn) => (!s || fn.name.includes(s) || fn.description.toLowerCase().includes(s)) && (!tag || fn.tags.includes(tag)),
    );
  }, [t, search, tag]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const page = Math.min(props.page, pages);
  const rows = shown.slice((page - 1) * PAGE, page * PAGE);
  const names = rows.map((f) => f.name);
  const more = useApi((q) => details(q, names, t.last), [t, names.join("\n")]);
  const operator = can("operator");

  if (t.fns.length === 0)
    return (
      <Empty>
        No functions yet.{" "}
        {can("developer") ? <Link href="/functions/new">Create your first function</Link> : "A developer can create the first one."}
      </Empty>
    );
  const allOnPage = rows.length > 0 && rows.every((f) => selected.has(f.name));
  const setMany = (ns: string[], on: boolean) => {
    const s = new Set(selected);
    for (const n of ns) on ? s.add(n) : s.delete(n);
    setSelected(s);
  };
  return (
    <>
      {!operator && <p class="q-muted q-small">Enabling, disabling and deleting functions (one or several at once) needs the operator role.</p>}
      {operator && (
        <BulkBar selected={[...selected].filter((n) => t.fns.some((f) => f.name === n))} clear={() => setSelected(new Set())} done={props.reload} />
      )}
      {operator && allOnPage && shown.length > rows.length && !shown.every((f) => selected.has(f.name)) && (
        <p class="q-small">
          All {rows.length} on this page are selected.{" "}
          <button type="button" class="q-link" onClick={() => setMany(shown.map((f) => f.name), true)}>
            Select all {shown.length} {search || tag ? "matching " : ""}functions
          </button>
        </p>
      )}
      <ErrorBox error={toggle.error} what="Changing the enabled state" />
      {shown.length === 0 ? (
        <Empty>
          No function matches “{search || tag}”. Clear the search to see all {t.fns.length}.
        </Empty>
      ) : (
        <table class="list" aria-label="Functions">
          <thead>
            <tr>
              {operator && (
                <th class="q-check">
                  <input
                    type="checkbox"
                    aria-label="Select all on this page"
                    checked={allOnPage}
                    onChange={(e) => setMany(names, (e.target as HTMLInputElement).checked)}
                  />
                </th>
              )}
              <th>Name</th>
              <th>Triggers</th>
              <th>Tags</th>
              <th>Enabled</th>
              <th>Live</th>
              <th>Last run</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((fn) => {
              const last = t.last.get(fn.name) ?? more.data?.last.get(fn.name);
              const schedules = more.data?.schedules.get(fn.name);
              return (
                <tr key={fn.name}>
                  {operator && (
                    <td class="q-check">
                      <input
                        type="checkbox"
                        aria-label={`Select ${fn.name}`}
                        checked={selected.has(fn.name)}
                        onChange={(e) => setMany([fn.name], (e.target as HTMLInputElement).checked)}
                      />
                    </td>
                  )}
                  <td>
                    <Link href={`/functions/${encodeURIComponent(fn.name)}`}>{fn.name}</Link>
                    {fn.description && <div class="q-muted q-small q-clip">{fn.description}</div>}
                  </td>
                  <td>
                    <Triggers
                      name={fn.name}
                      routes={t.routes.get(fn.name)}
                      schedules={schedules}
                      subscriptions={t.subscriptions.get(fn.name)}
                      loading={more.loading && !schedules}
                    />
                  </td>
                  <td>
                    {fn.tags.map((tg) => (
                      <button type="button" key={tg} class="q-chip" onClick={() => setQuery({ tag: tg, page: undefined })}>
                        {tg}
                      </button>
                    ))}
                  </td>
                  <td>
                    <label class="q-switch" title={operator ? undefined : "Needs the operator role"}>
                      <input
                        type="checkbox"
                        checked={fn.enabled}
                        disabled={!operator || pending === fn.name}
                        aria-label={`${fn.name} enabled`}
                        onChange={async (e) => {
                          setPending(fn.name);
                          if (await toggle.run(fn.name, (e.target as HTMLInputElement).checked)) props.reload();
                          setPending(null);
                        }}
                      />
                      <span>{fn.enabled ? "enabled" : "disabled"}</span>
                    </label>
                  </td>
                  <td>{fn.live_version != null ? `v${fn.live_version}` : "—"}</td>
                  <td class="q-nowrap">
                    {last ? (
                      <Link href={`/executions/${last.id}`}>
                        <Status status={last.status} /> <Time iso={last.created_at} />
                      </Link>
                    ) : last === null || more.data ? (
                      <span class="q-muted">never run</span>
                    ) : (
                      <span class="q-muted">…</span>
                    )}
                  </td>
                  <td>
                    <Time iso={fn.updated_at} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {shown.length > PAGE && (
        <nav class="pager" aria-label="Pages">
          <span class="q-muted q-small">
            {(page - 1) * PAGE + 1}–{Math.min(page * PAGE, shown.length)} of {shown.length}
          </span>
          <button type="button" disabled={page <= 1} onClick={() => setQuery({ page: page - 1 > 1 ? String(page - 1) : undefined })}>
            Previous page
          </button>
          <button type="button" disabled={page >= pages} onClick={() => setQuery({ page: String(page + 1) })}>
            Next page
          </button>
        </nav>
      )}
      <ErrorBox error={more.error} what="Loading schedules and last runs" />
    </>
  );
}

function Triggers(props: { name: string; routes?: string[] | undefined; schedules?: string[] | undefined; subscriptions?: string[] | undefined; loading: boolean }) {
  const badge = (kind: string, label: string, list: string[] | undefined) =>
    list && list.length > 0 ? (
      <span class={`q-trig t-${kind}`} title={list.join("\n")}>
        {label}
        {list.length > 1 ? ` ×${list.length}` : ""}
      </span>
    ) : null;
  const none = !props.loading && !props.routes?.length && !props.schedules?.length && !props.subscriptions?.length;
  return (
    <Link href={`/functions/${encodeURIComponent(props.name)}/triggers`} class="q-plain-link" title={`Triggers of ${props.name}`}>
      {badge("route", "route", props.routes)}
      {badge("schedule", "schedule", props.schedules)}
      {badge("subscription", "subscription", props.subscriptions)}
      {props.loading && !props.routes?.length && !props.subscriptions?.length && <span class="q-muted">…</span>}
      {none && <span class="q-muted q-small">manual only</span>}
    </Link>
  );
}
