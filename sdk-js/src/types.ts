// Names for the generated API types (src/generated/openapi.ts, from
// gateway/openapi.json). Results keep the API's own field names.

import type { components, operations, paths } from "./generated/openapi.js";

export type { components, operations, paths };

type Schemas = components["schemas"];

/** Every operationId of the API document. */
export type OperationId = keyof operations;

/** The query parameters an operation accepts. */
export type QueryOf<O extends OperationId> = operations[O]["parameters"] extends { query?: infer Q } ? NonNullable<Q> : never;

export type Role = Schemas["Role"];
export type Limits = Schemas["Limits"];
export type Isolation = Schemas["Isolation"];
/** A function as the API shows it (`Function` would shadow the global). */
export type FunctionInfo = Schemas["Function"];
export type CreateFunction = Schemas["CreateFunction"];
export type UpdateFunction = Schemas["UpdateFunction"];
export type Version = Schemas["Version"];
export type CheckResult = Schemas["CheckResult"];
export type Stats = Schemas["Stats"];
export type Whoami = Schemas["Whoami"];
export type Diagnostic = Schemas["Diagnostic"];
export type CreateVersion = Schemas["CreateVersion"];
export type LogEntry = Schemas["LogEntry"];
export type LogLevel = Schemas["LogLevel"];
export type ErrorInfo = Schemas["ErrorInfo"];
export type InvocationStatus = Schemas["InvocationStatus"];
/** The result of `quasm.invoke`; `Output` types the handler's JSON result. */
export type InvokeResult<Output = unknown> = Omit<Schemas["InvokeResult"], "output"> & { output: Output | null };
export type InvokeAccepted = Schemas["InvokeAccepted"];
export type Handler = NonNullable<Schemas["InvokeRequest"]["handler"]>;
export type ExecutionStatus = Schemas["ExecutionStatus"];
export type Trigger = Schemas["Trigger"];
export type Execution = Schemas["Execution"];
export type ExecutionPage = Schemas["ExecutionPage"];
/** Filters of `executions.list`: the query parameters of `GET /api/v1/executions` (`limit` is the page size). */
export type ExecutionFilters = Omit<QueryOf<"listExecutions">, "cursor">;
export type RunAccepted = Schemas["RunAccepted"];
export type CancelAccepted = Schemas["CancelAccepted"];
export type Route = Schemas["Route"];
export type CreateRoute = Schemas["CreateRoute"];
export type RouteAuth = Schemas["RouteAuth"];
export type ApiKey = Schemas["ApiKey"];
export type CreatedApiKey = Schemas["CreatedApiKey"];
export type CreateApiKey = Schemas["CreateApiKey"];
export type Tenant = Schemas["Tenant"];
export type TenantSettings = Schemas["TenantSettings"];
export type AuditEntry = Schemas["AuditEntry"];
export type Schedule = Schemas["Schedule"];
export type CreateSchedule = Schemas["CreateSchedule"];
export type UpdateSchedule = Schemas["UpdateSchedule"];
export type ScheduleRun = Schemas["ScheduleRun"];
export type SchedulePreview = Schemas["SchedulePreview"];
export type ScheduleRunFilters = QueryOf<"listScheduleRuns">;
export type AlertRule = Schemas["AlertRule"];
export type CreateAlertRule = Schemas["CreateAlertRule"];
export type UpdateAlertRule = Schemas["UpdateAlertRule"];
export type AlertNotification = Schemas["AlertNotification"];
export type PublishEvent = Schemas["PublishEvent"];
export type PublishedEvent = Schemas["PublishedEvent"];
export type PublishedEvents = Schemas["PublishedEvents"];
export type Subscription = Schemas["Subscription"];
export type CreateSubscription = Schemas["CreateSubscription"];
export type DeadLetter = Schemas["DeadLetter"];
export type DeadLetterPage = Schemas["DeadLetterPage"];
/** Filters of `deadLetters.list` (`limit` is the page size). */
export type DeadLetterFilters = Omit<QueryOf<"listDeadLetters">, "cursor">;
export type ReplayAccepted = Schemas["ReplayAccepted"];
export type Webhook = Schemas["Webhook"];
export type CreateWebhook = Schemas["CreateWebhook"];
export type UpdateWebhook = Schemas["UpdateWebhook"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type WebhookDeliveryAttempt = Schemas["WebhookDeliveryAttempt"];
export type WebhookDeliveryPage = Schemas["WebhookDeliveryPage"];
/** Filters of `webhooks.deliveries` (`limit` is the page size). */
export type WebhookDeliveryFilters = Omit<QueryOf<"listWebhookDeliveries">, "cursor">;
export type Problem = Schemas["Problem"];
