import type { GraphQLFormattedError } from "graphql";
import { GraphQLError } from "graphql";
import { AppError, isAppError } from "../errors.js";

/** The body of every REST error: a code, a message a person can read, and safe extras. */
export interface RestErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
}

/** The one place the REST error shape is written (`{ error: { code, message, ...extra } }`). */
export function restError(code: string, message: string, extra: Record<string, unknown> = {}): RestErrorBody {
  return { error: { code, message, ...extra } };
}

/** An AppError as a REST reply: the status its code maps to, and its message and safe details. */
export function restErrorOf(error: AppError): { status: number; body: RestErrorBody } {
  return {
    status: error.httpStatus,
    body: restError(error.code, error.message, error.details ? { details: error.details } : {}),
  };
}

/** The one body every authentication failure gets, whatever the reason: GraphQL and REST. */
export const UNAUTHENTICATED_GRAPHQL_BODY = JSON.stringify({
  errors: [{ message: "Unauthenticated", extensions: { code: "UNAUTHENTICATED" } }],
});
export const UNAUTHENTICATED_REST_BODY = JSON.stringify(restError("UNAUTHENTICATED", "Unauthenticated"));

/** Finds the AppError behind a GraphQL error (resolver throw, or class-validator's argument error). */
function appErrorOf(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let i = 0; i < 5 && current; i++) {
    if (isAppError(current)) return current;
    const name = (current as { name?: string }).name;
    if (name === "ArgumentValidationError") {
      const problems = (
        (current as { extensions?: { validationErrors?: unknown[] } }).extensions?.validationErrors ?? []
      ).flatMap((entry) =>
        Object.values((entry as { constraints?: Record<string, string> }).constraints ?? {}),
      );
      return new AppError("BAD_USER_INPUT", problems.length ? problems.join("; ") : "Invalid input", {
        details: { problems },
      });
    }
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

const PASS_THROUGH_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "BAD_REQUEST",
]);

/**
 * Maps every error to what a client may see: AppErrors with their code; GraphQL's own request
 * errors as they are; anything else masked as INTERNAL_SERVER_ERROR with the request id (the
 * detail goes to the log, never to the client).
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { requestId?: string; onInternal: (error: unknown) => void },
): GraphQLFormattedError {
  const app = appErrorOf(error);
  if (app) {
    return {
      message: app.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: app.code, ...(app.details ? { details: app.details } : {}) },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && PASS_THROUGH_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, extensions: { code } };
  }
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original === undefined && error instanceof GraphQLError && !formatted.path) {
    // A request-level GraphQL error without an underlying exception (e.g. variable coercion).
    return {
      message: formatted.message,
      locations: formatted.locations,
      extensions: { code: code ?? "BAD_USER_INPUT" },
    };
  }
  options.onInternal(original ?? error);
  return {
    message: "Internal server error",
    path: formatted.path,
    extensions: { code: "INTERNAL_SERVER_ERROR", requestId: options.requestId },
  };
}
