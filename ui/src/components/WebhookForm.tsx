// A webhook's settings: where to send, which event types (Quasm's own
// lifecycle events as checkboxes, anything else as types or globs), a
// description. Used to create one and to change one.

import { useState } from "preact/hooks";
import type { CreateWebhook, Webhook } from "../sdk";
import { FieldError, FormError, fieldError } from "./ui";

/** The events Quasm publishes about the tenant's own resources. */
export const LIFECYCLE: [string, string][] = [
  ["quasm.function.created", "a function is created"],
  ["quasm.function.updated", "a function's settings change"],
  ["quasm.function.deleted", "a function is deleted"],
  ["quasm.version.created", "a version is saved"],
  ["quasm.version.deployed", "a version goes live (deploy or rollback)"],
  ["quasm.execution.failed", "an execution fails or times out"],
  ["quasm.dead_letter.created", "an event delivery ends as a dead letter"],
];

const KNOWN = new Set(LIFECYCLE.map(([t]) => t));

function splitTypes(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter(Boolean);
}

export function WebhookForm(props: {
  webhook?: Webhook;
  busy: boolean;
  error: Error | undefined;
  submit: string;
  onSubmit: (body: CreateWebhook) => void;
  onCancel?: () => void;
}) {
  const w = props.webhook;
  const [url, setUrl] = useState(w?.url ?? "");
  const [chosen, setChosen] = useState<Set<string>>(new Set(w ? w.event_types.filter((t) => KNOWN.has(t)) : ["quasm.execution.failed"]));
  const [others, setOthers] = useState((w?.event_types ?? []).filter((t) => !KNOWN.has(t)).join(", "));
  const [description, setDescription] = useState(w?.description ?? "");
  const [enabled, setEnabled] = useState(w?.enabled ?? true);
  const [local, setLocal] = useState<{ field: string; message: string }>();
  const err = (field: string) => (local?.field === field ? local.message : fieldError(props.error, field));
  return (
    <form
      noValidate
      class="q-card q-form"
      aria-label={props.submit}
      onSubmit={(e) => {
        e.preventDefault();
        const event_types = [...chosen, ...splitTypes(others)];
        if (!/^https?:\/\/\S+$/.test(url.trim()))
          return setLocal({ field: "url", message: "Give an http:// or https:// URL, e.g. https://crm.example.com/hooks/quasm." });
        if (event_types.length === 0) return setLocal({ field: "event_types", message: "Choose at least one event type." });
        setLocal(undefined);
        props.onSubmit({ url: url.trim(), event_types, description, enabled });
      }}
    >
      <label>
        Endpoint URL
        <input
          value={url}
          placeholder="https://crm.example.com/hooks/quasm"
          aria-invalid={err("url") ? "true" : undefined}
          aria-describedby="webhook-url-error"
          onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
        />
        <FieldError id="webhook-url-error" message={err("url")} />
      </label>
      <fieldset class="q-roles" aria-describedby="webhook-types-error">
        <legend>Quasm events</legend>
        {LIFECYCLE.map(([t, what]) => (
          <label key={t} class="q-small">
            <input
              type="checkbox"
              checked={chosen.has(t)}
              onChange={(e) => {
                const s = new Set(chosen);
                if ((e.target as HTMLInputElement).checked) s.add(t);
                else s.delete(t);
                setChosen(s);
              }}
            />
            <code>{t}</code> <span class="q-muted">— {what}</span>
          </label>
        ))}
      </fieldset>
      <label>
        <span>
          Your own event types (optional: comma separated; <code>*</code> matches anything, e.g. <code>order.*</code>)
        </span>
        <input
          value={others}
          placeholder="order.*, invoice.paid"
          aria-invalid={err("event_types") ? "true" : undefined}
          aria-describedby="webhook-types-error"
          onInput={(e) => setOthers((e.target as HTMLInputElement).value)}
        />
        <FieldError id="webhook-types-error" message={err("event_types")} />
      </label>
      <label>
        Description (optional)
        <input
          value={description}
          maxLength={500}
          placeholder="Audit trail in the CRM"
          aria-invalid={err("description") ? "true" : undefined}
          aria-describedby="webhook-description-error"
          onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
        />
        <FieldError id="webhook-description-error" message={err("description")} />
      </label>
      <label class="q-switch">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)} /> Enabled
        <span class="q-muted q-small">(a disabled webhook is sent nothing)</span>
      </label>
      <FormError error={props.error} fields={["url", "event_types", "description"]} what={props.submit} />
      <div class="q-actions">
        <button type="submit" class="q-primary" disabled={props.busy}>
          {props.submit}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
