// Syntax errors found by the real engine (`POST /api/v1/check`, the same
// compiler as deploy), for the editor's inline markers.

import { NotFoundError, PermissionError } from "../sdk";
import type { Diagnostic } from "../sdk";
import type { Session } from "./session";

let unavailable = false;

/** The engine's diagnostics, or null when the server cannot check. */
export async function engineCheck(s: Session, code: string): Promise<Diagnostic[] | null> {
  if (unavailable) return null;
  try {
    const r = await s.extra.check(code);
    return r.diagnostics;
  } catch (e) {
    // An older server without the endpoint, or a viewer: no engine markers.
    if (e instanceof NotFoundError || e instanceof PermissionError) {
      unavailable = e instanceof NotFoundError;
      return null;
    }
    throw e;
  }
}
