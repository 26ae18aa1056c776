// Every version: number, author, message, time, which is live; a diff of
// any two (Monaco's diff editor, read-only); deploy a newer one or roll
// back to an older one (operator).

import { useState } from "preact/hooks";
import type { QFunction, Version } from "../../sdk";
import { useAction, useApi } from "../../lib/data";
import { Action, Empty, ErrorBox, Loaded, ReadOnlyNote, Time } from "../../components/ui";
import { DiffEditor } from "../../editor/CodeEditor";

export function VersionsTab({ fn, reload }: { fn: QFunction; reload: () => void }) {
  const list = useApi((q) => q.versions.list(fn.name), [fn.name, fn.live_version]);
  const [pair, setPair] = useState<[number, number] | null>(null);
  const act = useAction((q, kind: "deploy" | "rollback", n: number) =>
    kind === "deploy" ? q.functions.deploy(fn.name, n) : q.functions.rollback(fn.name, n),
  );
  return (
    <Loaded state={list} what="versions">
      {(vs) => {
        const sorted = [...vs].sort((a, b) => b.number - a.number);
        if (sorted.length === 0) return <Empty>No versions yet: save code in the Code tab.</Empty>;
        const [a, b] = pair ?? [sorted[1]?.number ?? sorted[0]!.number, sorted[0]!.number];
        const live = fn.live_version ?? 0;
        return (
          <div class="q-versions">
            <ReadOnlyNote role="operator" doing="deploying or rolling back" />
            <ErrorBox error={act.error} what="Changing the live version" />
            <table class="list">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Message</th>
                  <th>Author</th>
                  <th>Created</th>
                  <th>Compare</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {sorted.map((v: Version) => (
                  <tr key={v.number} class={v.live ? "q-live" : ""}>
                    <td>
                      v{v.number} {v.live && <span class="q-badge">live</span>}
                    </td>
                    <td>{v.message || <span class="q-muted">—</span>}</td>
                    <td class="q-small">{v.author}</td>
                    <td>
                      <Time iso={v.created_at} />
                    </td>
                    <td>
                      <label class="q-small">
                        <input type="radio" name="left" checked={a === v.number} onChange={() => setPair([v.number, b])} /> from
                      </label>{" "}
                      <label class="q-small">
                        <input type="radio" name="right" checked={b === v.number} onChange={() => setPair([a, v.number])} /> to
                      </label>
                    </td>
                    <td>
                      {!v.live && (
                        <Action
                          needs="operator"
                          busy={act.busy}
                          onClick={async () => {
                            if (await act.run(v.number < live ? "rollback" : "deploy", v.number)) {
                              reload();
                              list.reload();
                            }
                          }}
                        >
                          {v.number < live ? `Roll back to v${v.number}` : `Deploy v${v.number}`}
                        </Action>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <VersionDiff fn={fn.name} a={a} b={b} />
          </div>
        );
      }}
    </Loaded>
  );
}

function VersionDiff({ fn, a, b }: { fn: string; a: number; b: number }) {
  const codes = useApi(
    async (q) => {
      const [x, y] = await Promise.all([q.versions.get(fn, a), q.versions.get(fn, b)]);
      return [x.code ?? "", y.code ?? ""] as const;
    },
    [fn, a, b],
  );
  return (
    <div>
      <h2>
        Diff v{a} → v{b}
      </h2>
      <Loaded state={codes} what="the two versions">
        {([x, y]) => <DiffEditor original={x} modified={y} label={`Changes from v${a} to v${b}`} />}
      </Loaded>
    </div>
  );
}
