// Shapes of the console's own endpoints (gateway/openapi.json: getStats,
// getWhoami, and the lead's POST /api/v1/check), which @quasm/sdk does not
// cover yet.

import type { Role } from "@quasm/sdk";

export interface Stats {
  since: string;
  runs_by_status: Record<string, number>;
  failing_functions: {
    function: string;
    failures: number;
    runs: number;
    last_failure_at: string;
    last_execution_id: string;
  }[];
  next_scheduled_runs: { function: string; schedule_id: number; cron: string; timezone: string; at: string }[];
  dead_letters_waiting: number;
}
export interface Whoami {
  tenant: string;
  subject: string;
  roles: Role[];
  role: Role | null;
}
export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  line: number;
  column: number;
}
export interface CheckResult {
  ok: boolean;
  diagnostics: Diagnostic[];
}
