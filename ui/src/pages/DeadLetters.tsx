// Events and dead letters: publish a test event; the deliveries that ran
// out of attempts with their event and last error; replay one or a
// selection, or delete (operator).

import { useState } from "preact/hooks";
import type { DeadLetter } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { Link } from "../lib/router";
import { can } from "../lib/session";
import { ConfirmAction } from "../components/Confirm";
import { Action, Empty, ErrorBox, Loaded, ReadOnlyNote, Time } from "../components/ui";

export function DeadLetters() {
  const list = useApi((q) => q.deadLetters.list({ limit: 100 }).page(), []);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [done, setDone] = useState<string>();
  const replay = useAction(async (q, ids: number[]) => {
    for (const id of ids) await q.deadLetters.replay(id);
  });
  const remove = useAction(async (q, ids: number[]) => {
    for (const id of ids) await q.deadLetters.delete(id);
  });
  const act = async (kind: "replay" | "delete", ids: number[]) => {
    setDone(undefined);
    const ok = kind === "replay" ? await replay.run(ids) : await remove.run(ids);
    if (ok) {
      setDone(`${kind === "replay" ? "Replayed" : "Deleted"} ${ids.length} dead letter${ids.length > 1 ? "s" : ""}.`);
      setSelected(new Set());
      list.reload();
    }
  };
  const toggle = (id: number) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  return (
    <section>
      <h1>Events &amp; dead letters</h1>
      <PublishEvent />
      <h2>Dead letters</h2>
      <ReadOnlyNote role="operator" doing="replaying or deleting dead letters" />
      {done && (
        <p class="q-ok" role="status">
          {done}
        </p>
      )}
      <ErrorBox error={replay.error ?? remove.error} />
      <Loaded state={list} what="dead letters">
        {(p) =>
          p.dead_letters.length === 0 ? (
            <Empty>No dead letters: every event delivery succeeded or is still being retried.</Empty>
          ) : (
            <>
              <div class="q-actions">
                <Action needs="operator" disabled={selected.size === 0} busy={replay.busy} onClick={() => act("replay", [...selected])}>
                  Replay selected ({selected.size})
                </Action>
                <ConfirmAction
                  needs="operator"
                  label="Delete selected"
                  disabled={selected.size === 0}
                  busy={remove.busy}
                  question={`Drop ${selected.size} dead letter${selected.size === 1 ? "" : "s"} for good?`}
                  confirm="Yes, delete"
                  onConfirm={() => act("delete", [...selected])}
                />
              </div>
              <table class="list" aria-label="Dead letters">
                <thead>
                  <tr>
                    <th>
                      <input
                        type="checkbox"
                        aria-label="Select all"
                        disabled={!can("operator")}
                        checked={selected.size === p.dead_letters.length}
                        onChange={(e) =>
                          setSelected((e.target as HTMLInputElement).checked ? new Set(p.dead_letters.map((d) => d.id)) : new Set())
                        }
                      />
                    </th>
                    <th>Event</th>
                    <th>Function</th>
                    <th>Attempts</th>
                    <th>Last error</th>
                    <th>Dead since</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {p.dead_letters.map((d: DeadLetter) => (
                    <tr key={d.id}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select dead letter ${d.id}`}
                          disabled={!can("operator")}
                          checked={selected.has(d.id)}
                          onChange={() => toggle(d.id)}
                        />
                      </td>
                      <td>
                        <code>{d.event.type}</code>
                        <div class="q-muted q-small mono q-clip" title={JSON.stringify(d.event.payload)}>
                          {JSON.stringify(d.event.payload)}
                        </div>
                      </td>
                      <td>
                        <Link href={`/functions/${encodeURIComponent(d.function)}`}>{d.function}</Link>
                      </td>
                      <td>{d.attempts}</td>
                      <td>
                        {d.last_error ? (
                          <span class="err-text">
                            {d.last_error.name ?? "Error"}: {d.last_error.message ?? ""}
                          </span>
                        ) : (
                          "—"
                        )}
                        {d.last_execution_id && (
                          <div>
                            <Link href={`/executions/${d.last_execution_id}`} class="q-small">
                              last execution
                            </Link>
                          </div>
                        )}
                      </td>
                      <td>
                        <Time iso={d.dead_at} />
                      </td>
                      <td class="q-nowrap">
                        <Action needs="operator" busy={replay.busy} onClick={() => act("replay", [d.id])} aria-label={`Replay dead letter ${d.id}`}>
                          Replay
                        </Action>{" "}
                        <Action needs="operator" busy={remove.busy} onClick={() => act("delete", [d.id])} aria-label={`Delete dead letter ${d.id}`}>
                          Delete
                        </Action>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </Loaded>
    </section>
  );
}

function PublishEvent() {
  const [type, setType] = useState("test.ping");
  const [payload, setPayload] = useState('{"hello": "world"}');
  const [result, setResult] = useState<string>();
  const [jsonError, setJsonError] = useState<string>();
  const pub = useAction(async (q, t: string, p: unknown) => {
    const r = (await q.events.publish(t, p)) as { id?: string; deliveries?: number };
    setResult(`Published ${r.id ?? ""} to ${r.deliveries ?? 0} subscription(s).`);
  });
  if (!can("developer")) return <ReadOnlyNote role="developer" doing="publishing a test event" />;
  return (
    <form
      class="inline-form"
      aria-label="Publish a test event"
      onSubmit={async (e) => {
        e.preventDefault();
        setResult(undefined);
        let p: unknown;
        try {
          p = payload.trim() ? JSON.parse(payload) : null;
          setJsonError(undefined);
        } catch (err) {
          setJsonError(`Payload is not valid JSON: ${(err as Error).message}`);
          return;
        }
        await pub.run(type.trim(), p);
      }}
    >
      <label>
        Event type
        <input value={type} onInput={(e) => setType((e.target as HTMLInputElement).value)} />
      </label>
      <label class="q-grow">
        Payload (JSON)
        <input class="mono" value={payload} onInput={(e) => setPayload((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" disabled={pub.busy}>
        Publish test event
      </button>
      {jsonError && (
        <div class="q-error" role="alert">
          {jsonError}
        </div>
      )}
      {result && (
        <span class="q-ok" role="status">
          {result}
        </span>
      )}
      <ErrorBox error={pub.error} what="Publish" />
    </form>
  );
}
