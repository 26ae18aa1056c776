// The fields of an alert rule, for creating one and for changing one:
// which function, when to notify, where (Slack, signed webhook, email),
// how often at most. Errors appear under the field the server names.

import { useState } from "preact/hooks";
import type { AlertRule, CreateAlertRule, UpdateAlertRule } from "../sdk";
import { useApi } from "../lib/data";
import { can } from "../lib/session";
import { FieldError, FormError, fieldError } from "./ui";

type ChannelType = "slack" | "webhook" | "email";

interface Values {
  name: string;
  fn: string;
  onFailure: boolean;
  streak: boolean;
  streakCount: string;
  onRecovery: boolean;
  type: ChannelType;
  url: string;
  secret: string;
  to: string;
  interval: string;
  enabled: boolean;
}

function initial(rule?: AlertRule): Values {
  return {
    name: rule?.name ?? "",
    fn: rule?.function ?? "",
    onFailure: rule?.on_failure ?? true,
    streak: rule?.consecutive_failures != null,
    streakCount: String(rule?.consecutive_failures ?? 3),
    onRecovery: rule?.on_recovery ?? true,
    type: (rule?.channel.type as ChannelType | undefined) ?? "slack",
    url: rule?.channel.url ?? "",
    secret: "",
    to: rule?.channel.to?.join(", ") ?? "",
    interval: String(rule?.min_interval_secs ?? 300),
    enabled: rule?.enabled ?? true,
  };
}

const FIELDS = ["name", "function", "on_failure", "consecutive_failures", "min_interval_secs", "channel"];

/** Builds the request body; a string is an error naming its field. */
function body(v: Values, rule?: AlertRule): { field: string; message: string } | CreateAlertRule | UpdateAlertRule {
  if (!v.name.trim()) return { field: "name", message: "Name the rule, e.g. payments-failing." };
  const count = Number(v.streakCount);
  if (v.streak && (!Number.isInteger(count) || count < 1 || count > 10000))
    return { field: "consecutive_failures", message: "A whole number of failures from 1 to 10000." };
  if (!v.onFailure && !v.streak && !v.onRecovery)
    return { field: "on_failure", message: "Choose at least one thing to notify: failures, a streak or recovery." };
  const interval = Number(v.interval);
  if (!Number.isInteger(interval) || interval < 0 || interval > 604800)
    return { field: "min_interval_secs", message: "Seconds from 0 to 604800 (a week)." };
  const channel: CreateAlertRule["channel"] = { type: v.type };
  if (v.type === "email") {
    const to = v.to.split(/[\s,;]+/).filter(Boolean);
    if (to.length === 0) return { field: "channel.to", message: "Give 1 to 10 email addresses." };
    channel.to = to;
  } else {
    if (!/^https?:\/\/\S+$/.test(v.url.trim())) return { field: "channel.url", message: "An http:// or https:// URL." };
    channel.url = v.url.trim();
    if (v.type === "webhook" && v.secret) channel.secret = v.secret;
  }
  const common = {
    name: v.name.trim(),
    on_failure: v.onFailure,
    on_recovery: v.onRecovery,
    min_interval_secs: interval,
    enabled: v.enabled,
  };
  if (!rule) {
    return {
      ...common,
      ...(v.fn ? { function: v.fn } : {}),
      ...(v.streak ? { consecutive_failures: count } : {}),
      channel,
    };
  }
  // A changed channel only: sending it again would replace a webhook's secret.
  const was = initial(rule);
  const channelChanged = v.type !== was.type || v.url.trim() !== was.url || v.to !== was.to || !!v.secret;
  return {
    ...common,
    consecutive_failures: v.streak ? count : null,
    ...(channelChanged ? { channel } : {}),
  };
}

