// What starts the function: cron schedules (the next fire times from the
// server's preview, in the schedule's zone and the viewer's; the recorded
// slots linking to their executions), HTTP routes (full URL, copy, curl)
// and event subscriptions.

import { useState } from "preact/hooks";
import type { CreateSchedule, QFunction, Schedule } from "../../sdk";
import { useAction, useApi } from "../../lib/data";
import { Link } from "../../lib/router";
import { can, session } from "../../lib/session";
import { absolute, localZone } from "../../lib/format";
import { Action, Empty, ErrorBox, Loaded, ReadOnlyNote, Status, Time } from "../../components/ui";
import { TimeZoneInput } from "../../components/TriggerForm";

export function TriggersTab({ fn }: { fn: QFunction }) {
  return (
    <div class="q-triggers">
      <ReadOnlyNote role="operator" doing="changing triggers" />
      <Schedules fn={fn.name} />
      <Routes fn={fn.name} />
      <Subscriptions fn={fn.name} />
    </div>
  );
}

function Schedules({ fn }: { fn: string }) {
  const list = useApi((q) => q.schedules.list(fn), [fn]);
  const [cron, setCron] = useState("0 9 * * MON-FRI");
  const [tz, setTz] = useState(localZone);
  const add = useAction((q) => q.schedules.create(fn, { cron: cron.trim(), timezone: tz.trim() } as CreateSchedule));
  const del = useAction((q, id: number) => q.schedules.delete(fn, id));
  return (
    <section>
      <h2>Schedules</h2>
      <ErrorBox error={del.error} what="Deleting the schedule" />
      <Loaded state={list} what="schedules">
        {(ss) =>
          ss.length === 0 ? (
            <Empty>No schedule: add a cron expression below to run the scheduled handler.</Empty>
          ) : (
            <>
              {ss.map((s) => (
                <ScheduleCard
                  key={s.id}
                  s={s}
                  onDelete={async () => {
                    if (await del.run(s.id)) list.reload();
                  }}
                />
              ))}
            </>
          )
        }
      </Loaded>
      {can("operator") && (
        <form
          class="inline-form"
          aria-label="Add a schedule"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await add.run()) list.reload();
          }}
        >
          <label>
            Cron expression
            <input value={cron} onInput={(e) => setCron((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Time zone
            <TimeZoneInput id="sched-tz" value={tz} onChange={setTz} />
          </label>
          <button type="submit" class="q-primary" disabled={add.busy}>
            Add schedule
          </button>
        </form>
      )}
      <ErrorBox error={add.error} what="Adding the schedule" />
    </section>
  );
}

