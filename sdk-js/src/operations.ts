// Which client method serves each operation of gateway/openapi.json. The
// `satisfies` clause makes the build fail when the document gains an
// operationId without an entry here (or loses one that has an entry), and
// test/operations.test.mjs calls every method listed and checks it sends
// the operation's method and path.

import type { OperationId } from "./types.js";

export const operationMethods = {
  getOpenApi: "openapi",
  healthz: "health",
  readyz: "ready",
  metrics: "metrics",

  listFunctions: "functions.list",
  createFunction: "functions.create",
  getFunction: "functions.get",
  updateFunction: "functions.update",
  deleteFunction: "functions.delete",
  deployFunction: "functions.deploy",
  rollbackFunction: "functions.rollback",

  listVersions: "versions.list",
  createVersion: "versions.create",
  getVersion: "versions.get",

  invokeFunction: "invoke",
  checkCode: "check",
  getStats: "stats",
  getWhoami: "whoami",
  getTypes: "types",
  getBindingKeys: "bindingKeys",
  startRun: "runs.start",

  listSchedules: "schedules.list",
  createSchedule: "schedules.create",
  getSchedule: "schedules.get",
  updateSchedule: "schedules.update",
  deleteSchedule: "schedules.delete",
  listScheduleRuns: "schedules.runs",
  previewSchedule: "schedules.preview",

  listExecutions: "executions.list",
  getExecution: "executions.get",
  streamExecution: "executions.stream",
  cancelExecution: "executions.cancel",

  listRoutes: "routes.list",
  createRoute: "routes.create",
  deleteRoute: "routes.delete",
  publicRouteGet: "routes.fetch",
  publicRoutePut: "routes.fetch",
  publicRoutePost: "routes.fetch",
  publicRouteDelete: "routes.fetch",
  publicRouteOptions: "routes.fetch",
  publicRouteHead: "routes.fetch",
  publicRoutePatch: "routes.fetch",
  publicRouteTrace: "routes.fetch",

  listApiKeys: "apiKeys.list",
  createApiKey: "apiKeys.create",
  deleteApiKey: "apiKeys.delete",

  getTenant: "tenant.get",
  updateTenant: "tenant.update",
  listAuditEntries: "audit.list",

  listAlerts: "alerts.list",
  createAlert: "alerts.create",
  getAlert: "alerts.get",
  updateAlert: "alerts.update",
  deleteAlert: "alerts.delete",
  testAlert: "alerts.test",
  listAlertNotifications: "alerts.notifications",

  publishEvent: "events.publish",
  publishEvents: "events.publishBatch",

  listSubscriptions: "subscriptions.list",
  createSubscription: "subscriptions.create",
  getSubscription: "subscriptions.get",
  deleteSubscription: "subscriptions.delete",

  listDeadLetters: "deadLetters.list",
  getDeadLetter: "deadLetters.get",
  deleteDeadLetter: "deadLetters.delete",
  replayDeadLetter: "deadLetters.replay",

  listWebhooks: "webhooks.list",
  createWebhook: "webhooks.create",
  getWebhook: "webhooks.get",
  updateWebhook: "webhooks.update",
  deleteWebhook: "webhooks.delete",
  rotateWebhookSecret: "webhooks.rotateSecret",
  listWebhookDeliveries: "webhooks.deliveries",
  getWebhookDelivery: "webhooks.delivery",
  redeliverWebhookDelivery: "webhooks.redeliver",
} as const satisfies Record<OperationId, string>;

/** A client method's dotted path, e.g. `functions.list`. */
export type ClientMethod = (typeof operationMethods)[OperationId];
