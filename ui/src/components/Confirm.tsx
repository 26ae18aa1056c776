// A destructive action asked twice, in place: the first button opens a
// short question beside it naming what will happen; the second does it
// (it takes the focus; Escape or Cancel closes the question).

import { useEffect, useRef, useState } from "preact/hooks";
import type { Role } from "../sdk";
import { Action } from "./ui";

export function ConfirmAction(props: {
  needs: Role;
  /** The first button's text, e.g. "Revoke". */
  label: string;
  /** Its accessible name, e.g. "Revoke API key ci-deploy". */
  name?: string;
  /** What happens, e.g. "Revoke ci-deploy? Clients using it stop at once." */
  question: string;
  /** The confirming button, e.g. "Yes, revoke". */
  confirm: string;
  busy?: boolean;
  disabled?: boolean;
  onConfirm: () => void | Promise<unknown>;
}) {
  const [open, setOpen] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) yes.current?.focus();
  }, [open]);
  if (!open)
    return (
      <Action
        needs={props.needs}
        class="q-danger"
        busy={props.busy}
        disabled={props.disabled}
        aria-label={props.name}
        onClick={() => setOpen(true)}
      >
        {props.label}
      </Action>
    );
  return (
    <span
      class="q-confirm"
      role="group"
      aria-label={`Confirm: ${props.name ?? props.label}`}
      onKeyDown={(e) => {
        if (e.key === "Escape") setOpen(false);
      }}
    >
      <span>{props.question}</span>
      <button
        type="button"
        class="q-danger"
        disabled={props.busy}
        ref={yes}
        onClick={async () => {
          await props.onConfirm();
          setOpen(false);
        }}
      >
        {props.confirm}
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </span>
  );
}
