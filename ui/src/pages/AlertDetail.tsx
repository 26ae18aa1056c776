// One alert rule: change it, send a test through its channel, delete it,
// and the notifications it sent (with delivery errors).

import { useState } from "preact/hooks";
import type { AlertNotification, AlertRule, UpdateAlertRule } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { Link, navigate } from "../lib/router";
import { AlertForm } from "../components/AlertForm";
import { ConfirmAction } from "../components/Confirm";
import { CopyButton } from "../components/CopyButton";
import { Action, Empty, ErrorBox, Loaded, ReadOnlyNote, Time } from "../components/ui";
import { when, where } from "./Alerts";

export function AlertDetail({ id }: { id: number }) {
  const rule = useApi((q) => q.alerts.get(id), [id]);
  return (
    <section>
      <div class="page-head">
        <h1>
          <Link href="/alerts" class="crumb">
            Alerts
          </Link>{" "}
          / {rule.data?.name ?? `rule ${id}`}
        </h1>
      </div>
      <Loaded state={rule} what="the alert rule">
        {(r) => <Rule rule={r} reload={rule.reload} />}
      </Loaded>
    </section>
  );
}

function Rule({ rule, reload }: { rule: AlertRule; reload: () => void }) {
  const secretKey = `quasm.alert-secret.${rule.id}`;
  const [secret, setSecret] = useState(() => sessionStorage.getItem(secretKey) ?? undefined);
  const [saved, setSaved] = useState<string>();
  const [tested, setTested] = useState<AlertNotification>();
  const notifications = useApi((q) => q.alerts.notifications(rule.id, { limit: 100 }), [rule.id]);
  const update = useAction(async (q, b: UpdateAlertRule) => {
    const r = await q.alerts.update(rule.id, b);
    if (r.signing_secret) sessionStorage.setItem(secretKey, r.signing_secret);
    setSaved("Saved.");
    reload();
  });
  const test = useAction(async (q) => {
    setTested(await q.alerts.test(rule.id));
    notifications.reload();
  });
  const remove = useAction(async (q) => {
    await q.alerts.delete(rule.id);
    navigate("/alerts");
  });
  return (
    <>
      <p class="q-muted">
        {rule.function ? `When ${rule.function}` : "When any function"} fails: notifies on {when(rule) || "nothing"}, by {where(rule)}.
        {rule.enabled ? "" : " Disabled: only tests are sent."}
      </p>
      {secret && (
        <div class="q-card q-secret" role="region" aria-label="Webhook signing secret">
          <p class="q-warn-text" role="alert">
            The webhook's signing secret, shown this once: verify <code>Quasm-Signature</code> with it.
          </p>
          <div class="q-row">
            <input class="mono" readOnly value={secret} aria-label="Signing secret" />
            <CopyButton text={secret} label="Copy secret" />
            <button
              type="button"
              onClick={() => {
                sessionStorage.removeItem(secretKey);
                setSecret(undefined);
              }}
            >
              I have copied it
            </button>
          </div>
        </div>
      )}
      <ReadOnlyNote role="operator" doing="changing or testing this rule" />
      <div class="q-actions">
        <Action needs="operator" class="q-primary" busy={test.busy} onClick={() => test.run()}>
          Send test
        </Action>
        <span class="q-muted q-small">sends a “test” message through the channel now, enabled or not</span>
        <span class="q-spacer" />
        <ConfirmAction
          needs="operator"
          label="Delete rule"
          question={`Delete ${rule.name} and its history?`}
          confirm="Yes, delete"
          busy={remove.busy}
          onConfirm={() => remove.run()}
        />
      </div>
      <ErrorBox error={test.error} what="Send test" />
      <ErrorBox error={remove.error} what="Delete" />
      {tested && (
        <p class={tested.delivered ? "q-ok" : "q-error"} role="status">
          {tested.delivered ? "Test notification delivered." : `Test notification not delivered: ${tested.error ?? "unknown error"}`}
        </p>
      )}
      <h2>Sent notifications</h2>
      <Loaded state={notifications} what="notifications">
        {(list) =>
          list.length === 0 ? (
            <Empty>Nothing sent yet. Press “Send test” to check the channel works.</Empty>
          ) : (
            <table aria-label="Sent notifications" class="q-compact">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Kind</th>
                  <th>Function</th>
                  <th>Delivered</th>
                  <th>Message</th>
                </tr>
              </thead>
              <tbody>
                {list.map((n) => (
                  <tr key={n.id}>
                    <td class="q-nowrap">
                      <Time iso={n.at} />
                    </td>
                    <td>{n.kind}</td>
                    <td>
                      {n.function ?? "—"}
                      {n.execution_id && (
                        <>
                          {" "}
                          <Link href={`/executions/${n.execution_id}`} class="q-small">
                            execution
                          </Link>
                        </>
                      )}
                    </td>
                    <td>{n.delivered ? <span class="q-ok">yes</span> : <span class="err-text">no: {n.error ?? "unknown error"}</span>}</td>
                    <td class="q-pre">{n.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      <h2>Edit</h2>
      {saved && (
        <p class="q-ok" role="status">
          {saved}
        </p>
      )}
      <AlertForm key={rule.updated_at} rule={rule} busy={update.busy} error={update.error} submit="Save rule" onSubmit={(b) => (setSaved(undefined), update.run(b))} />
    </>
  );
}
