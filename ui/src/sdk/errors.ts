// The error classes of @quasm/sdk's contract (issue 11), chosen from the
// server's `{"error": {code, message, details}}` answer.

export type Details = Record<string, unknown> | null;

export class QuasmError extends Error {
  override name = "QuasmError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: Details,
  ) {
    super(message);
  }
}
export class ValidationError extends QuasmError {
  override name = "ValidationError";
  get field(): string | undefined {
    return typeof this.details?.field === "string" ? this.details.field : undefined;
  }
}
export class CodeSyntaxError extends QuasmError {
  override name = "CodeSyntaxError";
  get line(): number | undefined {
    return typeof this.details?.line === "number" ? this.details.line : undefined;
  }
  get column(): number | undefined {
    return typeof this.details?.column === "number" ? this.details.column : undefined;
  }
}
export class AuthenticationError extends QuasmError {
  override name = "AuthenticationError";
}
export class PermissionError extends QuasmError {
  override name = "PermissionError";
  get requiredRole(): string | undefined {
    return typeof this.details?.required_role === "string" ? this.details.required_role : undefined;
  }
}
export class NotFoundError extends QuasmError {
  override name = "NotFoundError";
}
export class ConflictError extends QuasmError {
  override name = "ConflictError";
}
export class RateLimitError extends QuasmError {
  override name = "RateLimitError";
}
export class ServerError extends QuasmError {
  override name = "ServerError";
}
export class ConnectionError extends QuasmError {
  override name = "ConnectionError";
  constructor(message: string) {
    super(message, 0, "connection_error", null);
  }
}

export function errorFrom(status: number, body: unknown): QuasmError {
  const e = (body as { error?: { code?: string; message?: string; details?: Details } } | null)?.error;
  const code = e?.code ?? `http_${status}`;
  const message = e?.message ?? `HTTP ${status}`;
  const details = e?.details ?? null;
  if (code === "syntax_error") return new CodeSyntaxError(message, status, code, details);
  if (status === 400 || status === 422) return new ValidationError(message, status, code, details);
  if (status === 401) return new AuthenticationError(message, status, code, details);
  if (status === 403) return new PermissionError(message, status, code, details);
  if (status === 404) return new NotFoundError(message, status, code, details);
  if (status === 409) return new ConflictError(message, status, code, details);
  if (status === 429) return new RateLimitError(message, status, code, details);
  if (status >= 500) return new ServerError(message, status, code, details);
  return new QuasmError(message, status, code, details);
}
