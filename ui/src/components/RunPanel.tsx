// Run the function with a JSON input (checked before sending) and watch it:
// live log lines and a progress bar from the execution's event stream,
// then output, error with stack (frames jump to the editor line),
// duration, CPU and memory; cancel while it runs. The handler is chosen
// among those the code exports: `run` starts a manual run, `scheduled` and
// `event` an asynchronous invocation with that handler (trigger `invoke`),
// `fetch` sends an HTTP request through one of the function's routes.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Execution, LogEntry, Run } from "../sdk";
import { handle, useApi } from "../lib/data";
import { session, can } from "../lib/session";
import { bytes, duration } from "../lib/format";
import { HANDLERS, exportedHandlers, sampleInput } from "../lib/handlers";
import type { HandlerName } from "../lib/handlers";
import { savedInput, saveInput } from "../templates";
import { Link } from "../lib/router";
import { Action, ErrorBox, Status } from "./ui";
import { FetchAnswer, FetchRun } from "./FetchRun";
import type { Answer } from "./FetchRun";

export interface RunPanelApi {
  run(): void;
}

const inputKey = (fn: string, h: HandlerName) => (h === "run" ? fn : `${fn}#${h}`);
const initialInput = (fn: string, h: HandlerName) => savedInput(inputKey(fn, h)) ?? JSON.stringify(sampleInput(h), null, 2);

