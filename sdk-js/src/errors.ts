// Every failure the SDK reports is a QuasmError. Answers from the server are
// mapped once, in `errorFromResponse`, to the subclass that says what went
// wrong; failures without an answer are ConnectionError or TimeoutError.

/** The `details` object of the server's `{"error": {code, message, details}}`. */
export type ErrorDetails = Record<string, unknown>;

export interface QuasmErrorInit {
  /** HTTP status of the answer; 0 when there was none. */
  status: number;
  /** The server's stable `error.code` (e.g. `invalid_request`), or the SDK's own. */
  code: string;
  message: string;
  details?: ErrorDetails | null;
  /** Response headers of the answer, when there was one. */
  headers?: Headers;
  cause?: unknown;
}

/** The base class of every error the SDK throws. */
export class QuasmError extends Error {
  /** HTTP status of the answer; 0 when there was none. */
  readonly status: number;
  /** The server's `error.code`, or the SDK's own code for failures without an answer. */
  readonly code: string;
  /** The server's `error.details` (an empty object when it sent none). */
  readonly details: ErrorDetails;
  /** Response headers, when the server answered. */
  readonly headers: Headers | undefined;

  constructor(init: QuasmErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.headers = init.headers;
  }
}

/** 400 (and 413): the request was refused; `field` names the offending field when the server said. */
export class ValidationError extends QuasmError {
  /** The field the server named in `details.field` (e.g. `limits.memory_mb`), or undefined. */
  readonly field: string | undefined;
  constructor(init: QuasmErrorInit) {
    super(init);
    this.field = typeof this.details["field"] === "string" ? this.details["field"] : undefined;
  }
}

/** 400 `syntax_error`: the function's code does not parse; `line` and `column` say where. */
export class CodeSyntaxError extends ValidationError {
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(init: QuasmErrorInit) {
    super(init);
    this.line = typeof this.details["line"] === "number" ? this.details["line"] : undefined;
    this.column = typeof this.details["column"] === "number" ? this.details["column"] : undefined;
  }
}

/** 401: no credential, or one the server does not accept (expired, wrong key...). */
export class AuthenticationError extends QuasmError {}

/** 403: the credential lacks a role; `requiredRole` names the one the server asked for. */
export class PermissionError extends QuasmError {
  readonly requiredRole: string | undefined;
  constructor(init: QuasmErrorInit) {
    super(init);
    const role = this.details["required_role"];
    this.requiredRole = typeof role === "string" ? role : undefined;
  }
}

/** 404: no such resource in the credential's tenant (or no such endpoint). */
export class NotFoundError extends QuasmError {}

/** 409: the resource exists already, or is in a state that forbids the change. */
export class ConflictError extends QuasmError {}

/** 429: over a rate limit or concurrency quota; `retryAfter` is in seconds. */
export class RateLimitError extends QuasmError {
  /** Seconds to wait, from `Retry-After` (or `details.retry_after_seconds`). */
  readonly retryAfter: number | undefined;
  constructor(init: QuasmErrorInit) {
    super(init);
    const header = init.headers ? parseRetryAfter(init.headers.get("retry-after")) : undefined;
    const detail = this.details["retry_after_seconds"];
    this.retryAfter = header !== undefined ? header / 1000 : typeof detail === "number" ? detail : undefined;
  }
}

/** 5xx: the server failed; its message never carries internal details. */
export class ServerError extends QuasmError {}

/** No answer: the connection failed or dropped (DNS, refused, reset). */
export class ConnectionError extends QuasmError {
  constructor(message: string, cause?: unknown) {
    super({ status: 0, code: "connection_error", message, cause });
  }
}

/** No answer within `timeoutMs`. */
export class TimeoutError extends QuasmError {
  constructor(message: string, cause?: unknown) {
    super({ status: 0, code: "timeout", message, cause });
  }
}

/** The caller's AbortSignal cancelled the request. */
export class AbortError extends QuasmError {
  constructor(message: string, cause?: unknown) {
    super({ status: 0, code: "aborted", message, cause });
  }
}

/** Bad client options (missing or malformed `url`, no credential...), found at construction. */
export class ConfigurationError extends QuasmError {
  /** The option at fault, e.g. `url`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super({ status: 0, code: "invalid_configuration", message, details: { field } });
    this.field = field;
  }
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (value == null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The error class for an answer's status and code. */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers: Headers,
  fallbackMessage: string,
): QuasmError {
  const problem = readProblem(body);
  const init: QuasmErrorInit = {
    status,
    code: problem?.code ?? `http_${status}`,
    message: problem?.message ?? fallbackMessage,
    details: problem?.details ?? null,
    headers,
  };
  if (status === 400 && init.code === "syntax_error") return new CodeSyntaxError(init);
  if (status === 400 || status === 413 || status === 422) return new ValidationError(init);
  if (status === 401) return new AuthenticationError(init);
  if (status === 403) return new PermissionError(init);
  if (status === 404) return new NotFoundError(init);
  if (status === 409) return new ConflictError(init);
  if (status === 429) return new RateLimitError(init);
  if (status >= 500) return new ServerError(init);
  return new QuasmError(init);
}

interface Problem {
  code: string;
  message: string;
  details: ErrorDetails | null;
}

function readProblem(body: unknown): Problem | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message, details } = error as Record<string, unknown>;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  const d = typeof details === "object" && details !== null && !Array.isArray(details) ? (details as ErrorDetails) : null;
  return { code, message, details: d };
}
