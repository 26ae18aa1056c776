// Sign in with a JWT or an API key; the reason of the last sign-out (an
// expired or revoked credential) is shown above the field.

import { useState } from "preact/hooks";
import { signIn, signOutReason } from "../lib/session";

export function SignIn() {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(signOutReason());
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const cred = value.trim();
    if (!cred) {
      setError("Paste a token or an API key first.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(cred);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="q-card" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Quasm</h1>
        <p class="q-muted">
          Use a JWT (<code>quasm token create</code>) or an API key (<code>qk_…</code>). It stays in this tab only.
        </p>
        {error && (
          <div class="q-error" role="alert">
            {error}
          </div>
        )}
        <label for="credential">Token or API key</label>
        <textarea
          id="credential"
          name="credential"
          rows={4}
          spellcheck={false}
          autocomplete="off"
          value={value}
          onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) submit(e);
          }}
        />
        <button type="submit" class="q-primary" disabled={busy} aria-busy={busy ? "true" : undefined}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
