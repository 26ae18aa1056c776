// One execution: status, trigger, version, timings, CPU, memory, input,
// output, logs with levels, error and stack; run again with the same input.

import type { Execution } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { Link, navigate } from "../lib/router";
import { absolute, bytes, duration } from "../lib/format";
import { Action, ErrorBox, Loaded, Status, Time } from "../components/ui";
import { ErrorView } from "../components/RunPanel";

export function ExecutionDetail({ id }: { id: string }) {
  const ex = useApi((q) => q.executions.get(id), [id]);
  const again = useAction(async (q, e: Execution) => {
    const run = await q.runs.start(e.function, e.input ?? null);
    navigate(`/executions/${run.id}`);
  });
  return (
    <section>
      <h1>
        <Link href="/executions" class="crumb">
          Executions
        </Link>{" "}
        / <span class="mono">{id}</span>
      </h1>
      <Loaded state={ex} what="the execution">
        {(e) => (
          <div class="q-execution">
            <dl class="q-facts">
              <dt>Status</dt>
              <dd>
                <Status status={e.status} />
              </dd>
              <dt>Function</dt>
              <dd>
                <Link href={`/functions/${encodeURIComponent(e.function)}`}>{e.function}</Link>
                {e.version != null ? ` v${e.version}` : ""}
              </dd>
              <dt>Trigger</dt>
              <dd>
                {e.trigger}
                {e.trigger_ref ? <span class="q-muted"> ({e.trigger_ref})</span> : null}
              </dd>
              <dt>Created</dt>
              <dd title={absolute(e.created_at)}>
                <Time iso={e.created_at} />
              </dd>
              <dt>Duration</dt>
              <dd>{duration(e.duration_ms)}</dd>
              <dt>CPU</dt>
              <dd>{duration(e.cpu_time_ms)}</dd>
              <dt>Memory</dt>
              <dd>{bytes(e.peak_memory_bytes)}</dd>
            </dl>
            <div class="q-actions">
              {(e.trigger === "manual" || e.trigger === "invoke") && (
                <Action needs="developer" busy={again.busy} onClick={() => again.run(e)}>
                  Run again with the same input
                </Action>
              )}
              <Action needs="viewer" onClick={ex.reload}>
                Refresh
              </Action>
            </div>
            <ErrorBox error={again.error} what="Run again" />
            {e.error && (
              <ErrorView error={e.error} frameHref={(l, c) => `/functions/${encodeURIComponent(e.function)}?line=${l}&column=${c}`} />
            )}
            <div class="q-cols">
              <div>
                <h2>Input</h2>
                <pre class="q-code">{e.input === undefined ? "—" : JSON.stringify(e.input, null, 2)}</pre>
              </div>
              <div>
                <h2>Output</h2>
                <pre class="q-code">{e.output === undefined ? "—" : JSON.stringify(e.output, null, 2)}</pre>
              </div>
            </div>
            <h2>Logs</h2>
            {(e.logs ?? []).length === 0 ? (
              <p class="q-muted">No log lines.</p>
            ) : (
              <ol class="logs" aria-label="Log lines">
                {(e.logs ?? []).map((l, i) => (
                  <li key={i} class={`q-log log-${l.level}`}>
                    <span class="q-lvl">{l.level}</span> <span class="q-muted q-small">{new Date(l.time_ms).toISOString().slice(11, 23)}</span>{" "}
                    {l.message}
                  </li>
                ))}
              </ol>
            )}
            {e.logs_truncated && <p class="q-note">Logs were truncated at the function's log limit.</p>}
          </div>
        )}
      </Loaded>
    </section>
  );
}
