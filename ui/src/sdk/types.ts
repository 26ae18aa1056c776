// API shapes as gateway/openapi.json describes them (snake_case, as the
// server sends them): the subset the console reads.

export type Role = "viewer" | "developer" | "operator" | "admin";
export type ExecutionStatus =
  | "queued" | "running" | "ok" | "error" | "timeout" | "out_of_memory" | "limit_exceeded" | "cancelled";
export type Trigger = "http" | "invoke" | "cron" | "event" | "manual";

export interface Limits {
  timeout_ms: number;
  memory_mb: number;
  [k: string]: number;
}
export interface QFunction {
  name: string;
  description: string;
  tags: string[];
  enabled: boolean;
  limits: Limits;
  env: Record<string, string>;
  secrets: string[];
  isolation: string;
  live_version: number | null;
  success_sample_rate: number;
  created_at: string;
  updated_at: string;
}
export interface CreateFunction {
  name: string;
  code: string;
  description?: string;
  tags?: string[];
  env?: Record<string, string>;
  enabled?: boolean;
}
export interface Version {
  number: number;
  content_hash: string;
  author: string;
  message: string;
  created_at: string;
  live: boolean;
  code?: string;
}
export interface LogEntry {
  level: "debug" | "info" | "warn" | "error" | "log";
  time_ms: number;
  message: string;
}
export interface ErrorInfo {
  name: string;
  message: string;
  stack: string;
}
export interface Execution {
  id: string;
  function: string;
  version: number | null;
  trigger: Trigger;
  trigger_ref: string | null;
  status: ExecutionStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  cpu_time_ms: number | null;
  peak_memory_bytes: number | null;
  logs_truncated: boolean;
  error: ErrorInfo | null;
  input?: unknown;
  output?: unknown;
  logs?: LogEntry[];
}
export interface ExecutionPage {
  executions: Execution[];
  next_cursor: string | null;
}
export interface ExecutionFilters {
  function?: string;
  status?: string;
  trigger?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}
export interface Schedule {
  id: number;
  function: string;
  cron: string;
  timezone: string;
  input?: unknown;
  enabled: boolean;
  overlap: string;
  catch_up: string;
  next_run_at?: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}
export interface CreateSchedule {
  cron: string;
  timezone?: string;
  input?: unknown;
  enabled?: boolean;
}
export interface ScheduleRun {
  slot_at: string;
  status: string;
  reason?: string | null;
  execution_id?: string | null;
  execution_status?: string | null;
}
export interface Route {
  id: number;
  method: string | null;
  path: string;
  function: string;
  auth: "public" | "jwt" | "api_key";
  created_at: string;
}
export interface CreateRoute {
  path: string;
  function: string;
  auth: Route["auth"];
  method?: string;
}
export interface Subscription {
  id: number;
  function: string;
  event_type: string;
  filter: Record<string, unknown>;
  max_attempts: number;
  created_at: string;
}
export interface CreateSubscription {
  function: string;
  event_type: string;
  filter?: Record<string, unknown>;
  max_attempts?: number;
}
export interface DeadLetter {
  id: number;
  event: { id: string; type: string; payload: unknown; key: string | null; published_at: string };
  subscription_id: number;
  function: string;
  attempts: number;
  last_error: { name?: string; message?: string; stack?: string; status?: string } | null;
  last_execution_id: string | null;
  dead_at: string;
}
export interface DeadLetterPage {
  dead_letters: DeadLetter[];
  next_cursor: number | null;
}
export interface Tenant {
  id: string;
  settings: Record<string, unknown>;
}
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
export type RunEvent =
  | { type: "status"; data: { status: ExecutionStatus } & Record<string, unknown> }
  | { type: "log"; data: LogEntry }
  | { type: "progress"; data: { percent: number; message?: string | null } }
  | { type: "end"; data: Execution };