function ScheduleCard({ s, onDelete }: { s: Schedule; onDelete: () => void }) {
  const preview = useApi((q) => q.schedules.preview(s.function, s.id, { count: 10 }), [s.id, s.cron, s.timezone]);
  const runs = useApi((q) => q.schedules.runs(s.function, s.id), [s.id]);
  const other = localZone !== s.timezone;
  return (
    <div class="q-card q-schedule" aria-label={`Schedule ${s.cron}`}>
      <div class="q-row">
        <code class="q-cron">{s.cron}</code>
        <span>{describeCron(s.cron)}</span>
        <span class="q-muted">in {s.timezone}</span>
        <span class="q-spacer" />
        <span class="q-muted q-small">{s.enabled ? "enabled" : "disabled"}</span>
        <Action needs="operator" onClick={onDelete} aria-label={`Delete schedule ${s.cron}`}>
          Delete
        </Action>
      </div>
      <div class="q-cols">
        <div>
          <h3>Next fire times</h3>
          <Loaded state={preview} what="the preview">
            {(p) => (
              <table class="q-compact" aria-label="Next fire times">
                <thead>
                  <tr>
                    <th>In {s.timezone}</th>
                    {other && <th>Your time ({localZone})</th>}
                  </tr>
                </thead>
                <tbody>
                  {p.map((t) => (
                    <tr key={t}>
                      <td>{absolute(t, s.timezone)}</td>
                      {other && <td class="q-muted">{absolute(t, localZone)}</td>}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Loaded>
        </div>
        <div>
          <h3>Recent slots</h3>
          <Loaded state={runs} what="recent slots">
            {(rs) =>
              rs.length === 0 ? (
                <Empty>No slot has fired yet.</Empty>
              ) : (
                <table class="q-compact">
                  <tbody>
                    {rs.slice(0, 10).map((r) => (
                      <tr key={r.slot_at}>
                        <td>
                          <Time iso={r.slot_at} />
                        </td>
                        <td>
                          {r.status}
                          {r.reason ? <span class="q-muted"> ({r.reason})</span> : null}
                        </td>
                        <td>
                          {r.execution_id && (
                            <Link href={`/executions/${r.execution_id}`}>
                              <Status status={r.execution_status ?? "running"} />
                            </Link>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Loaded>
        </div>
      </div>
    </div>
  );
}

/** A few common shapes in words; anything else stays as the expression. */
export function describeCron(cron: string): string {
  const named: Record<string, string> = {
    "@yearly": "once a year",
    "@annually": "once a year",
    "@monthly": "once a month",
    "@weekly": "once a week",
    "@daily": "every day at midnight",
    "@midnight": "every day at midnight",
    "@hourly": "every hour",
  };
  if (named[cron]) return named[cron];
  const f = cron.trim().split(/\s+/);
  if (f.length !== 5) return "";
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  const at = /^\d+$/.test(min) && /^\d+$/.test(hour) ? `at ${hour.padStart(2, "0")}:${min.padStart(2, "0")}` : "";
  if (min === "*" && hour === "*") return "every minute";
  if (min.startsWith("*/") && hour === "*") return `every ${min.slice(2)} minutes`;
  if (/^\d+$/.test(min) && hour === "*") return `every hour at minute ${min}`;
  if (!at) return "";
  if (dom === "*" && mon === "*" && dow === "*") return `every day ${at}`;
  if (dom === "*" && mon === "*" && /^(MON-FRI|1-5)$/i.test(dow)) return `weekdays ${at}`;
  if (dom === "*" && mon === "*") return `on ${dow} ${at}`;
  if (mon === "*" && dow === "*") return `on day ${dom} of every month ${at}`;
  return "";
}

function Routes({ fn }: { fn: string }) {
  const list = useApi(async (q) => (await q.routes.list()).filter((r) => r.function === fn), [fn]);
  const tenant = session()?.who.tenant ?? "";
  const [copied, setCopied] = useState<number>();
  const del = useAction((q, id: number) => q.routes.delete(id));
  return (
    <section>
      <h2>HTTP routes</h2>
      <ErrorBox error={del.error} what="Deleting the route" />
      <Loaded state={list} what="routes">
        {(rs) =>
          rs.length === 0 ? (
            <Empty>No route: create one with the “HTTP endpoint” kind or through the API.</Empty>
          ) : (
            <table class="list">
              <tbody>
                {rs.map((r) => {
                  const url = `${location.origin}/fn/${tenant}${r.path}`;
                  const curl = `curl -X ${r.method ?? "POST"} ${url}${r.auth === "public" ? "" : " -H 'Authorization: Bearer $TOKEN'"}`;
                  return (
                    <tr key={r.id}>
                      <td>{r.method ?? "ANY"}</td>
                      <td>
                        <code>{url}</code>
                        <div class="q-muted q-small mono">{curl}</div>
                      </td>
                      <td>
                        {r.auth}
                        {r.strip_prefix && <div class="q-muted q-small">request.url without /fn/{tenant}</div>}
                      </td>
                      <td>
                        <button
                          type="button"
                          onClick={() => navigator.clipboard?.writeText(url).then(() => setCopied(r.id))}
                        >
                          {copied === r.id ? "Copied" : "Copy URL"}
                        </button>{" "}
                        <Action
                          needs="operator"
                          aria-label={`Delete route ${r.path}`}
                          onClick={async () => {
                            if (await del.run(r.id)) list.reload();
                          }}
                        >
                          Delete
                        </Action>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}

function Subscriptions({ fn }: { fn: string }) {
  const list = useApi(async (q) => (await q.subscriptions.list()).filter((s) => s.function === fn), [fn]);
  return (
    <section>
      <h2>Event subscriptions</h2>
      <Loaded state={list} what="subscriptions">
        {(ss) =>
          ss.length === 0 ? (
            <Empty>No subscription: create one with the “Event handler” kind or through the API.</Empty>
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th>Event type</th>
                  <th>Filter</th>
                  <th>Attempts</th>
                </tr>
              </thead>
              <tbody>
                {ss.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <code>{s.event_type}</code>
                    </td>
                    <td>
                      <code>{JSON.stringify(s.filter)}</code>
                    </td>
                    <td>{s.max_attempts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}
