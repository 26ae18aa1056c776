// The tenant's settings (admin changes them; everyone reads them):
// how long execution history is kept.

import { useState } from "preact/hooks";
import type { Tenant } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { can } from "../lib/session";
import { FieldError, FormError, Loaded, ReadOnlyNote, fieldError } from "../components/ui";

export function TenantSettings() {
  const tenant = useApi((q) => q.tenant.get(), []);
  const [saved, setSaved] = useState<string>();
  return (
    <section class="q-settings">
      <h1>Tenant settings</h1>
      <ReadOnlyNote role="admin" doing="changing tenant settings" />
      <Loaded state={tenant} what="the tenant's settings">
        {(t) => <Form key={JSON.stringify(t)} tenant={t} reload={tenant.reload} saved={saved} setSaved={setSaved} />}
      </Loaded>
    </section>
  );
}

function Form(props: { tenant: Tenant; reload: () => void; saved: string | undefined; setSaved: (s: string | undefined) => void }) {
  const { tenant, reload, saved, setSaved } = props;
  const own = tenant.settings.retention_days;
  const [custom, setCustom] = useState(own != null);
  const [days, setDays] = useState(String(own ?? tenant.effective_retention_days));
  const [local, setLocal] = useState<string>();
  const save = useAction(async (q, retention_days: number | null) => {
    const t = await q.tenant.update({ retention_days });
    setSaved(`Saved: executions are kept ${t.effective_retention_days} days.`);
    reload();
  });
  const err = local ?? fieldError(save.error, "retention_days");
  return (
    <form
      noValidate
      class="q-card q-form"
      aria-label="Tenant settings"
      onSubmit={async (e) => {
        e.preventDefault();
        setSaved(undefined);
        let value: number | null = null;
        if (custom) {
          const n = Number(days);
          if (!Number.isInteger(n) || n < 1 || n > 3650) return setLocal("Retention: a whole number of days from 1 to 3650.");
          value = n;
        }
        setLocal(undefined);
        await save.run(value);
      }}
    >
      <dl class="q-facts">
        <dt>Tenant</dt>
        <dd>
          <code>{tenant.id}</code>
        </dd>
        <dt>Retention now</dt>
        <dd>
          {tenant.effective_retention_days} days {own == null ? "(the installation's default)" : "(this tenant's setting)"}
        </dd>
      </dl>
      <fieldset disabled={!can("admin")} class="q-plain">
        <legend>Execution history</legend>
        <label class="q-small">
          <input type="radio" name="retention" checked={!custom} onChange={() => setCustom(false)} />
          Keep executions as long as the installation's default
        </label>
        <div class="q-row">
          <label class="q-small">
            <input type="radio" name="retention" checked={custom} onChange={() => setCustom(true)} />
            Keep executions for
          </label>
          <input
            type="number"
            class="q-num-input"
            min={1}
            max={3650}
            aria-label="Retention (days)"
            disabled={!custom}
            value={days}
            aria-invalid={err ? "true" : undefined}
            aria-describedby="retention-error"
            onInput={(e) => setDays((e.target as HTMLInputElement).value)}
          />
          <span class="q-small">days (1–3650)</span>
        </div>
        <FieldError id="retention-error" message={err} />
        <p class="q-muted q-small">Older executions, with their logs, input and output, are deleted by the periodic retention purge.</p>
      </fieldset>
      <FormError error={save.error} fields={["retention_days"]} what="Save settings" />
      {saved && (
        <p class="q-ok" role="status">
          {saved}
        </p>
      )}
      <div class="q-actions">
        <button type="submit" class="q-primary" disabled={!can("admin") || save.busy} title={can("admin") ? undefined : "Needs the admin role"}>
          Save settings
        </button>
      </div>
    </form>
  );
}
