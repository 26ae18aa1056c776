// The signed-in credential: kept in sessionStorage (never in the URL),
// with who it is (tenant, role) as the server says.

import { useEffect, useState } from "preact/hooks";
import { Quasm, extras } from "../sdk";
import type { Role, Whoami } from "../sdk";

const KEY = "quasm.credential";
const REASON = "quasm.signout-reason";

export interface Session {
  credential: string;
  who: Whoami;
  client: Quasm;
  /** The console's endpoints the SDK has no method for yet. */
  extra: ReturnType<typeof extras>;
}

let current: Session | null = null;
const listeners = new Set<() => void>();

/** Checks a credential with the server and keeps it. */
export async function signIn(credential: string): Promise<Session> {
  const url = location.origin;
  // An API key goes as `apiKey`, a JWT as `token` (the SDK sends both as a bearer credential).
  const c = new Quasm(credential.startsWith("qk_") ? { url, apiKey: credential } : { url, token: credential });
  const extra = extras(c);
  const who = await extra.whoami();
  sessionStorage.setItem(KEY, credential);
  sessionStorage.removeItem(REASON);
  current = { credential, who, client: c, extra };
  listeners.forEach((l) => l());
  return current;
}

/** Restores the session of this tab after a reload. */
export async function restore(): Promise<Session | null> {
  const cred = sessionStorage.getItem(KEY);
  if (!cred) return null;
  try {
    return await signIn(cred);
  } catch (e) {
    signOut((e as Error).message);
    return null;
  }
}

export function signOut(reason?: string): void {
  sessionStorage.removeItem(KEY);
  if (reason) sessionStorage.setItem(REASON, reason);
  else sessionStorage.removeItem(REASON);
  current = null;
  listeners.forEach((l) => l());
}

export function signOutReason(): string | null {
  return sessionStorage.getItem(REASON);
}

export function session(): Session | null {
  return current;
}

export function useSession(): Session | null {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return current;
}

const RANK: Record<Role, number> = { viewer: 0, developer: 1, operator: 2, admin: 3 };

/** True if the signed-in credential holds `role` or higher. */
export function can(role: Role): boolean {
  const r = current?.who.role;
  return r != null && RANK[r] >= RANK[role];
}
