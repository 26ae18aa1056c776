// @quasm/sdk: the typed client of the Quasm admin API.

export { Quasm, type InvokeOptions } from "./client.js";
export type { ClientOptions, FetchLike, RequestOptions } from "./core/options.js";
export { PagedList } from "./core/page.js";
export {
  AbortError,
  AuthenticationError,
  CodeSyntaxError,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionError,
  QuasmError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
  type ErrorDetails,
} from "./errors.js";
export { operationMethods, type ClientMethod } from "./operations.js";
export { Run, type RunEvent, type StreamOptions } from "./resources/run.js";
export type { ExecutionList } from "./resources/executions.js";
export type { DeadLetterList } from "./resources/dead-letters.js";
export type { WebhookDeliveryList } from "./resources/webhooks.js";
export type { BatchEvent, PublishOptions } from "./resources/events.js";
export type * from "./types.js";
