// Bulk actions on the selected functions (operator): enable, disable,
// delete (asked twice); the outcome names each function that failed.

import { useState } from "preact/hooks";
import { handle } from "../lib/data";
import { eachLimited } from "../lib/pool";
import { session } from "../lib/session";
import { Action } from "./ui";
import { ConfirmAction } from "./Confirm";

type Kind = "enable" | "disable" | "delete";
const DONE: Record<Kind, string> = { enable: "Enabled", disable: "Disabled", delete: "Deleted" };

export interface BulkResult {
  kind: Kind;
  ok: number;
  failed: { name: string; message: string }[];
}

export function BulkBar(props: { selected: string[]; clear: () => void; done: () => void }) {
  const [busy, setBusy] = useState<Kind>();
  const [result, setResult] = useState<BulkResult>();
  const n = props.selected.length;
  const run = async (kind: Kind) => {
    const s = session();
    if (!s || n === 0) return;
    setBusy(kind);
    setResult(undefined);
    const outcomes = await eachLimited(props.selected, 4, (name) =>
      kind === "delete" ? s.client.functions.delete(name) : s.client.functions.update(name, { enabled: kind === "enable" }),
    );
    const failed = outcomes.filter((o) => o.error).map((o) => ({ name: o.item, message: handle(o.error).message }));
    setResult({ kind, ok: outcomes.length - failed.length, failed });
    setBusy(undefined);
    props.clear();
    props.done();
  };
  const plural = (k: number) => `${k} function${k === 1 ? "" : "s"}`;
  return (
    <>
      <div class="q-bulk" role="group" aria-label="Bulk actions">
        <span class="q-small">{n === 0 ? "Select functions to enable, disable or delete several at once." : `${plural(n)} selected`}</span>
        <Action needs="operator" disabled={n === 0} busy={busy === "enable"} onClick={() => run("enable")}>
          Enable
        </Action>
        <Action needs="operator" disabled={n === 0} busy={busy === "disable"} onClick={() => run("disable")}>
          Disable
        </Action>
        <ConfirmAction
          needs="operator"
          label="Delete…"
          name="Delete selected functions"
          disabled={n === 0}
          busy={busy === "delete"}
          question={`Delete ${plural(n)} with their versions, triggers and history? This cannot be undone.`}
          confirm={`Yes, delete ${plural(n)}`}
          onConfirm={() => run("delete")}
        />
        {n > 0 && (
          <button type="button" class="q-link" onClick={props.clear}>
            Clear selection
          </button>
        )}
      </div>
      {result && (
        <div class={result.failed.length ? "q-error" : "q-ok"} role="status">
          {DONE[result.kind]} {plural(result.ok)}.
          {result.failed.length > 0 && (
            <>
              {" "}
              {result.failed.length} failed:
              <ul class="q-failures">
                {result.failed.map((f) => (
                  <li key={f.name}>
                    <strong>{f.name}</strong>: {f.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </>
  );
}
