// GET /api/v1/stats, GET /api/v1/whoami and POST /api/v1/check, bound to the
// session's client. @quasm/sdk has had these methods since the console
// landed; this keeps the console's one `extra` handle for them.

import type { Quasm } from "@quasm/sdk";
import type { CheckResult, Stats, Whoami } from "./types";

interface Extras {
  stats(): Promise<Stats>;
  whoami(): Promise<Whoami>;
  check(code: string): Promise<CheckResult>;
}

export function extras(q: Quasm): Extras {
  return {
    stats: () => q.stats(),
    whoami: () => q.whoami(),
    check: (code) => q.check(code),
  };
}
