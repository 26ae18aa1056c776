// Tenant webhooks: the tenant's events — Quasm's own `quasm.*` lifecycle
// events and its own — sent to a URL, signed. The list, and a new
// webhook at /webhooks/new (operator).

import type { CreateWebhook, Webhook } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { Link, navigate } from "../lib/router";
import { can } from "../lib/session";
import { WebhookForm } from "../components/WebhookForm";
import { Action, Empty, Loaded, ReadOnlyNote, Time } from "../components/ui";

/** sessionStorage key of a signing secret to show once on the webhook's page. */
export const secretKey = (id: number) => `quasm.webhook-secret.${id}`;

export function Webhooks() {
  const hooks = useApi((q) => q.webhooks.list(), []);
  return (
    <section>
      <div class="page-head">
        <h1>Webhooks</h1>
        <span class="q-spacer" />
        {can("operator") ? (
          <button type="button" class="q-primary" onClick={() => navigate("/webhooks/new")}>
            New webhook
          </button>
        ) : (
          <Action needs="operator">New webhook</Action>
        )}
      </div>
      <p class="q-muted">
        A webhook sends the tenant's events to your service as signed <code>POST</code> requests, at least once, retried
        with backoff: what changed (<code>quasm.function.*</code>, <code>quasm.version.*</code>), what failed (
        <code>quasm.execution.failed</code>, <code>quasm.dead_letter.created</code>) and your own events.
      </p>
      <ReadOnlyNote role="operator" doing="creating or changing webhooks" />
      <Loaded state={hooks} what="webhooks">
        {(list: Webhook[]) =>
          list.length === 0 ? (
            <Empty>
              No webhooks: nothing is sent outside Quasm.{" "}
              {can("operator") ? <Link href="/webhooks/new">Create a webhook</Link> : "An operator can create one"} to keep an
              audit trail in your own system.
            </Empty>
          ) : (
            <table aria-label="Webhooks">
              <thead>
                <tr>
                  <th>URL</th>
                  <th>Event types</th>
                  <th>Description</th>
                  <th>State</th>
                  <th>Changed</th>
                </tr>
              </thead>
              <tbody>
                {list.map((w) => (
                  <tr key={w.id}>
                    <td class="q-clip" title={w.url}>
                      <Link href={`/webhooks/${w.id}`}>{w.url}</Link>
                    </td>
                    <td class="q-clip" title={w.event_types.join(", ")}>
                      {w.event_types.join(", ")}
                    </td>
                    <td class="q-clip">{w.description || <span class="q-muted">—</span>}</td>
                    <td>{w.enabled ? "enabled" : <span class="q-muted">disabled</span>}</td>
                    <td class="q-nowrap">
                      <Time iso={w.updated_at} />
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

export function NewWebhook() {
  const create = useAction(async (q, b: CreateWebhook) => {
    const w = await q.webhooks.create(b);
    // The signing secret is shown once, on the webhook's page.
    if (w.signing_secret) sessionStorage.setItem(secretKey(w.id), w.signing_secret);
    navigate(`/webhooks/${w.id}`);
  });
  return (
    <section>
      <div class="page-head">
        <h1>
          <Link href="/webhooks" class="crumb">
            Webhooks
          </Link>{" "}
          / New webhook
        </h1>
      </div>
      <ReadOnlyNote role="operator" doing="creating webhooks" />
      <WebhookForm busy={create.busy} error={create.error} submit="Create webhook" onSubmit={(b) => create.run(b)} onCancel={() => navigate("/webhooks")} />
    </section>
  );
}
