// Alert rules: who is told, where, when functions fail or recover. The
// list, and a new rule at /alerts/new (operator).

import type { AlertRule, CreateAlertRule } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { Link, navigate } from "../lib/router";
import { can } from "../lib/session";
import { AlertForm } from "../components/AlertForm";
import { Action, Empty, Loaded, ReadOnlyNote, Time } from "../components/ui";

export function when(r: AlertRule): string {
  const parts: string[] = [];
  if (r.on_failure) parts.push("every failure");
  if (r.consecutive_failures != null) parts.push(`${r.consecutive_failures} failures in a row`);
  if (r.on_recovery) parts.push("recovery");
  return parts.join(", ");
}

export function where(r: AlertRule): string {
  const c = r.channel;
  if (c.type === "email") return `email to ${(c.to ?? []).join(", ")}`;
  return `${c.type} ${c.url ?? ""}`;
}

export function Alerts() {
  const rules = useApi((q) => q.alerts.list(), []);
  return (
    <section>
      <div class="page-head">
        <h1>Alerts</h1>
        <span class="q-spacer" />
        {can("operator") ? (
          <button type="button" class="q-primary" onClick={() => navigate("/alerts/new")}>
            New alert rule
          </button>
        ) : (
          <Action needs="operator">New alert rule</Action>
        )}
      </div>
      <ReadOnlyNote role="operator" doing="creating, changing or testing alert rules" />
      <Loaded state={rules} what="alert rules">
        {(list) =>
          list.length === 0 ? (
            <Empty>
              No alert rules: nobody is told when a function fails.{" "}
              {can("operator") ? <Link href="/alerts/new">Create a rule</Link> : "An operator can create one."} to notify Slack,
              a webhook or email.
            </Empty>
          ) : (
            <table aria-label="Alert rules">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Function</th>
                  <th>Notifies on</th>
                  <th>Channel</th>
                  <th>At most every</th>
                  <th>State</th>
                  <th>Changed</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link href={`/alerts/${r.id}`}>{r.name}</Link>
                    </td>
                    <td>{r.function ? <Link href={`/functions/${encodeURIComponent(r.function)}`}>{r.function}</Link> : <span class="q-muted">all functions</span>}</td>
                    <td>{when(r)}</td>
                    <td class="q-clip" title={where(r)}>
                      {where(r)}
                    </td>
                    <td>{r.min_interval_secs} s</td>
                    <td>{r.enabled ? "enabled" : <span class="q-muted">disabled</span>}</td>
                    <td>
                      <Time iso={r.updated_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}

export function NewAlert() {
  const create = useAction(async (q, b: CreateAlertRule) => {
    const r = await q.alerts.create(b);
    // A generated webhook secret is shown once, on the rule's page.
    if (r.signing_secret) sessionStorage.setItem(`quasm.alert-secret.${r.id}`, r.signing_secret);
    navigate(`/alerts/${r.id}`);
  });
  return (
    <section>
      <div class="page-head">
        <h1>
          <Link href="/alerts" class="crumb">
            Alerts
          </Link>{" "}
          / New rule
        </h1>
      </div>
      <ReadOnlyNote role="operator" doing="creating alert rules" />
      <AlertForm
        busy={create.busy}
        error={create.error}
        submit="Create alert rule"
        onSubmit={(b) => create.run(b as CreateAlertRule)}
        onCancel={() => navigate("/alerts")}
      />
    </section>
  );
}