export function RunPanel(props: {
  fn: string;
  /** The code in the editor: which handlers it exports. */
  code: string;
  liveVersion: number | null;
  dirty: boolean;
  onFrame?: (line: number, column: number) => void;
  bind?: (api: RunPanelApi) => void;
}) {
  const exported = useMemo(() => exportedHandlers(props.code), [props.code]);
  const offered = exported.length ? exported : HANDLERS;
  const [chosen, setChosen] = useState<HandlerName>(() => (exported.includes("run") || !exported.length ? "run" : exported[0]!));
  const handler: HandlerName = offered.includes(chosen) ? chosen : offered[0]!;
  const routes = useApi(async (q) => (offered.includes("fetch") ? (await q.routes.list()).filter((r) => r.function === props.fn) : []), [
    props.fn,
    offered.includes("fetch"),
  ]);
  const [input, setInput] = useState(() => initialInput(props.fn, handler));
  const [inputError, setInputError] = useState<string>();
  const [run, setRun] = useState<Run>();
  const [status, setStatus] = useState<string>();
  const [logs, setLogs] = useState<LogEntry[]>([]);
  const [progress, setProgress] = useState<{ percent: number; message?: string | null }>();
  const [result, setResult] = useState<Execution>();
  const [error, setError] = useState<Error>();
  const running = useRef(false);
  const logBox = useRef<HTMLOListElement>(null);

  const start = async () => {
    if (running.current || !can("developer")) return;
    let value: unknown;
    try {
      value = input.trim() ? JSON.parse(input) : null;
      setInputError(undefined);
    } catch (e) {
      setInputError(`Input is not valid JSON: ${(e as Error).message}`);
      return;
    }
    const s = session();
    if (!s) return;
    if (handler === "fetch") {
      saveInput(inputKey(props.fn, handler), input);
      return fetchRunner.current?.send(value);
    }
    saveInput(inputKey(props.fn, handler), input);
    running.current = true;
    setLogs([]);
    setProgress(undefined);
    setResult(undefined);
    setError(undefined);
    setStatus("queued");
    try {
      const r =
        handler === "run"
          ? await s.client.runs.start(props.fn, value)
          : s.client.runs.get((await s.client.invokeAsync(props.fn, value, { handler })).execution_id);
      setRun(r);
      for await (const ev of r.events()) {
        if (ev.type === "status") setStatus(ev.data.status);
        // The stream says `status` once, when it opens: lines and progress mean it runs now.
        else if (ev.type === "log") {
          setLogs((l) => [...l, ev.data]);
          setStatus((st) => (st === "queued" ? "running" : st));
        } else if (ev.type === "progress") {
          setProgress(ev.data);
          setStatus((st) => (st === "queued" ? "running" : st));
        }
        else if (ev.type === "end") {
          setStatus(ev.data.status);
          setResult(await r.result());
        }
      }
    } catch (e) {
      setError(handle(e));
      setStatus(undefined);
    } finally {
      running.current = false;
      setRun(undefined);
    }
  };
  props.bind?.({ run: start });
  const fetchRunner = useRef<{ send: (body: unknown) => void }>();
  const [fetched, setFetched] = useState<{ busy: boolean; answer?: Answer; error?: Error }>();

  useEffect(() => {
    logBox.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [logs]);

  const cancel = async () => {
    try {
      await run?.cancel();
    } catch (e) {
      setError(handle(e));
    }
  };

  const isRunning = !!run;
  return (
    <aside class="run-panel" aria-label="Run">
      <h2>Run</h2>
      <label>
        Handler
        <select
          value={handler}
          disabled={!!run}
          onChange={(e) => {
            const h = (e.target as HTMLSelectElement).value as HandlerName;
            setChosen(h);
            setInput(initialInput(props.fn, h));
            setInputError(undefined);
          }}
        >
          {offered.map((h) => (
            <option key={h} value={h}>
              {h}
            </option>
          ))}
        </select>
      </label>
      <span class="q-muted q-small">
        {exported.length
          ? `the handlers the code defines: ${exported.join(", ")}`
          : "no handler recognised in the code: every kind is offered"}
      </span>
      {handler === "fetch" && (
        <FetchRun fn={props.fn} routes={routes} bind={(api) => (fetchRunner.current = api)} onResult={setFetched} />
      )}
      <label for="run-input">{handler === "fetch" ? "Request body (JSON)" : handler === "run" ? "Input (JSON)" : `${handler === "event" ? "Event" : "Schedule slot"} (JSON)`}</label>
      <textarea
        id="run-input"
        class="mono"
        rows={5}
        spellcheck={false}
        value={input}
        aria-invalid={inputError ? "true" : undefined}
        onInput={(e) => setInput((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            start();
          }
        }}
      />
      {inputError && (
        <div class="q-error" role="alert">
          {inputError}
        </div>
      )}
      <div class="q-actions">
        <Action needs="developer" class="q-primary" onClick={start} busy={isRunning} title="Run (Ctrl/Cmd+Enter)">
          Run
        </Action>
        {isRunning && handler !== "fetch" && (
          <button type="button" onClick={cancel}>
            Cancel run
          </button>
        )}
        <span class="q-muted q-small">
          {handler === "run" ? "" : handler === "fetch" ? "fetch handler · " : `${handler} handler, recorded with trigger invoke · `}
          {props.liveVersion != null ? `runs v${props.liveVersion} (live)` : "no live version"}
          {props.dirty ? " — unsaved changes are not included" : ""}
        </span>
      </div>
      {handler === "fetch" && fetched && <FetchAnswer {...fetched} />}
      <ErrorBox error={error} what="Run" />
      {status && (
        <div class="run-status">
          <Status status={status} />
          {result && (
            <span class="q-muted q-small">
              {" "}
              {duration(result.duration_ms)} · CPU {duration(result.cpu_time_ms)} · memory {bytes(result.peak_memory_bytes)} ·{" "}
              <Link href={`/executions/${result.id}`}>execution details</Link>
            </span>
          )}
        </div>
      )}
      {(progress || (isRunning && status === "running")) && (
        <div class="progress-row">
          <div
            class="q-progress"
            role="progressbar"
            aria-label="Run progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={progress?.percent ?? 0}
          >
            <div class="q-bar" style={{ width: `${progress?.percent ?? 0}%` }} />
          </div>
          <span class="q-small">
            {progress?.percent ?? 0}% {progress?.message ?? ""}
          </span>
        </div>
      )}
      {(logs.length > 0 || status) && (
        <>
          <h3>Logs</h3>
          <ol class="logs" ref={logBox} aria-label="Log lines" aria-live="polite">
            {logs.length === 0 && <li class="q-muted">No log lines yet.</li>}
            {logs.map((l, i) => (
              <li key={i} class={`q-log log-${l.level}`}>
                <span class="q-lvl">{l.level}</span> {l.message}
              </li>
            ))}
          </ol>
        </>
      )}
      {result?.error && <ErrorView error={result.error} onFrame={props.onFrame} />}
      {result && result.output !== undefined && (
        <>
          <h3>Output</h3>
          <pre class="q-code" aria-label="Output">
            {JSON.stringify(result.output, null, 2)}
          </pre>
        </>
      )}
    </aside>
  );
}

const FRAME = /([\w.-]+\.js):(\d+)(?::(\d+))?/;

export function ErrorView(props: {
  error: { name: string; message: string; stack: string };
  onFrame?: ((line: number, column: number) => void) | undefined;
  /** Frames as links instead (to the function's editor at that line). */
  frameHref?: ((line: number, column: number) => string) | undefined;
}) {
  const { error } = props;
  return (
    <div class="error-view">
      <h3>Error</h3>
      <p class="q-error">
        <strong>{error.name}</strong>: {error.message}
      </p>
      {error.stack && (
        <pre class="q-code q-stack">
          {error.stack.split("\n").map((line, i) => {
            const m = FRAME.exec(line);
            if (!m || !(props.onFrame || props.frameHref)) return <div key={i}>{line}</div>;
            const ln = Number(m[2]);
            const col = Number(m[3] ?? 1);
            if (props.frameHref)
              return (
                <div key={i}>
                  {line.slice(0, m.index)}
                  <Link href={props.frameHref(ln, col)} aria-label={`Open the editor at line ${ln}`}>
                    {m[0]}
                  </Link>
                  {line.slice(m.index + m[0].length)}
                </div>
              );
            return (
              <div key={i}>
                {line.slice(0, m.index)}
                <button type="button" class="q-link" onClick={() => props.onFrame!(ln, col)} aria-label={`Go to line ${ln}`}>
                  {m[0]}
                </button>
                {line.slice(m.index + m[0].length)}
              </div>
            );
          })}
        </pre>
      )}
    </div>
  );
}
