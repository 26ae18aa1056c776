// Description, tags, environment variables, enabled state; Delete
// (operator). Errors name the field the server refused.

import { useState } from "preact/hooks";
import type { QFunction } from "../../sdk";
import { useAction } from "../../lib/data";
import { navigate } from "../../lib/router";
import { can } from "../../lib/session";
import { Action, ErrorBox, ReadOnlyNote } from "../../components/ui";

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const i = line.indexOf("=");
    if (i <= 0) throw new Error(`env: “${line}” is not NAME=value`);
    env[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return env;
}

export function SettingsTab({ fn, reload }: { fn: QFunction; reload: () => void }) {
  const [description, setDescription] = useState(fn.description);
  const [tags, setTags] = useState(fn.tags.join(", "));
  const [env, setEnv] = useState(
    Object.entries(fn.env)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
  );
  const [saved, setSaved] = useState(false);
  const save = useAction((q) =>
    q.functions.update(fn.name, {
      description,
      tags: tags
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
      env: parseEnv(env),
    }),
  );
  const toggle = useAction((q) => q.functions.update(fn.name, { enabled: !fn.enabled }));
  const del = useAction((q) => q.functions.delete(fn.name));
  const editable = can("developer");
  return (
    <div class="q-settings">
      <ReadOnlyNote role="developer" doing="changing settings" />
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setSaved(false);
          if (await save.run()) {
            setSaved(true);
            reload();
          }
        }}
      >
        <fieldset disabled={!editable}>
          <label>
            Description
            <input value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Tags (comma-separated)
            <input value={tags} onInput={(e) => setTags((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Environment variables (one NAME=value a line)
            <textarea class="mono" rows={5} value={env} onInput={(e) => setEnv((e.target as HTMLTextAreaElement).value)} />
            <span class="q-hint">They reach the code as env.NAME and complete in the editor.</span>
          </label>
          <p class="q-small q-muted">
            Secrets: {fn.secrets.length ? fn.secrets.join(", ") : "none"} (write-only; set them through the API, admin role).
          </p>
          <div class="q-actions">
            <button type="submit" class="q-primary" disabled={save.busy}>
              Save settings
            </button>
            {saved && (
              <span class="q-ok" role="status">
                Saved.
              </span>
            )}
          </div>
        </fieldset>
      </form>
      <ErrorBox error={save.error} what="Saving settings" />
      <h2>State</h2>
      <div class="q-actions">
        <Action
          needs="operator"
          busy={toggle.busy}
          onClick={async () => {
            if (await toggle.run()) reload();
          }}
        >
          {fn.enabled ? "Disable" : "Enable"}
        </Action>
        <Action
          needs="operator"
          class="q-danger"
          busy={del.busy}
          onClick={async () => {
            if (!confirm(`Delete ${fn.name}, its versions, triggers and history?`)) return;
            if (await del.run()) navigate("/functions");
          }}
        >
          Delete
        </Action>
        {!can("operator") && <span class="q-note">Enabling, disabling and deleting need the operator role.</span>}
      </div>
      <ErrorBox error={toggle.error ?? del.error} />
    </div>
  );
}
