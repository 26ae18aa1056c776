// The last 24 hours at a glance: runs by status, failing functions, the
// next scheduled runs, dead letters waiting. Each figure links to the list
// behind it.

import { useApi } from "../lib/data";
import { session } from "../lib/session";
import { Link } from "../lib/router";
import { Empty, Loaded, Status, Time } from "../components/ui";
import { absolute } from "../lib/format";

/** Successes first, then failures, then what is still going on. */
const ORDER = ["ok", "error", "timeout", "out_of_memory", "limit_exceeded", "cancelled", "running", "queued"];

export function Home() {
  const stats = useApi(() => session()!.extra.stats(), []);
  return (
    <section>
      <h1>Home</h1>
      <p class="q-muted">The last 24 hours in this tenant.</p>
      <Loaded state={stats} what="the figures">
        {(s) => (
          <div class="home">
            <div class="q-tiles" aria-label="Runs by status">
              {ORDER.map((k) => [k, s.runs_by_status[k] ?? 0] as const)
                .filter(([k, v]) => v > 0 || ["ok", "error", "timeout"].includes(k))
                .map(([k, v]) => (
                  <Link key={k} class="q-tile" href={`/executions?status=${k}`}>
                    <span class="q-num">{v}</span>
                    <Status status={k} />
                  </Link>
                ))}
              <Link class={`q-tile ${s.dead_letters_waiting ? "q-warn" : ""}`} href="/dead-letters">
                <span class="q-num">{s.dead_letters_waiting}</span>
                <span>dead letters waiting</span>
              </Link>
            </div>
            <div class="q-cols">
              <div>
                <h2>Failing functions</h2>
                {s.failing_functions.length === 0 ? (
                  <Empty>No failures in the last 24 hours.</Empty>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th>Function</th>
                        <th>Failures</th>
                        <th>Last failure</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.failing_functions.map((f) => (
                        <tr key={f.function}>
                          <td>
                            <Link href={`/functions/${encodeURIComponent(f.function)}`}>{f.function}</Link>
                          </td>
                          <td>
                            {f.failures} of {f.runs}
                          </td>
                          <td>
                            <Link href={`/executions/${f.last_execution_id}`}>
                              <Time iso={f.last_failure_at} />
                            </Link>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </div>
              <div>
                <h2>Next scheduled runs</h2>
                {s.next_scheduled_runs.length === 0 ? (
                  <Empty>
                    Nothing scheduled. <Link href="/functions/new?type=scheduled">Create a scheduled function</Link>.
                  </Empty>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th>Function</th>
                        <th>Cron</th>
                        <th>Next run</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.next_scheduled_runs.map((r) => (
                        <tr key={r.schedule_id}>
                          <td>
                            <Link href={`/functions/${encodeURIComponent(r.function)}/triggers`}>{r.function}</Link>
                          </td>
                          <td>
                            <code>{r.cron}</code> <span class="q-muted">{r.timezone}</span>
                          </td>
                          <td title={absolute(r.at, r.timezone)}>
                            <Time iso={r.at} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </div>
            </div>
          </div>
        )}
      </Loaded>
    </section>
  );
}