export function AlertForm(props: {
  rule?: AlertRule;
  busy: boolean;
  error: Error | undefined;
  submit: string;
  onSubmit: (b: CreateAlertRule | UpdateAlertRule) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const [v, setV] = useState(() => initial(props.rule));
  const [local, setLocal] = useState<{ field: string; message: string }>();
  const fns = useApi((q) => q.functions.list(), []);
  const set = <K extends keyof Values>(k: K, val: Values[K]) => {
    setV((p) => ({ ...p, [k]: val }));
    setLocal(undefined);
  };
  const err = (f: string) => (local && (local.field === f || local.field.startsWith(`${f}.`)) ? local.message : fieldError(props.error, f));
  const editable = can("operator");
  const input = (k: "name" | "url" | "secret" | "to" | "interval" | "streakCount") => (e: Event) =>
    set(k, (e.target as HTMLInputElement).value);
  return (
    <form
      noValidate
      class="q-card q-form"
      aria-label={props.rule ? `Edit alert rule ${props.rule.name}` : "New alert rule"}
      onSubmit={async (e) => {
        e.preventDefault();
        const b = body(v, props.rule);
        if ("field" in b && "message" in b) return setLocal(b as { field: string; message: string });
        setLocal(undefined);
        await props.onSubmit(b);
      }}
    >
      <fieldset disabled={!editable} class="q-plain">
        <div class="grid2">
          <label>
            Name
            <input value={v.name} placeholder="payments-failing" aria-invalid={err("name") ? "true" : undefined} aria-describedby="alert-name-error" onInput={input("name")} />
            <FieldError id="alert-name-error" message={err("name")} />
          </label>
          <label>
            Function
            <select
              value={v.fn}
              disabled={!!props.rule}
              title={props.rule ? "A rule's function cannot change: create another rule" : undefined}
              onChange={(e) => set("fn", (e.target as HTMLSelectElement).value)}
            >
              <option value="">All functions of the tenant</option>
              {v.fn && !fns.data?.some((f) => f.name === v.fn) && <option value={v.fn}>{v.fn}</option>}
              {fns.data?.map((f) => (
                <option key={f.name} value={f.name}>
                  {f.name}
                </option>
              ))}
            </select>
            <FieldError id="alert-fn-error" message={err("function")} />
          </label>
        </div>
        <fieldset aria-describedby="alert-when-error">
          <legend>Notify</legend>
          <label class="q-small">
            <input type="checkbox" checked={v.onFailure} onChange={(e) => set("onFailure", (e.target as HTMLInputElement).checked)} />
            on every failure (error, timeout, out of memory)
          </label>
          <div class="q-row">
            <label class="q-small">
              <input type="checkbox" checked={v.streak} onChange={(e) => set("streak", (e.target as HTMLInputElement).checked)} />
              once a failing streak reaches
            </label>
            <input
              type="number"
              class="q-num-input"
              min={1}
              max={10000}
              aria-label="Consecutive failures"
              disabled={!v.streak}
              value={v.streakCount}
              aria-invalid={err("consecutive_failures") ? "true" : undefined}
              onInput={input("streakCount")}
            />
            <span class="q-small">failures in a row</span>
          </div>
          <label class="q-small">
            <input type="checkbox" checked={v.onRecovery} onChange={(e) => set("onRecovery", (e.target as HTMLInputElement).checked)} />
            on recovery (the first success after a notified failure)
          </label>
          <FieldError id="alert-when-error" message={err("on_failure") ?? err("consecutive_failures")} />
        </fieldset>
        <div class="grid2">
          <label>
            Channel
            <select value={v.type} onChange={(e) => set("type", (e.target as HTMLSelectElement).value as ChannelType)}>
              <option value="slack">Slack (incoming webhook)</option>
              <option value="webhook">Webhook (signed JSON POST)</option>
              <option value="email">Email</option>
            </select>
            <FieldError id="alert-type-error" message={err("channel.type")} />
          </label>
          {v.type === "email" ? (
            <label>
              Email addresses
              <input value={v.to} placeholder="ops@example.com, oncall@example.com" aria-invalid={err("channel.to") ? "true" : undefined} aria-describedby="alert-to-error" onInput={input("to")} />
              <FieldError id="alert-to-error" message={err("channel.to")} />
            </label>
          ) : (
            <label>
              {v.type === "slack" ? "Slack webhook URL" : "Webhook URL"}
              <input
                value={v.url}
                placeholder={v.type === "slack" ? "https://hooks.slack.com/services/…" : "https://example.com/quasm-alerts"}
                aria-invalid={err("channel.url") ? "true" : undefined}
                aria-describedby="alert-url-error"
                onInput={input("url")}
              />
              <FieldError id="alert-url-error" message={err("channel.url")} />
            </label>
          )}
        </div>
        {v.type === "webhook" && (
          <label>
            Signing secret (optional, 16–256 characters{props.rule ? "; leave empty to keep the current one unless the URL changes" : "; empty: one is generated and shown once"})
            <input type="password" autocomplete="off" value={v.secret} aria-invalid={err("channel.secret") ? "true" : undefined} aria-describedby="alert-secret-error" onInput={input("secret")} />
            <FieldError id="alert-secret-error" message={err("channel.secret")} />
          </label>
        )}
        <div class="grid2">
          <label>
            At most one failure notice every (seconds)
            <input type="number" min={0} max={604800} value={v.interval} aria-invalid={err("min_interval_secs") ? "true" : undefined} aria-describedby="alert-interval-error" onInput={input("interval")} />
            <FieldError id="alert-interval-error" message={err("min_interval_secs")} />
          </label>
          <label class="q-small q-self-end">
            <input type="checkbox" checked={v.enabled} onChange={(e) => set("enabled", (e.target as HTMLInputElement).checked)} />
            Rule enabled
          </label>
        </div>
      </fieldset>
      <FormError error={props.error} fields={FIELDS} what={props.submit} />
      <div class="q-actions">
        <button type="submit" class="q-primary" disabled={!editable || props.busy} title={editable ? undefined : "Needs the operator role"}>
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
