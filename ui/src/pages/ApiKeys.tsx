// The tenant's API keys (admin): create one — its secret is shown once,
// with a copy button —, list them, revoke one after a confirmation.

import { useState } from "preact/hooks";
import type { ApiKey, CreatedApiKey, Role } from "../sdk";
import { useAction, useApi } from "../lib/data";
import { can, session } from "../lib/session";
import { ConfirmAction } from "../components/Confirm";
import { CopyButton } from "../components/CopyButton";
import { Empty, ErrorBox, FieldError, FormError, Forbidden, Loaded, Time, fieldError } from "../components/ui";

const ROLES: [Role, string][] = [
  ["viewer", "reads everything"],
  ["developer", "writes and runs code"],
  ["operator", "deploys, schedules, enables"],
  ["admin", "keys, secrets, tenant settings"],
];

export function ApiKeys() {
  if (!can("admin")) {
    return (
      <section>
        <h1>API keys</h1>
        <Forbidden role="admin" page="Managing API keys" />
      </section>
    );
  }
  return <KeysPage />;
}

function KeysPage() {
  const keys = useApi((q) => q.apiKeys.list(), []);
  const [created, setCreated] = useState<CreatedApiKey>();
  const [revoked, setRevoked] = useState<string>();
  const revoke = useAction((q, id: string) => q.apiKeys.delete(id));
  const mine = session()?.who.subject;
  return (
    <section>
      <div class="page-head">
        <h1>API keys</h1>
      </div>
      <p class="q-muted">
        Keys let scripts, CI and host services call the API as this tenant (<code>Authorization: Bearer qk_…</code>). Give
        each key the smallest role it needs.
      </p>
      {created ? (
        <NewKey created={created} onDone={() => setCreated(undefined)} />
      ) : (
        <CreateKey
          onCreated={(k) => {
            setCreated(k);
            setRevoked(undefined);
            keys.reload();
          }}
        />
      )}
      <h2>Keys</h2>
      {revoked && (
        <p class="q-ok" role="status">
          {revoked}
        </p>
      )}
      <ErrorBox error={revoke.error} what="Revoke" />
      <Loaded state={keys} what="API keys">
        {(list: ApiKey[]) =>
          list.length === 0 ? (
            <Empty>No API keys yet. Create one above for a script or a CI job; its secret is shown once.</Empty>
          ) : (
            <table aria-label="API keys">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Id</th>
                  <th>Roles</th>
                  <th>Created by</th>
                  <th>Created</th>
                  <th>Expires</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((k) => {
                  const expired = k.expires_at != null && new Date(k.expires_at).getTime() < Date.now();
                  return (
                    <tr key={k.id}>
                      <td class="q-nowrap">
                        {k.name}
                        {mine === `api-key:${k.id}` && <span class="q-muted q-small"> (this session)</span>}
                      </td>
                      <td>
                        <code>{k.id}</code>
                      </td>
                      <td>{k.roles.join(", ")}</td>
                      <td class="q-clip" title={k.created_by}>
                        {k.created_by}
                      </td>
                      <td class="q-nowrap">
                        <Time iso={k.created_at} />
                      </td>
                      <td>
                        {k.expires_at ? (
                          <span class={expired ? "err-text" : undefined}>
                            {expired ? "expired " : ""}
                            <Time iso={k.expires_at} />
                          </span>
                        ) : (
                          <span class="q-muted">never</span>
                        )}
                      </td>
                      <td class="q-nowrap">
                        <ConfirmAction
                          needs="admin"
                          label="Revoke"
                          name={`Revoke API key ${k.name}`}
                          question={
                            mine === `api-key:${k.id}`
                              ? `Revoke ${k.name}? You are signed in with it: this signs you out.`
                              : `Revoke ${k.name}? Anything using it is refused at once.`
                          }
                          confirm="Yes, revoke"
                          busy={revoke.busy}
                          onConfirm={async () => {
                            if (await revoke.run(k.id)) {
                              setRevoked(`Revoked ${k.name} (${k.id}).`);
                              keys.reload();
                            }
                          }}
                        />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: (k: CreatedApiKey) => void }) {
  const [name, setName] = useState("");
  const [roles, setRoles] = useState<Set<Role>>(new Set(["viewer"]));
  const [expires, setExpires] = useState("");
  const [local, setLocal] = useState<{ field: string; message: string }>();
  const create = useAction(async (q, body: Parameters<typeof q.apiKeys.create>[0]) => onCreated(await q.apiKeys.create(body)));
  const err = (field: string) => (local?.field === field ? local.message : fieldError(create.error, field));
  return (
    <form
      noValidate
      class="q-card q-form"
      aria-label="Create an API key"
      onSubmit={async (e) => {
        e.preventDefault();
        create.clear();
        if (!name.trim()) return setLocal({ field: "name", message: "Give the key a name, e.g. ci-deploy." });
        if (roles.size === 0) return setLocal({ field: "roles", message: "Choose at least one role." });
        let expires_at: string | undefined;
        if (expires) {
          const d = new Date(expires);
          if (Number.isNaN(d.getTime()) || d.getTime() <= Date.now())
            return setLocal({ field: "expires_at", message: "The expiry must be in the future." });
          expires_at = d.toISOString();
        }
        setLocal(undefined);
        if (await create.run({ name: name.trim(), roles: [...roles], ...(expires_at ? { expires_at } : {}) })) {
          setName("");
          setExpires("");
        }
      }}
    >
      <h2>Create an API key</h2>
      <div class="grid2">
        <label>
          Name
          <input
            value={name}
            maxLength={128}
            placeholder="ci-deploy"
            aria-invalid={err("name") ? "true" : undefined}
            aria-describedby="key-name-error"
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
          <FieldError id="key-name-error" message={err("name")} />
        </label>
        <label>
          Expires (optional, your time zone)
          <input
            type="datetime-local"
            value={expires}
            aria-invalid={err("expires_at") ? "true" : undefined}
            aria-describedby="key-expires-error"
            onInput={(e) => setExpires((e.target as HTMLInputElement).value)}
          />
          <FieldError id="key-expires-error" message={err("expires_at")} />
        </label>
      </div>
      <fieldset class="q-roles" aria-describedby="key-roles-error">
        <legend>Roles</legend>
        {ROLES.map(([r, what]) => (
          <label key={r} class="q-small">
            <input
              type="checkbox"
              checked={roles.has(r)}
              onChange={(e) => {
                const s = new Set(roles);
                if ((e.target as HTMLInputElement).checked) s.add(r);
                else s.delete(r);
                setRoles(s);
              }}
            />
            <strong>{r}</strong> <span class="q-muted">— {what}</span>
          </label>
        ))}
        <FieldError id="key-roles-error" message={err("roles")} />
      </fieldset>
      <FormError error={create.error} fields={["name", "roles", "expires_at"]} what="Create API key" />
      <div class="q-actions">
        <button type="submit" class="q-primary" disabled={create.busy}>
          Create API key
        </button>
      </div>
    </form>
  );
}

function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  return (
    <div class="q-card q-secret" role="region" aria-label="New API key">
      <h2>API key “{created.name}” created</h2>
      <p class="q-warn-text" role="alert">
        Copy the key now: this is the only time it is shown. Only a hash of it is stored; if it is lost, revoke it and
        create another.
      </p>
      <div class="q-row">
        <input class="mono" readOnly value={created.key} aria-label="The new API key" onFocus={(e) => (e.target as HTMLInputElement).select()} />
        <CopyButton text={created.key} label="Copy key" />
      </div>
      <p class="q-muted q-small">
        Roles: {created.roles.join(", ")} · id <code>{created.id}</code>
        {created.expires_at ? " · expires " + new Date(created.expires_at).toLocaleString() : " · never expires"}
      </p>
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}
