// The few building blocks every page uses, so states look the same
// everywhere: status words with a colour, times with their absolute value
// on hover, errors naming their field or the role needed, empty lists
// saying what to do next, and actions above the user's role.

import type { ComponentChildren, JSX } from "preact";
import { PermissionError, QuasmError, ValidationError } from "../sdk";
import type { Role } from "../sdk";
import { absolute, relative } from "../lib/format";
import { can, session } from "../lib/session";

export function Status({ status }: { status: string | null | undefined }) {
  const s = status ?? "unknown";
  return <span class={`q-status status-${s}`}>{s.replace(/_/g, " ")}</span>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="q-muted">—</span>;
  return (
    <time dateTime={iso} title={absolute(iso)}>
      {relative(iso)}
    </time>
  );
}

export function ErrorBox({ error, what }: { error: Error | undefined; what?: string }) {
  if (!error) return null;
  let text = error.message;
  if (error instanceof PermissionError && error.requiredRole) {
    text = `${what ? `${what}: ` : ""}this needs the ${error.requiredRole} role. ${error.message}`;
  } else if (what) text = `${what}: ${text}`;
  const field = error instanceof ValidationError ? error.field : undefined;
  return (
    <div class="q-error" role="alert">
      {text}
      {field && !text.includes(field) ? <span class="q-muted"> (field: {field})</span> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="q-muted q-loading" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="q-empty">{children}</div>;
}

/** A page's loading / error / data states in one place. */
export function Loaded<T>(props: {
  state: { data: T | undefined; error: Error | undefined; loading: boolean };
  what: string;
  children: (data: T) => ComponentChildren;
}) {
  const { data, error, loading } = props.state;
  if (data !== undefined) return <>{props.children(data)}</>;
  if (error) return <ErrorBox error={error} what={`Loading ${props.what}`} />;
  return loading ? <Loading what={props.what} /> : null;
}

/**
 * A button for an action that needs `role`: disabled below it, with a note
 * naming the role (also its accessible description).
 */
export function Action(
  props: { needs: Role; busy?: boolean; disabled?: boolean; children: ComponentChildren } & Omit<
    JSX.HTMLAttributes<HTMLButtonElement>,
    "disabled"
  >,
) {
  const { needs: role, busy, children, disabled, ...rest } = props;
  const allowed = can(role);
  const note = allowed ? undefined : `Needs the ${role} role`;
  return (
    <button
      type="button"
      {...rest}
      disabled={!allowed || !!disabled || busy}
      title={note ?? (rest.title as string | undefined)}
      aria-busy={busy ? "true" : undefined}
      data-needs-role={allowed ? undefined : role}
    >
      {children}
    </button>
  );
}

/** A note shown once on a page the user can only read. */
export function ReadOnlyNote({ role, doing }: { role: Role; doing: string }) {
  if (can(role)) return null;
  return (
    <p class="q-note" role="note">
      Read-only: {doing} needs the {role} role.
    </p>
  );
}

export function isQuasmError(e: unknown): e is QuasmError {
  return e instanceof QuasmError;
}

/** The message of `error` when the server named `field` (or a sub-field of it). */
export function fieldError(error: Error | undefined, field: string): string | undefined {
  if (!(error instanceof ValidationError) || !error.field) return undefined;
  const f = error.field;
  return f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`) ? error.message : undefined;
}

/** An error under the input it concerns (`id` is the input's aria-describedby). */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <span id={id} class="q-field-error" role="alert">
      {message}
    </span>
  );
}

/** A form's error when no field of the form shows it. */
export function FormError({ error, fields, what }: { error: Error | undefined; fields: string[]; what: string }) {
  if (!error || fields.some((f) => fieldError(error, f))) return null;
  return <ErrorBox error={error} what={what} />;
}

/** A whole page above the user's role: says which role it needs. */
export function Forbidden({ role, page }: { role: Role; page: string }) {
  return (
    <div class="q-empty" role="note">
      {page} needs the <strong>{role}</strong> role; you are signed in as{" "}
      <strong>{session()?.who.role ?? "no role"}</strong>. Ask an admin of the tenant for a credential with that role.
    </div>
  );
}
