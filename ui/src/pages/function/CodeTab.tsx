// The editor beside the run panel. Ctrl/Cmd+S saves a new version (with
// an optional message), Ctrl/Cmd+Enter runs. Unsaved code is kept as a
// draft in this tab's session storage, so navigating away loses nothing.

import { useEffect, useRef, useState } from "preact/hooks";
import { CodeSyntaxError } from "../../sdk";
import type { QFunction, Version } from "../../sdk";
import { handle, useApi } from "../../lib/data";
import { setNavigationGuard } from "../../lib/router";
import { can, session } from "../../lib/session";
import { engineCheck } from "../../lib/check";
import { CodeEditor } from "../../editor/CodeEditor";
import type { EditorApi } from "../../editor/CodeEditor";
import { RunPanel } from "../../components/RunPanel";
import type { RunPanelApi } from "../../components/RunPanel";
import { Action, ErrorBox, Loaded } from "../../components/ui";

const draftKey = (fn: string) => `quasm.draft.${fn}`;

async function latest(q: import("../../sdk").Quasm, fn: QFunction): Promise<Version | null> {
  const vs = await q.versions.list(fn.name);
  const newest = vs.reduce<Version | null>((a, v) => (!a || v.number > a.number ? v : a), null);
  return newest ? q.versions.get(fn.name, newest.number) : null;
}

export function CodeTab({ fn, reload }: { fn: QFunction; reload: () => void }) {
  const base = useApi((q) => latest(q, fn), [fn.name, fn.live_version]);
  return (
    <Loaded state={base} what="the code">
      {(v) => <Editor fn={fn} base={v} reload={() => (reload(), base.reload())} />}
    </Loaded>
  );
}

function Editor({ fn, base, reload }: { fn: QFunction; base: Version | null; reload: () => void }) {
  const baseCode = base?.code ?? "";
  const [code, setCode] = useState(() => sessionStorage.getItem(draftKey(fn.name)) ?? baseCode);
  const [restored] = useState(() => sessionStorage.getItem(draftKey(fn.name)) != null && code !== baseCode);
  const [message, setMessage] = useState("");
  /** Bumped to reload the editor with another text (draft discarded). */
  const [generation, setGeneration] = useState(0);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<Error>();
  const [saved, setSaved] = useState<string>();
  const editor = useRef<EditorApi>();
  const runner = useRef<RunPanelApi>();
  const dirty = code !== baseCode;
  const editable = can("developer");

  // Keep the draft; warn before the tab closes with unsaved changes.
  useEffect(() => {
    if (dirty) sessionStorage.setItem(draftKey(fn.name), code);
    else sessionStorage.removeItem(draftKey(fn.name));
  }, [code, dirty, fn.name]);
  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (dirty) e.preventDefault();
    };
    addEventListener("beforeunload", warn);
    setNavigationGuard(null);
    return () => removeEventListener("beforeunload", warn);
  }, [dirty]);

  // Engine syntax markers while typing (debounced).
  useEffect(() => {
    if (!editable) return;
    const t = setTimeout(async () => {
      const s = session();
      if (!s || !editor.current) return;
      try {
        const ds = await engineCheck(s, code);
        if (ds) editor.current.setEngineMarkers(ds);
      } catch {
        // A failed check is not the user's problem: markers stay as they were.
      }
    }, 500);
    return () => clearTimeout(t);
  }, [code, editable]);

  const save = async () => {
    if (!editable || saving) return;
    const s = session();
    if (!s) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const current = editor.current?.value() ?? code;
      const v = await s.client.versions.create(fn.name, {
        code: current,
        ...(message.trim() ? { message: message.trim() } : {}),
        deploy: can("operator"),
      });
      sessionStorage.removeItem(draftKey(fn.name));
      setMessage("");
      setSaved(`Saved v${v.number}${v.live ? " (live)" : " — not deployed: an operator deploys it"}`);
      editor.current?.setEngineMarkers([]);
      reload();
    } catch (e) {
      if (e instanceof CodeSyntaxError && e.line) {
        editor.current?.setEngineMarkers([{ severity: "error", message: e.message, line: e.line, column: e.column ?? 1 }]);
      }
      setSaveError(handle(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div class="code-tab">
      <div class="editor-col">
        {restored && dirty && (
          <div class="q-note" role="status">
            Unsaved draft restored from this tab.{" "}
            <button
              type="button"
              class="q-link"
              onClick={() => {
                sessionStorage.removeItem(draftKey(fn.name));
                setCode(baseCode);
                setGeneration((g) => g + 1);
              }}
            >
              Discard draft
            </button>
          </div>
        )}
        <CodeEditor
          key={generation}
          value={code}
          readOnly={!editable}
          envNames={Object.keys(fn.env)}
          label={`Code of ${fn.name}`}
          onChange={(v) => {
            setCode(v);
            setSaved(undefined);
          }}
          onSave={save}
          onRun={() => runner.current?.run()}
          onReady={(api) => {
            editor.current = api;
            // From a stack frame elsewhere (`?line=&column=`): show that line.
            const q = new URLSearchParams(location.search);
            const line = Number(q.get("line"));
            if (line > 0) api.reveal(line, Number(q.get("column")) || 1);
          }}
        />
        <div class="save-bar">
          <span class="q-muted q-small">
            {base ? `v${base.number}${base.live ? " live" : " (not live)"}` : "no version"}
            {dirty ? " · unsaved changes" : ""}
          </span>
          <span class="q-spacer" />
          {editable && (
            <input
              class="q-message"
              aria-label="Version message"
              placeholder="What changed? (optional)"
              value={message}
              onInput={(e) => setMessage((e.target as HTMLInputElement).value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") save();
              }}
            />
          )}
          <Action needs="developer" class="q-primary" onClick={save} busy={saving} disabled={!dirty} title="Save a new version (Ctrl/Cmd+S)">
            Save
          </Action>
        </div>
        {!editable && (
          <p class="q-note" role="note">
            Read-only: editing code needs the developer role.
          </p>
        )}
        {saved && (
          <p class="q-ok" role="status">
            {saved}
          </p>
        )}
        <ErrorBox error={saveError} what="Save" />
      </div>
      <RunPanel
        fn={fn.name}
        code={code}
        liveVersion={fn.live_version}
        dirty={dirty}
        onFrame={(l, c) => editor.current?.reveal(l, c)}
        bind={(api) => (runner.current = api)}
      />
    </div>
  );
}
