import type { GraphQLFormattedError } from "graphql";
import { GraphQLError, Kind } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { isDatabaseUnavailable } from "../db/unavailable.js";
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

/** What a client is told to wait before retrying while the database is unreachable. */
export const RETRY_AFTER_OUTAGE_SECONDS = 5;

/** One failed class-validator rule: where (a dotted path inside the argument) and which rule. */
export interface InputProblem {
  field: string;
  rule: string;
  message: string;
}

interface ValidationErrorLike {
  property?: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

/** Flattens class-validator's error tree into one problem per failed rule, each naming its field. */
export function inputProblems(errors: readonly ValidationErrorLike[], parent = ""): InputProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property ?? "?"}` : (error.property ?? "?");
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => ({ field, rule, message }));
    return [...own, ...inputProblems(error.children ?? [], field)];
  });
}

/** Finds the AppError behind a GraphQL error (resolver throw, class-validator's argument error, an outage). */
function appErrorOf(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let i = 0; i < 5 && current; i++) {
    if (isAppError(current)) return current;
    // Its `name` is GraphQLError's ("GraphQLError"), so only its class tells it apart.
    if (current instanceof ArgumentValidationError) {
      const problems = inputProblems((current.extensions.validationErrors ?? []) as ValidationErrorLike[]);
      const summary = problems.map((problem) => `${problem.field} (${problem.rule}): ${problem.message}`);
      return new AppError(
        "BAD_USER_INPUT",
        summary.length ? `Invalid input: ${summary.join("; ")}` : "Invalid input",
        {
          details: { problems },
        },
      );
    }
    current = (current as { originalError?: unknown }).originalError;
  }
  const unavailable = isDatabaseUnavailable(error);
  return unavailable
    ? new AppError("SERVICE_UNAVAILABLE", "Service unavailable, try again shortly", {
        details: { retryAfterSeconds: RETRY_AFTER_OUTAGE_SECONDS },
      })
    : undefined;
}

/** graphql-js's error for a variable whose value does not fit its type (Apollo calls it BAD_USER_INPUT too). */
function isVariableError(error: unknown): boolean {
  const nodes = error instanceof GraphQLError ? error.nodes : undefined;
  return nodes?.length === 1 && nodes[0]!.kind === Kind.VARIABLE_DEFINITION;
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
    const retryAfterSeconds = app.details?.retryAfterSeconds;
    return {
      message: app.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        code: app.code,
        ...(typeof retryAfterSeconds === "number" ? { retryAfterSeconds } : {}),
        ...(app.details ? { details: app.details } : {}),
      },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && PASS_THROUGH_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, extensions: { code } };
  }
  if (isVariableError(error)) {
    return {
      message: formatted.message,
      locations: formatted.locations,
      extensions: { code: "BAD_USER_INPUT" },
    };
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

/** graphql-js's "Did you mean …?" hints name schema fields; with introspection off they are cut (as Apollo does over HTTP). */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean(.+?)\?$/, "");
}

/** Seconds an AppError asks the client to wait (rate limits, an outage); undefined for others. */
export function retryAfterOf(error: AppError): number | undefined {
  const seconds = error.details?.retryAfterSeconds;
  return typeof seconds === "number" ? seconds : undefined;
}

/**
 * A refusal before execution as a GraphQLError: the AppError stays its original error (so
 * `formatGraphQLError` gives its code and details), and Apollo takes the HTTP status and
 * `Retry-After` from `extensions.http` (and removes them from the body).
 */
export function refusalAsGraphQLError(error: AppError): GraphQLError {
  const retryAfter = retryAfterOf(error);
  const headers = new Map<string, string>();
  if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, http: { status: error.httpStatus, headers } },
  });
}

/** The body of a refusal answered before GraphQL runs (the guard's 401/429/503), GraphQL- or REST-shaped. */
export function refusalBody(error: AppError, format: "graphql" | "rest"): string {
  if (error.code === "UNAUTHENTICATED")
    return format === "graphql" ? UNAUTHENTICATED_GRAPHQL_BODY : UNAUTHENTICATED_REST_BODY;
  const retryAfterSeconds = retryAfterOf(error);
  const extra = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  return format === "graphql"
    ? JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code, ...extra } }] })
    : JSON.stringify(restError(error.code, error.message, extra));
}
