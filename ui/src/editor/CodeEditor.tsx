// One Monaco editor (or a diff of two texts). Monaco is imported when the
// first editor mounts; until then the page shows the code as plain text.

import { useEffect, useRef, useState } from "preact/hooks";
import type * as M from "monaco-editor/editor/editor.api";
import type { Diagnostic } from "../sdk";
import { session } from "../lib/session";

type Mod = typeof import("./monaco");
let loading: Promise<Mod> | undefined;
export function loadMonaco(): Promise<Mod> {
  loading ??= import("./monaco");
  return loading;
}

export interface EditorApi {
  reveal(line: number, column?: number): void;
  setEngineMarkers(d: Diagnostic[]): void;
  value(): string;
}

/**
 * `value` is the initial text only: the editor owns the text afterwards
 * (syncing it back from props races the user's typing). Give the
 * component a new `key` to load another text.
 */
export function CodeEditor(props: {
  value: string;
  readOnly?: boolean;
  envNames?: string[];
  onChange?: (v: string) => void;
  onSave?: () => void;
  onRun?: () => void;
  onReady?: (api: EditorApi) => void;
  label: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const ed = useRef<M.editor.IStandaloneCodeEditor>();
  const cbs = useRef(props);
  cbs.current = props;
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let disposed = false;
    let model: M.editor.ITextModel | undefined;
    loadMonaco().then(({ monaco, theme, setEnvNames, loadServerTypes }) => {
      if (disposed || !host.current) return;
      setEnvNames(props.envNames ?? []);
      const client = session()?.client;
      if (client) void loadServerTypes(() => client.types());
      model = monaco.editor.createModel(props.value, "javascript", monaco.Uri.parse(`file:///function-${Date.now()}.js`));
      const e = monaco.editor.create(host.current, {
        model,
        theme: theme(),
        readOnly: !!props.readOnly,
        automaticLayout: true,
        minimap: { enabled: false },
        fontSize: 13,
        scrollBeyondLastLine: false,
        fixedOverflowWidgets: true,
        ariaLabel: props.label,
        tabSize: 2,
      });
      ed.current = e;
      e.onDidChangeModelContent(() => cbs.current.onChange?.(e.getValue()));
      e.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => cbs.current.onSave?.());
      e.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => cbs.current.onRun?.());
      setReady(true);
      cbs.current.onReady?.({
        reveal(line, column = 1) {
          e.revealLineInCenter(line);
          e.setPosition({ lineNumber: line, column });
          e.focus();
        },
        setEngineMarkers(ds) {
          monaco.editor.setModelMarkers(
            model!,
            "quickjs",
            ds.map((d) => ({
              severity: d.severity === "error" ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
              message: d.message,
              source: "Quasm engine",
              startLineNumber: d.line,
              startColumn: d.column,
              endLineNumber: d.line,
              endColumn: model!.getLineMaxColumn(Math.min(Math.max(d.line, 1), model!.getLineCount())),
            })),
          );
        },
        value: () => e.getValue(),
      });
    });
    return () => {
      disposed = true;
      ed.current?.dispose();
      model?.dispose();
      ed.current = undefined;
    };
    // The editor is created once; later `value` changes come from the user.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <div class="editor-wrap">
      {!ready && <pre class="q-code editor-placeholder">{props.value}</pre>}
      <div ref={host} class="q-editor" data-ready={ready ? "true" : undefined} style={ready ? undefined : { display: "none" }} />
    </div>
  );
}

export function DiffEditor(props: { original: string; modified: string; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let disposed = false;
    let cleanup = () => {};
    loadMonaco().then(({ monaco, theme }) => {
      if (disposed || !host.current) return;
      const original = monaco.editor.createModel(props.original, "javascript");
      const modified = monaco.editor.createModel(props.modified, "javascript");
      const d = monaco.editor.createDiffEditor(host.current, {
        theme: theme(),
        readOnly: true,
        originalEditable: false,
        automaticLayout: true,
        renderSideBySide: true,
        // Show the changes, not the whole file around them.
        hideUnchangedRegions: { enabled: true, contextLineCount: 3, minimumLineCount: 3 },
        minimap: { enabled: false },
        ariaLabel: props.label,
        scrollBeyondLastLine: false,
      });
      d.setModel({ original, modified });
      setReady(true);
      cleanup = () => {
        d.dispose();
        original.dispose();
        modified.dispose();
      };
    });
    return () => {
      disposed = true;
      cleanup();
    };
  }, [props.original, props.modified]);
  return (
    <div class="editor-wrap q-diff" aria-label={props.label}>
      {!ready && <p class="q-muted">Loading the diff…</p>}
      <div ref={host} class="q-editor" data-ready={ready ? "true" : undefined} />
    </div>
  );
}
