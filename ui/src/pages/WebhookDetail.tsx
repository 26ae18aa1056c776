// One webhook: its signing secret (shown once, after creating or rotating
// it), enable/disable, rotate the secret, delete, change its settings, and
// its deliveries — newest first, each with every attempt — with a way to
// send one again.

import { useState } from "preact/hooks";
import type { CreateWebhook, Webhook, WebhookDelivery } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { Link, navigate } from "../lib/router";
import { WebhookForm } from "../components/WebhookForm";
import { ConfirmAction } from "../components/Confirm";
import { CopyButton } from "../components/CopyButton";
import { Action, Empty, ErrorBox, Loaded, ReadOnlyNote, Status, Time } from "../components/ui";
import { secretKey } from "./Webhooks";

export function WebhookDetail({ id }: { id: number }) {
  const hook = useApi((q) => q.webhooks.get(id), [id]);
  return (
    <section>
      <div class="page-head">
        <h1>
          <Link href="/webhooks" class="crumb">
            Webhooks
          </Link>{" "}
          / {hook.data?.description || `webhook ${id}`}
        </h1>
      </div>
      <Loaded state={hook} what="the webhook">
        {(w) => <Hook hook={w} reload={hook.reload} />}
      </Loaded>
    </section>
  );
}

function Hook({ hook, reload }: { hook: Webhook; reload: () => void }) {
  const [secret, setSecret] = useState(() => sessionStorage.getItem(secretKey(hook.id)) ?? undefined);
  const [saved, setSaved] = useState<string>();
  const update = useAction(async (q, b: Partial<CreateWebhook>) => {
    await q.webhooks.update(hook.id, b);
    setSaved("Saved.");
    reload();
  });
  const rotate = useAction(async (q) => {
    const w = await q.webhooks.rotateSecret(hook.id);
    if (w.signing_secret) {
      sessionStorage.setItem(secretKey(hook.id), w.signing_secret);
      setSecret(w.signing_secret);
    }
  });
  const remove = useAction(async (q) => {
    await q.webhooks.delete(hook.id);
    sessionStorage.removeItem(secretKey(hook.id));
    navigate("/webhooks");
  });
  return (
    <>
      <p class="q-muted">
        Sends {hook.event_types.join(", ")} to <code>{hook.url}</code>.{hook.enabled ? "" : " Disabled: nothing is sent."}
      </p>
      {secret && (
        <div class="q-card q-secret" role="region" aria-label="Webhook signing secret">
          <p class="q-warn-text" role="alert">
            The signing secret, shown this once: your endpoint verifies <code>Quasm-Signature</code> with it (see the
            README, Webhooks).
          </p>
          <div class="q-row">
            <input class="mono" readOnly value={secret} aria-label="Signing secret" />
            <CopyButton text={secret} label="Copy secret" />
            <button
              type="button"
              onClick={() => {
                sessionStorage.removeItem(secretKey(hook.id));
                setSecret(undefined);
              }}
            >
              I have copied it
            </button>
          </div>
        </div>
      )}
      <ReadOnlyNote role="operator" doing="changing this webhook or sending a delivery again" />
      <div class="q-actions">
        <Action needs="operator" busy={update.busy} onClick={() => update.run({ enabled: !hook.enabled })}>
          {hook.enabled ? "Disable" : "Enable"}
        </Action>
        <ConfirmAction
          needs="operator"
          label="Rotate secret"
          question="Make a new signing secret? The old one stops at once: update your endpoint right after."
          confirm="Yes, rotate"
          busy={rotate.busy}
          onConfirm={() => rotate.run()}
        />
        <span class="q-spacer" />
        <ConfirmAction
          needs="operator"
          label="Delete webhook"
          question="Delete this webhook and its delivery history? Pending deliveries are not sent."
          confirm="Yes, delete"
          busy={remove.busy}
          onConfirm={() => remove.run()}
        />
      </div>
      <ErrorBox error={update.error} what="Change" />
      <ErrorBox error={rotate.error} what="Rotate secret" />
      <ErrorBox error={remove.error} what="Delete" />
      <h2>Deliveries</h2>
      <Deliveries hook={hook} />
      <h2>Edit</h2>
      {saved && (
        <p class="q-ok" role="status">
          {saved}
        </p>
      )}
      <WebhookForm
        key={hook.updated_at}
        webhook={hook}
        busy={update.busy}
        error={update.error}
        submit="Save webhook"
        onSubmit={(b) => (setSaved(undefined), update.run(b))}
      />
    </>
  );
}

