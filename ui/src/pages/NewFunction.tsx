// "New function": pick a kind, get working starter code and the trigger
// form for it, create both in one step (the function is removed again if
// its trigger is refused, so nothing half-made is left behind).

import { useState } from "preact/hooks";
import { QuasmError, ValidationError } from "../sdk";
import type { CreateFunction, CreateSchedule, Quasm } from "../sdk";
import { TEMPLATES, saveInput, template } from "../templates";
import type { Kind } from "../templates";
import { handle } from "../lib/data";
import { navigate, setQuery, useLocation } from "../lib/router";
import { can, session } from "../lib/session";
import { ErrorBox, ReadOnlyNote } from "../components/ui";
import { TriggerForm, defaultTrigger, triggerRole } from "../components/TriggerForm";
import type { TriggerValues } from "../components/TriggerForm";

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A field refused before anything is sent, shown like the server's refusals. */
class FieldError extends ValidationError {
  constructor(field: string, message: string) {
    super({ status: 400, code: "invalid_request", message, details: { field } });
  }
}

function parseJson(field: string, text: string, fallback: unknown): unknown {
  if (!text.trim()) return fallback;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FieldError(field, `${field}: not valid JSON (${(e as Error).message})`);
  }
}

async function createTrigger(q: Quasm, kind: Kind, name: string, t: TriggerValues): Promise<void> {
  if (kind === "scheduled") await q.schedules.create(name, { cron: t.cron.trim(), timezone: t.timezone.trim() || "UTC" } as CreateSchedule);
  if (kind === "http")
    await q.routes.create({
      function: name,
      path: t.path.trim(),
      auth: t.auth,
      strip_prefix: t.stripPrefix,
      ...(t.method !== "ANY" ? { method: t.method } : {}),
    });
  if (kind === "event") {
    const filter = parseJson("filter", t.filter, {}) as Record<string, unknown>;
    await q.subscriptions.create({
      function: name,
      event_type: t.eventType.trim(),
      filter,
      max_attempts: Number(t.maxAttempts) || 5,
    });
  }
}

export function NewFunction() {
  const { query } = useLocation();
  const kind = template(query.get("type")).kind;
  const tpl = template(kind);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [trigger, setTrigger] = useState<TriggerValues>(() => defaultTrigger("", tpl.input));
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  const pick = (k: Kind) => {
    setQuery({ type: k });
    setTrigger(defaultTrigger(name, template(k).input));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const s = session();
    if (!s) return;
    setError(undefined);
    try {
      if (!NAME.test(name)) throw new FieldError("name", "name: 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit");
      const input = kind === "job" || kind === "embedded" ? parseJson("input", trigger.input, null) : tpl.input;
      if (kind === "event") parseJson("filter", trigger.filter, {});
      setBusy(true);
      // The generated request types mark every defaulted field as required;
      // the server fills them in (reported to the SDK).
      await s.client.functions.create({ name, code: tpl.code, description } as CreateFunction);
      const role = triggerRole(kind);
      if (!role || can(role)) {
        try {
          await createTrigger(s.client, kind, name, trigger);
        } catch (err) {
          // Created together or not at all.
          await s.client.functions.delete(name).catch(() => {});
          throw err;
        }
      }
      saveInput(name, JSON.stringify(input ?? null, null, 2));
      navigate(`/functions/${encodeURIComponent(name)}`);
    } catch (err) {
      setError(err instanceof QuasmError ? handle(err) : (err as Error));
    } finally {
      setBusy(false);
    }
  };

  const field = error instanceof ValidationError ? error.field : undefined;
  return (
    <section>
      <h1>New function</h1>
      <ReadOnlyNote role="developer" doing="creating a function" />
      <form onSubmit={submit} class="new-fn">
        <fieldset class="kinds">
          <legend>What kind of function?</legend>
          <div class="kind-grid" role="radiogroup" aria-label="Function type">
            {TEMPLATES.map((t) => (
              <label key={t.kind} class={`q-kind ${t.kind === kind ? "q-selected" : ""}`}>
                <input type="radio" name="kind" value={t.kind} checked={t.kind === kind} onChange={() => pick(t.kind)} />
                <strong>{t.label}</strong>
                <span class="q-muted q-small">{t.blurb}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <div class="grid2">
          <label>
            Name
            <input
              value={name}
              required
              aria-invalid={field === "name" ? "true" : undefined}
              placeholder="nightly-export"
              onInput={(e) => {
                const v = (e.target as HTMLInputElement).value;
                setName(v);
                if (kind === "http" && (trigger.path === `/${name}` || trigger.path === "/hook"))
                  setTrigger({ ...trigger, path: `/${v}` });
              }}
            />
            <span class="q-hint">lower-case letters, digits, - and _</span>
          </label>
          <label>
            Description
            <input value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
          </label>
        </div>
        <TriggerForm kind={kind} values={trigger} set={(p) => setTrigger({ ...trigger, ...p })} errorField={field} />
        <details class="q-starter">
          <summary>Starter code ({tpl.label})</summary>
          <pre class="q-code">{tpl.code}</pre>
        </details>
        <ErrorBox error={error} />
        <div class="q-actions">
          <button type="submit" class="q-primary" disabled={busy || !can("developer")}>
            {busy ? "Creating…" : "Create function"}
          </button>
          <button type="button" onClick={() => navigate("/functions")}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
