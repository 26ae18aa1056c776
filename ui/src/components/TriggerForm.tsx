// The trigger that comes with a kind of function: cron + time zone; method,
// path and auth; event type, payload filter and attempts; an input example.

import type { Role } from "../sdk";
import type { Kind } from "../templates";
import { can } from "../lib/session";
import { localZone } from "../lib/format";

export interface TriggerValues {
  cron: string;
  timezone: string;
  method: string;
  path: string;
  auth: "public" | "jwt" | "api_key";
  stripPrefix: boolean;
  eventType: string;
  filter: string;
  maxAttempts: string;
  input: string;
}

export function defaultTrigger(name: string, input: unknown): TriggerValues {
  return {
    cron: "0 2 * * *",
    timezone: localZone,
    method: "POST",
    path: `/${name || "hook"}`,
    auth: "public",
    stripPrefix: false,
    eventType: "order.*",
    filter: "",
    maxAttempts: "5",
    input: JSON.stringify(input ?? null, null, 2),
  };
}

/** The role its trigger needs (the function itself needs developer). */
export function triggerRole(kind: Kind): Role | null {
  return kind === "scheduled" || kind === "http" || kind === "event" ? "operator" : null;
}

let zones: string[] | undefined;
export function timeZones(): string[] {
  zones ??= (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf("timeZone");
  if (!zones.includes("UTC")) zones.unshift("UTC");
  return zones;
}

export function TimeZoneInput(props: { id: string; value: string; onChange: (v: string) => void; disabled?: boolean }) {
  return (
    <>
      <input
        id={props.id}
        list={`${props.id}-list`}
        value={props.value}
        disabled={props.disabled}
        autocomplete="off"
        onInput={(e) => props.onChange((e.target as HTMLInputElement).value)}
      />
      <datalist id={`${props.id}-list`}>
        {timeZones().map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
    </>
  );
}

export function TriggerForm(props: {
  kind: Kind;
  values: TriggerValues;
  set: (patch: Partial<TriggerValues>) => void;
  errorField?: string | undefined;
}) {
  const { kind, values: v, set } = props;
  const role = triggerRole(kind);
  const disabled = role != null && !can(role);
  const bad = (f: string) => (props.errorField === f ? "true" : undefined);
  return (
    <fieldset class="q-trigger" disabled={disabled}>
      <legend>Trigger</legend>
      {disabled && (
        <p class="q-note" role="note">
          Creating this trigger needs the {role} role: the function is created without it.
        </p>
      )}
      {kind === "scheduled" && (
        <div class="grid2">
          <label>
            Cron expression
            <input
              value={v.cron}
              aria-invalid={bad("cron")}
              onInput={(e) => set({ cron: (e.target as HTMLInputElement).value })}
              placeholder="0 2 * * *"
            />
            <span class="q-hint">minute hour day month weekday, or @daily, @hourly…</span>
          </label>
          <label>
            Time zone
            <TimeZoneInput id="new-tz" value={v.timezone} onChange={(timezone) => set({ timezone })} />
          </label>
        </div>
      )}
      {kind === "http" && (
        <div class="grid3">
          <label>
            Method
            <select value={v.method} onChange={(e) => set({ method: (e.target as HTMLSelectElement).value })}>
              {["ANY", "GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label>
            Path
            <input value={v.path} aria-invalid={bad("path")} onInput={(e) => set({ path: (e.target as HTMLInputElement).value })} />
            <span class="q-hint">/orders/:id — parameters reach ctx.params</span>
          </label>
          <label>
            Auth
            <select value={v.auth} onChange={(e) => set({ auth: (e.target as HTMLSelectElement).value as TriggerValues["auth"] })}>
              <option value="public">public</option>
              <option value="jwt">JWT</option>
              <option value="api_key">API key</option>
            </select>
          </label>
        </div>
      )}
      {kind === "http" && (
        <label class="q-small">
          <input
            type="checkbox"
            checked={v.stripPrefix}
            onChange={(e) => set({ stripPrefix: (e.target as HTMLInputElement).checked })}
          />{" "}
          Show the function request.url without /fn/{"{tenant}"}{" "}
          <span class="q-hint">(for Worker scripts that route on the URL's path; the received URL is then ctx.originalUrl)</span>
        </label>
      )}
      {kind === "event" && (
        <div class="grid3">
          <label>
            Event type
            <input
              value={v.eventType}
              aria-invalid={bad("event_type")}
              onInput={(e) => set({ eventType: (e.target as HTMLInputElement).value })}
            />
            <span class="q-hint">exact, or a glob: payment.*</span>
          </label>
          <label>
            Payload filter (JSON)
            <input
              value={v.filter}
              aria-invalid={bad("filter")}
              placeholder='{"customer.tier": "gold"}'
              onInput={(e) => set({ filter: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            Attempts
            <input
              type="number"
              min={1}
              max={100}
              value={v.maxAttempts}
              aria-invalid={bad("max_attempts")}
              onInput={(e) => set({ maxAttempts: (e.target as HTMLInputElement).value })}
            />
          </label>
        </div>
      )}
      {(kind === "job" || kind === "embedded") && (
        <label>
          Input example (JSON)
          <textarea
            rows={4}
            class="mono"
            value={v.input}
            aria-invalid={bad("input")}
            onInput={(e) => set({ input: (e.target as HTMLTextAreaElement).value })}
          />
          <span class="q-hint">Prefilled in the run panel.</span>
        </label>
      )}
    </fieldset>
  );
}
