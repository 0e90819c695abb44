/**
 * One error type for everything a client may see. The code decides the GraphQL
 * `extensions.code` and the HTTP status, in one place (`httpStatusFor`).
 */
export const ERROR_CODES = [
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
  "QUOTA_EXCEEDED",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RANGE_NOT_SATISFIABLE",
  "URL_NOT_ALLOWED",
  "FETCH_FAILED",
  "MEDIA_REJECTED",
  "PROVIDER_FAILED",
  "TIMEOUT",
  "REQUEST_TIMEOUT",
  "CANCELLED",
  "INTERNAL_SERVER_ERROR",
  "SERVICE_UNAVAILABLE",
  "COST_LIMIT_EXCEEDED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  // 403, not 429: waiting a few seconds does not help (space must be freed, the month roll over
  // or the quota be raised), and 429 invites clients to retry in a loop.
  QUOTA_EXCEEDED: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  URL_NOT_ALLOWED: 400,
  FETCH_FAILED: 502,
  MEDIA_REJECTED: 422,
  PROVIDER_FAILED: 502,
  TIMEOUT: 504,
  // The client went silent mid-request (a stalled upload); TIMEOUT is for what we wait on.
  REQUEST_TIMEOUT: 408,
  CANCELLED: 409,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  COST_LIMIT_EXCEEDED: 400,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Safe, structured details for the client (never secrets, SQL or paths). */
  readonly details?: Record<string, unknown>;
  /** Whether retrying the same operation later may succeed (drives job retries). */
  readonly transient: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; transient?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details;
    this.transient = options.transient ?? false;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

export function httpStatusFor(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export const notFound = (what = "Not found"): AppError => new AppError("NOT_FOUND", what);
export const badInput = (message: string, details?: Record<string, unknown>): AppError =>
  new AppError("BAD_USER_INPUT", message, { details });