function Deliveries({ hook }: { hook: Webhook }) {
  const [cursor, setCursor] = useState<number>();
  const page = useApi((q) => q.webhooks.deliveries(hook.id, { limit: 50 }).page({ cursor }), [hook.id, cursor]);
  const [sent, setSent] = useState<string>();
  const redeliver = useAction(async (q, d: WebhookDelivery) => {
    const again = await q.webhooks.redeliver(hook.id, d.id);
    setSent(`Delivery ${d.id} queued again as delivery ${again.id}.`);
    page.reload();
  });
  return (
    <>
      <div class="q-actions">
        <button type="button" onClick={() => page.reload()}>
          Refresh
        </button>
        {cursor !== undefined && (
          <button type="button" onClick={() => setCursor(undefined)}>
            Newest deliveries
          </button>
        )}
      </div>
      {sent && (
        <p class="q-ok" role="status">
          {sent}
        </p>
      )}
      <ErrorBox error={redeliver.error} what="Send again" />
      <Loaded state={page} what="deliveries">
        {(p) =>
          p.deliveries.length === 0 ? (
            <Empty>Nothing sent yet: deliveries appear here when an event of the chosen types happens.</Empty>
          ) : (
            <>
              <table aria-label="Deliveries" class="q-compact">
                <thead>
                  <tr>
                    <th>Created</th>
                    <th>Event</th>
                    <th>Status</th>
                    <th>Attempts</th>
                    <th>Last answer</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {p.deliveries.map((d) => (
                    <tr key={d.id}>
                      <td class="q-nowrap">
                        <Time iso={d.created_at} />
                      </td>
                      <td>
                        <code>{d.event.type}</code>
                        <div class="q-muted q-small mono">{d.event.id}</div>
                      </td>
                      <td>
                        <Status status={d.status} />
                        {d.status === "pending" && d.next_attempt_at && (
                          <div class="q-muted q-small">
                            next <Time iso={d.next_attempt_at} />
                          </div>
                        )}
                        {d.redelivery_of != null && <div class="q-muted q-small">again of {d.redelivery_of}</div>}
                      </td>
                      <td>
                        <Attempts delivery={d} />
                      </td>
                      <td>
                        {d.last_response_status != null && <code>{d.last_response_status}</code>}{" "}
                        {d.last_error && <span class="err-text">{d.last_error}</span>}
                        {d.last_response_status == null && !d.last_error && <span class="q-muted">—</span>}
                      </td>
                      <td class="q-nowrap">
                        <Action needs="operator" busy={redeliver.busy} aria-label={`Send delivery ${d.id} again`} onClick={() => redeliver.run(d)}>
                          Send again
                        </Action>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {p.next_cursor != null && (
                <button type="button" onClick={() => setCursor(p.next_cursor ?? undefined)}>
                  Older deliveries
                </button>
              )}
            </>
          )
        }
      </Loaded>
    </>
  );
}

function Attempts({ delivery }: { delivery: WebhookDelivery }) {
  const history = delivery.attempt_history ?? [];
  if (history.length === 0) return <>{delivery.attempts}</>;
  return (
    <details>
      <summary>{delivery.attempts}</summary>
      <ol class="q-small">
        {history.map((a) => (
          <li key={a.attempt}>
            <Time iso={a.at} /> · {a.response_status ?? "no answer"} · {a.duration_ms} ms
            {a.error && <span class="err-text"> · {a.error}</span>}
          </li>
        ))}
      </ol>
    </details>
  );
}
